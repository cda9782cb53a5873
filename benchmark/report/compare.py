"""`python -m benchmark compare A B --out DIR`: did A reproduce B?

A is a results folder (its scores.csv); B is another one, or `published` (the published numbers,
benchmark/data/). For every (task, algorithm) both hold: each side's mean final normalised score
with its 95% interval, the difference A - B with its interval, the verdict
(benchmark.report.reproduction) and every way the two sides' protocols differ (scores.csv's protocol
columns, and the runs' hyperparameters, budget and evaluation where both folders kept config.json). Per suite and
algorithm, the same for the IQM over the tasks both ran (folders only: a published table gives no
per-seed scores). Written to DIR: `compare.{csv,md,tex}`, `compare_aggregate.{csv,md,tex}` and the
figure `compare.{png,pdf}` (the differences with their intervals, one row per task and algorithm).

Nothing is written until everything is computed: bad input leaves DIR as it was.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from benchmark import io, paths
from benchmark.errors import BenchmarkError
from benchmark.report import figures, published, reproduction, stage, statistics, tables
from benchmark.report.reproduction import CONSISTENT, DIFFERENT, INCONCLUSIVE
from benchmark.report.statistics import Settings
from benchmark.specs import RunKey

PUBLISHED = "published"  # side B: the published numbers instead of a folder
KEY = stage.KEY  # suite, env, dataset, algorithm
SCORE = "final"  # best is optimistic by construction: a reproduction is judged on final
# scores.csv columns that make two measurements' protocols differ, and those that only say what else differs
PROTOCOL_COLUMNS = {
    "protocol": "protocol",
    "normalizer": "normaliser",
    "train_steps": "training steps",
    "episodes": "final evaluation episodes",
    "pretrained": "pretrained",
}
CONTEXT_COLUMNS = {"dataset_sha256": "data sha256", "git_sha": "code", "preset": "preset"}
# config.json blocks that make two runs' protocols differ beyond scores.csv's columns
CONFIG_BLOCKS = ("hyperparameters", "training", "evaluation", "target_return")
SHAS = ("dataset_sha256", "git_sha")  # shown by their first SHA_DIGITS digits
SHA_DIGITS = 12
COLUMNS = [
    *KEY,
    "against",
    "score",
    "seeds_a",
    "seeds_b",
    "mean_a",
    "low_a",
    "high_a",
    "mean_b",
    "low_b",
    "high_b",
    "difference",
    "difference_low",
    "difference_high",
    "interval",
    "welch_low",
    "welch_high",
    "verdict",
    "verdict_reason",
    "protocol_differences",
    "other_differences",
]
AGGREGATE_COLUMNS = ["suite", "algorithm", "tasks", *COLUMNS[COLUMNS.index("against") :]]
FIGURE = "compare"
TABLES = ("compare", "compare_aggregate")  # the second only between two folders
VERDICT_COLOURS = {CONSISTENT: "#029e73", DIFFERENT: "#d55e00", INCONCLUSIVE: "#949494"}

_iqm = statistics.METRICS["iqm"].compute


def _shown(runs: pd.DataFrame, column: str) -> str:
    digits = SHA_DIGITS if column in SHAS else None
    return ", ".join(sorted({str(value)[:digits] for value in runs[column]}))


def _differences(a: pd.DataFrame, b: pd.DataFrame, columns: dict[str, str]) -> str:
    """`what: A's values / B's values` for each column whose values differ between the two sides' runs."""
    found = [(what, _shown(a, column), _shown(b, column)) for column, what in columns.items()]
    return "; ".join(f"{what}: {x} / {y}" for what, x, y in found if x != y)


def _settings(folder: Path, runs: pd.DataFrame) -> dict[str, str] | None:
    """What the runs' config.json files set (CONFIG_BLOCKS, flattened to `block.key`: JSON text, every
    seed's values joined); None where a run's config.json was not kept (a folder of scores alone)."""
    found: dict[str, set[str]] = {}
    for row in runs[[*KEY, "seed"]].itertuples(index=False):
        path = paths.run_dir(RunKey(**row._asdict()).id, folder) / paths.RUN_CONFIG
        if not path.exists():
            return None
        record = io.read_json(path)
        for block in CONFIG_BLOCKS:
            value = record.get(block)
            items = value.items() if isinstance(value, dict) else [("", value)]
            for key, setting in items:
                found.setdefault(f"{block}.{key}".rstrip("."), set()).add(json.dumps(setting, sort_keys=True))
    return {name: ", ".join(sorted(values)) for name, values in found.items()}


def _setting_differences(folder_a: Path, folder_b: Path, a: pd.DataFrame, b: pd.DataFrame) -> tuple[str, str]:
    """(protocol differences, other differences) of the runs' config.json settings: each setting that
    differs, or that they could not be compared."""
    sides = {"A": _settings(folder_a, a), "B": _settings(folder_b, b)}
    missing = [name for name, found in sides.items() if found is None]
    if missing:
        return "", f"settings not compared ({' and '.join(missing)} kept no runs/<run>/{paths.RUN_CONFIG})"
    x, y = sides["A"] or {}, sides["B"] or {}
    keys = sorted(set(x) | set(y))
    return "; ".join(f"{k}: {x.get(k, 'unset')} / {y.get(k, 'unset')}" for k in keys if x.get(k) != y.get(k)), ""


def _verdict_columns(
    difference: float, low: float, high: float, seeds: tuple[int, int], threshold: float
) -> dict[str, Any]:
    found, reason = reproduction.verdict(difference, low, high, seeds, threshold)
    return {"difference": difference, "difference_low": low, "difference_high": high} | {
        "verdict": found,
        "verdict_reason": reason,
    }


def _side(name: str, mean: float, bounds: tuple[float, float]) -> dict[str, float]:
    return {f"mean_{name}": mean, f"low_{name}": bounds[0], f"high_{name}": bounds[1]}


def compare_folders(
    folders: tuple[Path, Path], a: pd.DataFrame, b: pd.DataFrame, settings: Settings, threshold: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (task, algorithm) both folders' scores.csv (`a`, `b`) hold, then per suite and algorithm
    (IQM over the tasks both ran): the two sides, A - B with its stratified-bootstrap interval, the
    verdict, and what differs (scores.csv's columns, and the runs' config.json where both kept it)."""
    label_b = str(folders[1])
    runs_a, runs_b = dict(tuple(a.groupby(KEY, sort=True))), dict(tuple(b.groupby(KEY, sort=True)))
    common = sorted(set(runs_a) & set(runs_b))
    if not common:
        raise BenchmarkError(f"{label_b}: no (suite, env, dataset, algorithm) in common with the other side")
    sides = {name: statistics.task_intervals(frame, settings).set_index(KEY) for name, frame in (("a", a), ("b", b))}
    rows = []
    for key in common:
        x, y = (runs[key][[f"norm_{SCORE}"]].to_numpy(dtype=float) for runs in (runs_a, runs_b))
        difference = reproduction.bootstrap_difference(x, y, settings.bootstrap_reps, settings.seed, "/".join(key))
        row: dict[str, Any] = dict(zip(KEY, key, strict=True)) | {"against": label_b, "score": SCORE}
        row |= {"seeds_a": len(x), "seeds_b": len(y)}
        for name, side in sides.items():
            cell = side.loc[key]
            row |= _side(name, cell[f"{SCORE}_norm"], (cell[f"{SCORE}_norm_low"], cell[f"{SCORE}_norm_high"]))
        row |= _verdict_columns(*difference, (len(x), len(y)), threshold)
        # Welch's t interval from the same seeds: a check on the bootstrap's, which is narrow at 3 seeds
        summaries = [(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v)) for v in (x, y)]
        _, welch_low, welch_high = reproduction.welch(*summaries)
        row |= {"interval": reproduction.BOOTSTRAP, "welch_low": welch_low, "welch_high": welch_high}
        protocol, unchecked = _setting_differences(*folders, runs_a[key], runs_b[key])
        found = [_differences(runs_a[key], runs_b[key], PROTOCOL_COLUMNS), protocol]
        row |= {"protocol_differences": "; ".join(d for d in found if d)}
        found = [_differences(runs_a[key], runs_b[key], CONTEXT_COLUMNS), unchecked]
        row |= {"other_differences": "; ".join(d for d in found if d)}
        rows.append(row)
    per_task = pd.DataFrame(rows, columns=COLUMNS)
    return per_task, _aggregates(a, b, per_task, settings, threshold)


def _iqm_of(scores: np.ndarray) -> np.ndarray:
    return np.array([_iqm(scores)])


def _aggregates(
    a: pd.DataFrame, b: pd.DataFrame, per_task: pd.DataFrame, settings: Settings, threshold: float
) -> pd.DataFrame:
    """Per suite and algorithm: the IQM over the (env, dataset) tasks both sides ran and every seed
    that ran them all, on each side, and IQM(A) - IQM(B) with its stratified-bootstrap interval."""
    rows = []
    tasks = ["env", "dataset"]
    for (suite, algorithm), compared in per_task.groupby(["suite", "algorithm"], sort=True):
        common = set(compared[tasks].itertuples(index=False, name=None))
        matrices = []
        for frame in (a, b):
            runs = frame[(frame["suite"] == suite) & (frame["algorithm"] == algorithm)]
            runs = runs[[task in common for task in runs[tasks].itertuples(index=False, name=None)]]
            matrices.append(statistics.matrix(runs, f"norm_{SCORE}", tasks, f"{suite}/{algorithm}")[0])
        label = f"{suite}/{algorithm} (IQM)"
        row: dict[str, Any] = {"suite": suite, "algorithm": algorithm, "tasks": len(common), "score": f"IQM {SCORE}"}
        row |= {"seeds_a": matrices[0].shape[0], "seeds_b": matrices[1].shape[0]}
        for name, values in zip("ab", matrices, strict=True):
            point, bounds = statistics.interval(values, _iqm_of, settings.bootstrap_reps, settings.seed, label)
            row |= _side(name, float(point[0]), (float(bounds[0, 0]), float(bounds[1, 0])))
        difference = reproduction.bootstrap_difference(
            *matrices, settings.bootstrap_reps, settings.seed, label, func=_iqm
        )
        row |= _verdict_columns(*difference, (row["seeds_a"], row["seeds_b"]), threshold)
        row |= {"interval": reproduction.BOOTSTRAP, "against": compared["against"].iloc[0]}
        for column in ("protocol_differences", "other_differences"):
            row[column] = "; ".join(sorted({d for d in compared[column] if d}))
        rows.append(row)
    return pd.DataFrame(rows, columns=AGGREGATE_COLUMNS)


def compare_published(results: Path, settings: Settings, threshold: float) -> pd.DataFrame:
    """Per published number with one of ours beside it (benchmark.report.published): both means,
    ours - published with Welch's interval, the verdict, the protocol differences."""
    frame = stage.load_scores(Path(results) / paths.SCORES.name)
    _, facts = stage.load_runs(frame, results)
    task_table = stage.per_task(frame, facts, statistics.task_intervals(frame, settings))
    paper = reproduction.published_verdicts(published.beside_ours(task_table, published.load()), threshold)
    paper = paper[paper["verdict"] != ""]
    if paper.empty:
        raise BenchmarkError(f"{results}: no run beside a published number in a comparable unit")
    return pd.DataFrame(
        {
            **{column: paper[column] for column in KEY},
            "against": paper["source"] + ", " + paper["table"] + " (" + paper["unit"] + ")",
            "score": paper["compared_score"],
            "seeds_a": paper["seeds"].astype(int),
            "seeds_b": paper["published_seeds"].astype("Int64"),
            "mean_a": paper["ours_norm"],
            "low_a": paper["ours_norm_low"],
            "high_a": paper["ours_norm_high"],
            "mean_b": paper["published_norm"],
            "low_b": paper["published_norm_low"],
            "high_b": paper["published_norm_high"],
            "difference": paper["difference"],
            "difference_low": paper["difference_low"],
            "difference_high": paper["difference_high"],
            "interval": reproduction.WELCH,
            "welch_low": paper["difference_low"],
            "welch_high": paper["difference_high"],
            "verdict": paper["verdict"],
            "verdict_reason": paper["verdict_reason"],
            "protocol_differences": paper["differences"],
            "other_differences": [
                "; ".join(text for text in (f"published data: {d}", note) if text)
                for d, note in zip(paper["published_dataset"], paper["published_note"], strict=True)
            ],
        },
        columns=COLUMNS,
    ).reset_index(drop=True)


def _display(table: pd.DataFrame, aggregate: bool, sources: bool) -> pd.DataFrame:
    """The table as shown: A and B are named in its notes; `sources`: the published source of each row."""
    why = "no std or < 2 seeds"
    if aggregate:
        shown = table[["suite", "algorithm"]].assign(tasks=table["tasks"].astype(str))
    else:
        shown = table[KEY].assign(against=table["against"]) if sources else table[KEY].copy()
    shown["score"] = table["score"]
    shown["seeds A / B"] = [
        " / ".join("not stated" if pd.isna(n) else str(n) for n in pair)
        for pair in zip(table["seeds_a"], table["seeds_b"], strict=True)
    ]
    for name in ("a", "b"):
        shown[name.upper()] = [
            tables.estimate(*v, why_no_interval=why)
            for v in table[[f"mean_{name}", f"low_{name}", f"high_{name}"]].itertuples(index=False)
        ]
    shown["A - B [95% CI]"] = [
        tables.estimate(*v, why_no_interval=why)
        for v in table[["difference", "difference_low", "difference_high"]].itertuples(index=False)
    ]
    shown["interval"] = table["interval"]
    if not aggregate:
        shown["Welch's t interval (check)"] = [
            "—" if math.isnan(low) else f"[{low:.1f}, {high:.1f}]"
            for low, high in table[["welch_low", "welch_high"]].itertuples(index=False)
        ]
    shown["verdict"] = reproduction.stated(table["verdict"], table["protocol_differences"])
    shown["why"] = table["verdict_reason"]
    shown["protocol differences (A / B)"] = table["protocol_differences"].replace("", "none")
    shown["also differs"] = table["other_differences"]
    return shown


def _notes(table: pd.DataFrame, label_a: str, label_b: str, settings: Settings, threshold: float) -> list[str]:
    if label_b == PUBLISHED:
        how = (
            "Interval of the difference: Welch's t interval from each side's mean, std and seeds (a published table "
            "gives no per-seed scores); each side's interval: its t interval. Raw published numbers are normalised "
            "with our normaliser; a published `best` is set beside our best, any other beside our final."
        )
    else:
        how = (
            f"Intervals: rliable's stratified bootstrap over each side's seeds ({settings.bootstrap_reps:,} "
            f"replications, seed {settings.seed}), each side resampled on its own. At 3 seeds a side a "
            "percentile bootstrap interval is narrow (it undercovers at so few seeds): Welch's t interval from the "
            "same seeds' mean, std and count is shown beside it as a check; where only the bootstrap's excludes 0, "
            "read `different` as weak."
        )
    return [
        f"A = `{label_a}`, B = `{label_b}`; scores: {SCORE} normalised (0 = random, 100 = the normaliser's "
        "reference), mean over seeds [95% CI].",
        how,
        f"Verdict (practical threshold {threshold:g} normalised points): `{CONSISTENT}` = the difference's interval "
        f"lies within +-{threshold:g}; `{DIFFERENT}` = it excludes 0 and the difference exceeds {threshold:g}; "
        f"`{INCONCLUSIVE}` = fewer than {reproduction.MIN_SEEDS} seeds on a side, no interval, or one too wide "
        f"to decide. Seeded runs repeat exactly only on one CPU model, so a rerun is judged consistent, not equal.",
        f"Protocol differences (A / B) are listed beside every verdict, and a verdict between differing protocols "
        f"says `{reproduction.PROTOCOLS_DIFFER}`: such numbers are not a reproduction of each other, whatever "
        "the verdict. `also differs`: what else differs without changing the protocol (data bytes, code, preset).",
        f"Verdicts: {reproduction.counts(table['verdict'], table['protocol_differences'])}.",
    ]


def figure(
    per_task: pd.DataFrame, aggregate: pd.DataFrame, label_a: str, label_b: str, threshold: float, stem: Path
) -> None:
    """A - B with its interval, one row per task and algorithm (then the aggregates), coloured by
    verdict, with 0 and the practical threshold marked."""
    rows = [
        (f"{r.suite}/{r.env}/{r.dataset} {r.algorithm}" + (f"\n{r.against}" if label_b == PUBLISHED else ""), r)
        for r in per_task.itertuples(index=False)
    ]
    rows += [
        (f"{r.suite} {r.algorithm}: IQM over {r.tasks} task{'s' if r.tasks != 1 else ''}", r)
        for r in aggregate.itertuples(index=False)
    ]
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.32 * len(rows)), layout="constrained")
    ax.axvspan(-threshold, threshold, color="#029e73", alpha=0.08, lw=0)
    ax.axvline(0, color="grey", lw=0.8)
    for y, (_, row) in enumerate(rows):
        colour = VERDICT_COLOURS[row.verdict]
        if not math.isnan(row.difference_low):
            ax.hlines(y, row.difference_low, row.difference_high, color=colour, lw=3, alpha=0.7)
        ax.plot(row.difference, y, "x" if math.isnan(row.difference_low) else "o", color=colour, ms=5)
    if len(aggregate):
        ax.axhline(len(per_task) - 0.5, color="black", lw=0.6)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"{label_a} - {label_b}, {SCORE} normalised score (95% CI; shaded: +-{threshold:g})", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(
        handles=[plt.Line2D([], [], color=c, lw=3, label=v) for v, c in VERDICT_COLOURS.items()],
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=8,
    )
    ax.set_title(f"Did {label_a} reproduce {label_b}?", fontsize=10)
    figures.save(fig, stem)


def outputs(out: Path | str, against_published: bool) -> list[str]:
    """Every file `compare` writes to `out`."""
    names = TABLES[:1] if against_published else TABLES
    files = [f"{name}.{fmt}" for name in names for fmt in paths.TABLE_FORMATS]
    return [str(Path(out) / name) for name in files + [f"{FIGURE}.{fmt}" for fmt in paths.FIGURE_FORMATS]]


def compare(label_a: str, label_b: str, out: Path, settings: Settings, threshold: float) -> pd.DataFrame:
    """Compare results folder `label_a` with folder `label_b` (or the published numbers) and write
    the tables and figure to `out`; returns the per-task comparison."""
    if label_b == PUBLISHED:
        per_task = compare_published(Path(label_a), settings, threshold)
        aggregate = pd.DataFrame(columns=AGGREGATE_COLUMNS)
    else:
        a, b = (stage.load_scores(Path(label) / paths.SCORES.name) for label in (label_a, label_b))
        per_task, aggregate = compare_folders((Path(label_a), Path(label_b)), a, b, settings, threshold)
    title = f"Reproduction: {label_a} (A) against {label_b} (B)"
    tables.write(
        out,
        TABLES[0],
        per_task,
        _display(per_task, aggregate=False, sources=label_b == PUBLISHED),
        f"{title}, per task and algorithm",
        _notes(per_task, label_a, label_b, settings, threshold),
    )
    if label_b != PUBLISHED:
        tables.write(
            out,
            TABLES[1],
            aggregate,
            _display(aggregate, aggregate=True, sources=False),
            f"{title}, IQM per suite and algorithm over the tasks both ran",
            _notes(aggregate, label_a, label_b, settings, threshold),
        )
    figure(per_task, aggregate, label_a, label_b, threshold, out / FIGURE)
    return per_task
