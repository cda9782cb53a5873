"""Statistics of normalised scores, all from rliable (Agarwal et al. 2021, "Deep Reinforcement
Learning at the Edge of the Statistical Precipice"): stratified-bootstrap confidence intervals of
IQM, median, mean and optimality gap, performance profiles, probability of improvement.

Scores stay in normalised points (0 = random, 100 = the normaliser's reference), so the optimality
gap's threshold is 100, not rliable's default 1.

rliable 1.2.0 draws its bootstrap indices from NumPy's global generator (the `random_state` it
passes to arch is not used for them), so every estimate reseeds that generator first: each
number then depends only on its own data and the preset's seed, and a rebuild is byte-identical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from rliable import library, metrics

from benchmark.errors import BenchmarkError

CONFIDENCE = 0.95
REFERENCE = 100.0  # a normalised score of 100 is the reference (gamer, D4RL expert)
SCORES = ("final", "best")  # final: last evaluation; best: best evaluation (optimistic)


@dataclass(frozen=True)
class Metric:
    compute: Callable[[np.ndarray], float]  # (runs x tasks) normalised scores -> the aggregate
    title: str  # its name in figures


# The aggregate metrics, in the order of every table and figure; the key names their columns.
METRICS: dict[str, Metric] = {
    "iqm": Metric(metrics.aggregate_iqm, "IQM"),
    "median": Metric(metrics.aggregate_median, "median"),
    "mean": Metric(metrics.aggregate_mean, "mean"),
    "optimality_gap": Metric(
        partial(metrics.aggregate_optimality_gap, gamma=REFERENCE), "optimality gap\n(lower is better)"
    ),
}
PROFILE_POINTS = 101

log = logging.getLogger(__name__)
logging.getLogger("absl").setLevel(logging.WARNING)  # rliable logs a line per estimate at INFO


def in_family(algorithm: str, focus: str) -> bool:
    """The method under study itself (`focus`) or one of its ablations (`<focus>-<variant>`);
    every other algorithm is a baseline."""
    return algorithm == focus or algorithm.startswith(f"{focus}-")


@dataclass(frozen=True)
class Settings:
    """The preset's `report:` block (method under study, bootstrap replications, seed)."""

    focus: str  # the method under study: its probability of improvement, its colour family
    bootstrap_reps: int  # aggregates, per-task intervals, probability of improvement
    profile_bootstrap_reps: int  # performance profiles and learning-curve bands
    seed: int

    @classmethod
    def from_preset(cls, block: Mapping[str, Any]) -> Settings:
        missing = [field.name for field in fields(cls) if field.name not in block]
        if missing:
            raise BenchmarkError(f"config key 'report.{missing[0]}': missing from the report settings")
        return cls(
            focus=str(block["focus"]),
            bootstrap_reps=int(block["bootstrap_reps"]),
            profile_bootstrap_reps=int(block["profile_bootstrap_reps"]),
            seed=int(block["seed"]),
        )


def interval(
    scores: np.ndarray | list[np.ndarray], func: Callable[..., np.ndarray], reps: int, seed: int, label: str
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate of `func` and its 95% stratified-bootstrap interval (rows: low, high).

    `scores` is a (runs x tasks) matrix, or a list of them for a statistic of several algorithms
    (each resampled on its own). With fewer than 2 runs there is nothing to resample: the interval
    is NaN (benchmark.report says so once for all such tasks).
    """
    arrays = scores if isinstance(scores, list) else [scores]
    point = np.atleast_1d(func(*arrays))
    if min(array.shape[0] for array in arrays) < 2:
        log.debug("%s: 1 seed, no confidence interval", label)
        return point, np.full((2, point.size), np.nan)
    np.random.seed(seed)
    _, intervals = library.get_interval_estimates({label: scores}, func, reps=reps, confidence_interval_size=CONFIDENCE)
    return point, intervals[label]


def matrix(runs: pd.DataFrame, value: str, tasks: list[str], label: str) -> tuple[np.ndarray, list[Any]]:
    """(seeds x tasks) matrix of `value`, and its task names; a seed missing a task is left out
    (rliable needs every run to cover every task; benchmark.report says so once)."""
    table = runs.pivot(index="seed", columns=tasks, values=value)
    complete = table.dropna()
    if len(complete) < len(table):
        dropped = sorted(set(table.index) - set(complete.index))
        log.debug("%s: seeds %s lack some tasks and are left out", label, dropped)
    return complete.to_numpy(dtype=float), list(complete.columns)


def _all_metrics(scores: np.ndarray) -> np.ndarray:
    return np.array([metric.compute(scores) for metric in METRICS.values()])


def _columns(name: str, point: float, bounds: np.ndarray) -> dict[str, float]:
    return {name: float(point), f"{name}_low": float(bounds[0]), f"{name}_high": float(bounds[1])}


def aggregates(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per suite x dataset x algorithm x score kind: IQM, median, mean and optimality gap over
    the dataset's envs (tasks) and seeds (runs), each with its interval."""
    rows = []
    for (suite, dataset, algorithm), runs in scores.groupby(["suite", "dataset", "algorithm"], sort=True):
        for score in SCORES:
            label = f"{suite}/{dataset}/{algorithm} ({score})"
            values, tasks = matrix(runs, f"norm_{score}", ["env"], label)
            point, bounds = interval(values, _all_metrics, settings.bootstrap_reps, settings.seed, label)
            row: dict[str, Any] = {
                "suite": suite,
                "dataset": dataset,
                "algorithm": algorithm,
                "score": score,
                "tasks": len(tasks),
                "seeds": values.shape[0],
            }
            for i, name in enumerate(METRICS):
                row |= _columns(name, point[i], bounds[:, i])
            rows.append(row)
    return pd.DataFrame(rows)


def _mean_per_task(scores: np.ndarray) -> np.ndarray:
    return np.mean(scores, axis=0)


def task_intervals(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per suite x env x dataset x algorithm: the mean normalised final and best score over seeds
    and its interval."""
    rows = []
    for key, runs in scores.groupby(["suite", "env", "dataset", "algorithm"], sort=True):
        row: dict[str, Any] = dict(zip(["suite", "env", "dataset", "algorithm"], key, strict=True))
        for score in SCORES:
            label = f"{'/'.join(key)} ({score})"
            values = runs[[f"norm_{score}"]].to_numpy(dtype=float)
            point, bounds = interval(values, _mean_per_task, settings.bootstrap_reps, settings.seed, label)
            row |= _columns(f"{score}_norm", point[0], bounds[:, 0])
        rows.append(row)
    return pd.DataFrame(rows)


def _profile(taus: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """rliable's score distribution at `taus`: the fraction of runs (all tasks) scoring above each."""
    return lambda scores: library.score_distributions(scores, taus)


def profiles(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Performance profiles per suite and score kind: the fraction of runs (over every env and
    dataset of the suite) scoring above tau, with intervals, at PROFILE_POINTS values of tau."""
    rows = []
    for suite, suite_runs in scores.groupby("suite", sort=True):
        for score in SCORES:
            column = f"norm_{score}"
            low, high = suite_runs[column].min(), suite_runs[column].max()
            pad = 0.05 * max(high - low, 1.0)
            taus = np.linspace(low - pad, high + pad, PROFILE_POINTS)
            for algorithm, runs in suite_runs.groupby("algorithm", sort=True):
                label = f"{suite}/{algorithm} ({score})"
                values, _ = matrix(runs, column, ["env", "dataset"], label)
                point, bounds = interval(values, _profile(taus), settings.profile_bootstrap_reps, settings.seed, label)
                rows.append(
                    pd.DataFrame(
                        {"suite": suite, "score": score, "algorithm": algorithm, "tau": taus}
                        | {"fraction": point, "low": bounds[0], "high": bounds[1]}
                    )
                )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array([metrics.probability_of_improvement(x, y)])


def _improvement(
    runs: pd.DataFrame, x_name: str, y_name: str, score: str, settings: Settings, label: str
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Both algorithms' (seeds x tasks) matrices of the score on `runs`' tasks, and P(x > y) with its interval."""
    x, _ = matrix(runs[runs["algorithm"] == x_name], f"norm_{score}", ["env", "dataset"], label)
    y, _ = matrix(runs[runs["algorithm"] == y_name], f"norm_{score}", ["env", "dataset"], label)
    point, bounds = interval([x, y], _probability_of_improvement, settings.bootstrap_reps, settings.seed, label)
    return x, y, _columns("probability", point[0], bounds[:, 0])


def improvements(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """P(focus > baseline) per suite, score kind and baseline (an algorithm outside the focus
    family), over the (env, dataset) tasks both ran; empty when the results hold no focus runs."""
    focus = settings.focus
    task = ["env", "dataset"]
    rows = []
    for suite, suite_runs in scores.groupby("suite", sort=True):
        ran = {a: set(runs[task].itertuples(index=False, name=None)) for a, runs in suite_runs.groupby("algorithm")}
        if focus not in ran:
            continue
        for baseline in sorted(a for a in ran if not in_family(a, focus)):
            common = ran[focus] & ran[baseline]
            if not common:
                continue
            on_common = suite_runs[[t in common for t in suite_runs[task].itertuples(index=False, name=None)]]
            for score in SCORES:
                x, y, probability = _improvement(
                    on_common, focus, baseline, score, settings, f"{suite}: {focus} vs {baseline} ({score})"
                )
                rows.append(
                    {"suite": suite, "score": score, "algorithm": focus, "baseline": baseline}
                    | {"tasks": len(common), "seeds": x.shape[0], "baseline_seeds": y.shape[0]}
                    | probability
                )
    columns = ["suite", "score", "algorithm", "baseline", "tasks", "seeds", "baseline_seeds"]
    return pd.DataFrame(rows, columns=[*columns, "probability", "probability_low", "probability_high"])


def ablations(scores: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """P(focus > ablation) per task (suite, env, dataset) and score kind, for each of the focus's
    ablations (`<focus>-<variant>`) run on the task beside it; above 0.5, the part the ablation
    changes helps there. With each side's mean normalised score."""
    focus = settings.focus
    rows = []
    for (suite, env, dataset), runs in scores.groupby(["suite", "env", "dataset"], sort=True):
        ran = set(runs["algorithm"])
        if focus not in ran:
            continue
        for ablation in sorted(a for a in ran if a != focus and in_family(a, focus)):
            for score in SCORES:
                x, y, probability = _improvement(
                    runs, focus, ablation, score, settings, f"{suite}/{env}/{dataset}: {focus} vs {ablation} ({score})"
                )
                rows.append(
                    {"suite": suite, "env": env, "dataset": dataset, "score": score, "algorithm": focus}
                    | {"ablation": ablation, "seeds": x.shape[0], "ablation_seeds": y.shape[0]}
                    | {"mean": float(x.mean()), "ablation_mean": float(y.mean())}
                    | probability
                )
    columns = ["suite", "env", "dataset", "score", "algorithm", "ablation", "seeds", "ablation_seeds", "mean"]
    return pd.DataFrame(rows, columns=[*columns, "ablation_mean", "probability", "probability_low", "probability_high"])


def learning_curves(evaluations: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per suite x env x dataset x algorithm and checkpoint: the mean over seeds of the normalised
    return (each seed's mean over its evaluation episodes), with its interval. Checkpoints that not
    every seed reached are left out."""
    key = ["suite", "env", "dataset", "algorithm"]
    per_checkpoint = evaluations.groupby([*key, "seed", "train_step"], as_index=False)["norm"].mean()
    rows = []
    for group, runs in per_checkpoint.groupby(key, sort=True):
        label = "/".join(group) + " (learning curve)"
        values = runs.pivot(index="seed", columns="train_step", values="norm").dropna(axis="columns")
        point, bounds = interval(
            values.to_numpy(dtype=float), _mean_per_task, settings.profile_bootstrap_reps, settings.seed, label
        )
        curve = dict(zip(key, group, strict=True)) | {"train_step": values.columns, "seeds": len(values)}
        rows.append(pd.DataFrame(curve | {"norm": point, "low": bounds[0], "high": bounds[1]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
