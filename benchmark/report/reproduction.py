"""Did it reproduce? The verdict on two measurements of one (task, algorithm), in normalised points.

The difference of the two means gets a 95% interval: rliable's stratified bootstrap over seeds
(benchmark.report.statistics) where both sides have per-seed scores; Welch's t interval from mean,
std and seed count where a side (a published table) gives only those. Then:

- `consistent`: the interval lies within +-THRESHOLD (any difference there is too small to matter);
- `different`: the interval excludes 0 and the difference exceeds THRESHOLD;
- `inconclusive`: fewer than MIN_SEEDS seeds on a side, no spread to build an interval from, or
  an interval too wide to decide (it reaches beyond +-THRESHOLD without settling it).

Equality is the wrong test across machines (seeded runs repeat exactly only on one CPU model),
so two reruns of one protocol are expected to be `consistent`, not equal. A verdict never stands
alone: two sides whose protocols differ say so beside it (`stated`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from benchmark import scores
from benchmark.report import statistics

# A difference smaller than this is one no reader of a benchmark table would act on: a tenth of the
# gap between a random policy (0) and the reference (100); seed-to-seed spreads of offline RL on
# D4RL tasks are of this order. In normalised points, on every suite.
THRESHOLD = 10.0
MIN_SEEDS = 3  # below 3 seeds a bootstrap (or t) interval says little about the spread
CONSISTENT, DIFFERENT, INCONCLUSIVE = "consistent", "different", "inconclusive"
VERDICTS = (CONSISTENT, DIFFERENT, INCONCLUSIVE)
BOOTSTRAP, WELCH = "stratified bootstrap", "Welch"
PROTOCOLS_DIFFER = "protocols differ"


def verdict(difference: float, low: float, high: float, seeds: tuple[int, int], threshold: float) -> tuple[str, str]:
    """The verdict on a difference and its interval, with its reason in words."""
    if min(seeds) < MIN_SEEDS:
        return INCONCLUSIVE, f"too few seeds ({seeds[0]} and {seeds[1]}; {MIN_SEEDS} needed on each side)"
    if math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE, "no spread to build an interval from"
    if (low > 0 or high < 0) and abs(difference) > threshold:
        return DIFFERENT, f"the interval excludes 0 and the difference exceeds {threshold:g}"
    if -threshold <= low and high <= threshold:
        return CONSISTENT, f"the interval lies within +-{threshold:g}"
    if low <= 0 <= high:
        return INCONCLUSIVE, f"the interval is too wide: it reaches beyond +-{threshold:g}"
    return INCONCLUSIVE, f"a difference under {threshold:g} whose interval reaches beyond +-{threshold:g}"


def stated(verdicts: pd.Series, protocol_differences: pd.Series) -> list[str]:
    """Each verdict as shown: followed by `protocols differ` wherever the two protocols do."""
    return [v if not d else f"{v} ({PROTOCOLS_DIFFER})" for v, d in zip(verdicts, protocol_differences, strict=True)]


def counts(verdicts: pd.Series, protocol_differences: pd.Series) -> str:
    """`n consistent, n different, n inconclusive (n of them between differing protocols)`; rows
    without a verdict (empty) are not counted."""
    judged = verdicts.isin(VERDICTS)
    found = verdicts[judged].value_counts()
    differing = int((protocol_differences[judged] != "").sum())
    return ", ".join(f"{found.get(v, 0)} {v}" for v in VERDICTS) + f" ({differing} between differing protocols)"


def _difference_of_means(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean(x, axis=0) - np.mean(y, axis=0)


def bootstrap_difference(
    a: np.ndarray, b: np.ndarray, reps: int, seed: int, label: str, func: Callable[[np.ndarray], float] | None = None
) -> tuple[float, float, float]:
    """`func(a) - func(b)` (default: the means) of two (seeds x tasks) matrices, each side resampled
    over its own seeds (rliable's stratified bootstrap), and its interval."""
    difference = _difference_of_means if func is None else lambda x, y: np.array([func(x) - func(y)])
    point, bounds = statistics.interval([a, b], difference, reps, seed, label)
    return float(point[0]), float(bounds[0, 0]), float(bounds[1, 0])


def t_interval(mean: float, std: float, seeds: float) -> tuple[float, float]:
    """The 95% t interval of a mean from its std over `seeds` seeds; NaN without a std or 2 seeds."""
    if math.isnan(std) or math.isnan(seeds) or seeds < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + statistics.CONFIDENCE / 2, seeds - 1) * std / math.sqrt(seeds)
    return mean - half, mean + half


def welch(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    """Welch's interval of mean_a - mean_b from (mean, std, seeds) of each side (written out here:
    scipy's Welch test needs the samples or gives no interval from summaries); NaN bounds when a
    side lacks a std or 2 seeds."""
    (mean_a, std_a, n_a), (mean_b, std_b, n_b) = a, b
    difference = mean_a - mean_b
    if any(math.isnan(v) for v in (std_a, n_a, std_b, n_b)) or min(n_a, n_b) < 2:
        return difference, math.nan, math.nan
    var_a, var_b = std_a**2 / n_a, std_b**2 / n_b
    error = math.sqrt(var_a + var_b)
    if error == 0:
        return difference, difference, difference
    dof = (var_a + var_b) ** 2 / (var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1))
    half = stats.t.ppf(0.5 + statistics.CONFIDENCE / 2, dof) * error
    return difference, difference - half, difference + half


def published_verdicts(paper: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """The paper-vs-reproduced table (benchmark.report.published.beside_ours) with, for each row with
    a number on both sides, both means in normalised points with their t intervals, Welch's interval
    of ours - published, and the verdict; rows without a pair get none (NaN, empty verdict).

    A raw published number is normalised with our run's normaliser (the same linear map for both
    sides); a published `best` is set beside our best, any other beside our final.
    """
    rows = []
    for row in paper.to_dict("records"):
        ours_score = "best" if row["published_score"] == "best" else "final"
        ours = (row[f"{ours_score}_mean"], row[f"{ours_score}_std"], row["seeds"])
        theirs = (row["published_mean"], row["published_std"], row["published_seeds"])
        if pd.isna(ours[0]) or pd.isna(theirs[0]):
            rows.append({"compared_score": "", "verdict": "", "verdict_reason": ""})
            continue
        if row["unit"] == "raw":
            ours, theirs = _normalised(row["suite"], row["env"], ours), _normalised(row["suite"], row["env"], theirs)
        ours, theirs = tuple(map(float, ours)), tuple(map(float, theirs))
        difference, low, high = welch(ours, theirs)
        seeds = (int(ours[2]), 0 if math.isnan(theirs[2]) else int(theirs[2]))
        if math.isnan(theirs[1]):
            found, reason = INCONCLUSIVE, "the published number has no std"
        else:
            found, reason = verdict(difference, low, high, seeds, threshold)
        rows.append(
            {"compared_score": ours_score, "ours_norm": ours[0], "published_norm": theirs[0]}
            | dict(zip(["ours_norm_low", "ours_norm_high"], t_interval(*ours), strict=True))
            | dict(zip(["published_norm_low", "published_norm_high"], t_interval(*theirs), strict=True))
            | {"difference": difference, "difference_low": low, "difference_high": high}
            | {"verdict": found, "verdict_reason": reason}
        )
    columns = ["compared_score", "ours_norm", "ours_norm_low", "ours_norm_high", "published_norm"]
    columns += ["published_norm_low", "published_norm_high", "difference", "difference_low", "difference_high"]
    added = pd.DataFrame(rows, index=paper.index, columns=[*columns, "verdict", "verdict_reason"])
    return pd.concat([paper, added.astype({"verdict": str, "verdict_reason": str, "compared_score": str})], axis=1)


def _normalised(suite: str, env: str, measured: tuple[float, float, float]) -> tuple[float, float, float]:
    """(mean, std, seeds) of raw returns in normalised points: the std scales, it does not shift."""
    normalize = scores.normalizer(suite, env)
    mean, std, seeds = measured
    return normalize(mean), std * 100.0 / (normalize.high - normalize.low), seeds
