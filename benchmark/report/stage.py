"""The report stage: every table and figure from results/ alone.

It reads results/scores.csv and, for each of its runs, results/runs/<run>/{eval.csv,config.json}
and its diagnostics.json where it has one (the data's behaviour, the reference row and line, comes
from config.json too); never a dataset or a checkpoint, so it runs on a fresh clone. Tables go to
results/tables/ (CSV, Markdown, LaTeX), figures to results/figures/ (PNG, PDF).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark import compat, paths, scores
from benchmark.compat import NOT_RECORDED
from benchmark.errors import BenchmarkError
from benchmark.paths import Figure, Table
from benchmark.report import diagnostics, figures, ladder, published, reproduction, statistics, tables
from benchmark.report.statistics import SCORES, Settings
from benchmark.specs import RunKey, RunRecord

KEY = scores.RUN_KEY[:-1]  # a cell of the grid: every seed of one (task, dataset, algorithm)
NORMALISERS = {scores.ATARI_GAMER: "100 = the DT paper's gamer score", scores.D4RL: "100 = D4RL's expert score"}
BEST_NOTE = (
    "final = the last evaluation; best = the best evaluation (max over checkpoints of the mean return), "
    "optimistic by construction and never a substitute for final."
)
INPUTS_NOTE = (
    "inputs: what the algorithm reads (config.json): state (the MuJoCo state vector), pixels (Atari's frames, or "
    f"rendered MuJoCo states), pixels+text, text; {NOT_RECORDED}: runs made before config.json held it."
)

log = logging.getLogger(__name__)


def load_scores(path: Path = paths.SCORES) -> pd.DataFrame:
    if not Path(path).exists():
        raise BenchmarkError(f"{path}: not found; the aggregate stage writes it")
    frame = pd.read_csv(path, dtype={"pretrained": str, "protocol": str, "git_sha": str})
    missing = [column for column in scores.COLUMNS if column not in frame.columns]
    if missing:
        raise BenchmarkError(f"{path}: missing column {missing[0]!r}")
    if frame.empty:
        raise BenchmarkError(f"{path}: no runs to report")
    scores.read_numbers(path, scores.NUMERIC_COLUMNS)  # each a finite number (one line naming column and row)
    return frame


def _run_facts(record: RunRecord) -> dict[str, Any]:
    """What the paper-vs-reproduced and provenance tables need from a run's config.json."""
    dataset = record.spec.dataset
    provenance = record.provenance
    return {
        "data_source": dataset.source,
        "generator": dataset.options.get("generator"),
        "transitions": compat.dataset_transitions(record.dataset_transitions, dataset.options),
        "batch_size": record.spec.budget.batch_size,
        "inputs": compat.inputs(record.inputs),
        "python": provenance["python"],
        "packages": ", ".join(f"{k} {v}" for k, v in provenance["packages"].items()),
        "machine": f"{provenance['machine']['cpus']} CPUs, {provenance['machine']['platform']}",
        **_behaviour_facts(record.behaviour),
    }


def _behaviour_facts(recorded: dict[str, Any] | None) -> dict[str, Any]:
    """The data's behaviour policy as the run recorded it from the dataset's card; runs made
    before it was recorded (and cards without a normalised return) leave NaN: "not recorded"."""
    behaviour = compat.behaviour(recorded)
    norm = behaviour["normalized_return"]
    return {
        "behaviour": behaviour["description"],
        "behaviour_return": float(behaviour["episode_return_mean"]),
        "behaviour_norm": math.nan if norm is None else float(norm),
    }


def load_runs(frame: pd.DataFrame, results: Path = paths.RESULTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every evaluation episode of the runs in `results`' scores.csv (with its normalised return),
    and each run's facts from its config.json."""
    episodes, facts = [], []
    for row in frame[[*KEY, "seed"]].itertuples(index=False):
        folder = paths.run_dir(RunKey(**row._asdict()).id, results)
        for name in (paths.EVALUATIONS, paths.RUN_CONFIG):
            if not (folder / name).exists():
                raise BenchmarkError(
                    f"{folder / name}: missing; every run in {Path(results) / paths.SCORES.name} needs it"
                )
        key = row._asdict()
        record = RunRecord.read(folder)
        evaluations = scores.read_evaluations(folder / paths.EVALUATIONS, record.spec)[["train_step", "return"]]
        normalize = scores.normalizer(row.suite, row.env)
        episodes.append(evaluations.assign(**key, norm=normalize(evaluations["return"])))
        facts.append(key | _run_facts(record))
    return pd.concat(episodes, ignore_index=True), pd.DataFrame(facts).astype({"transitions": "Int64"})


def _joined(values: pd.Series) -> str:
    return ", ".join(map(str, sorted(set(values))))


def per_task(frame: pd.DataFrame, facts: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """Per suite x env x dataset x algorithm: mean and std over seeds of the raw and normalised,
    final and best scores, the normalised means' intervals, and what the runs were."""
    stats: dict[str, tuple[str, Any]] = {"seeds": ("seed", "nunique")}
    for score in SCORES:
        for kind in ("raw", "norm"):
            stats |= {f"{score}_{kind}_{s}": (f"{kind}_{score}", s) for s in ("mean", "std")}
    stats |= {
        "train_steps": ("train_steps", "max"),
        "eval_episodes": ("episodes", "max"),
        "normalizer": ("normalizer", _joined),
        "pretrained": ("pretrained", _joined),  # verbatim: MORE-3S names each component
        "protocol": ("protocol", _joined),
        "preset": ("preset", _joined),
    }
    table = frame.groupby(KEY, sort=True).agg(**stats).reset_index()
    run_facts = facts.groupby(KEY).agg(
        inputs=("inputs", _joined),
        batch_size=("batch_size", "max"),
        data_source=("data_source", "first"),
        generator=("generator", "first"),
        transitions=("transitions", "first"),
    )
    bounds = intervals.drop(columns=[f"{score}_norm" for score in SCORES])
    return table.merge(run_facts.reset_index(), on=KEY).merge(bounds, on=KEY)


def behaviours(facts: pd.DataFrame) -> pd.DataFrame:
    """Per suite x env x dataset: the data's behaviour policy (description, mean episode return,
    normalised) as its runs recorded it from the dataset's card; NaN where none did."""
    return (
        facts.groupby(["suite", "env", "dataset"], sort=True)
        .agg(
            behaviour=("behaviour", "first"),
            behaviour_return=("behaviour_return", "first"),
            behaviour_norm=("behaviour_norm", "first"),
        )
        .reset_index()
    )


def with_behaviour(tasks: pd.DataFrame, behaviour: pd.DataFrame) -> pd.DataFrame:
    """The per-task table with a row per task for the data's behaviour policy, first in its task:
    its mean episode return, raw and normalised, as both final and best (a reference for both),
    and its description (column `behaviour`)."""
    rows = behaviour[["suite", "env", "dataset"]].assign(algorithm=figures.BEHAVIOUR_LABEL)
    for score in SCORES:
        rows[f"{score}_raw_mean"] = behaviour["behaviour_return"]
        rows[f"{score}_norm_mean"] = behaviour["behaviour_norm"]
    rows["behaviour"] = behaviour["behaviour"].fillna(NOT_RECORDED)
    table = pd.concat([rows, tasks], ignore_index=True).sort_values(["suite", "env", "dataset"], kind="stable")
    counts = ["seeds", "train_steps", "eval_episodes", "batch_size", "transitions"]
    return table[[*tasks.columns, "behaviour"]].astype(dict.fromkeys(counts, "Int64")).reset_index(drop=True)


def _recorded(value: float) -> str:
    return NOT_RECORDED if math.isnan(value) else f"{value:.1f}"


# The per-task display's score columns: (score, kind, header).
_SHOWN_SCORES = [
    (score, kind, f"{score}, {label}") for score in SCORES for kind, label in (("norm", "normalised"), ("raw", "raw"))
]


def _per_task_display(table: pd.DataFrame) -> pd.DataFrame:
    runs = table[table["algorithm"] != figures.BEHAVIOUR_LABEL]
    shown = runs[[*KEY, "inputs", "seeds"]].astype({"seeds": str})
    for score, kind, header in _SHOWN_SCORES:
        shown[header] = [
            tables.mean_std(m, s)
            for m, s in zip(runs[f"{score}_{kind}_mean"], runs[f"{score}_{kind}_std"], strict=True)
        ]
    shown["budget"] = [f"{s:,} steps x {b}" for s, b in zip(runs["train_steps"], runs["batch_size"], strict=True)]
    shown["eval episodes"] = runs["eval_episodes"].astype(str)
    shown = shown.assign(pretrained=runs["pretrained"], protocol=runs["protocol"])
    data = table[table["algorithm"] == figures.BEHAVIOUR_LABEL]
    reference = data[KEY].assign(**dict.fromkeys(shown.columns[len(KEY) :], "—"))
    for score, kind, header in _SHOWN_SCORES:
        reference[header] = data[f"{score}_{kind}_mean"].map(_recorded)
    return pd.concat([shown, reference]).loc[table.index]


def _behaviour_notes(behaviour: pd.DataFrame) -> list[str]:
    recorded = behaviour.dropna(subset=["behaviour"])
    about = (
        f"`{figures.BEHAVIOUR_LABEL}`: the policy that made each dataset, its mean episode return over the dataset "
        "(the dataset's card, as each run recorded it), shown under final and best alike: a reference, not a run. "
        f"{NOT_RECORDED.capitalize()}: runs made before config.json held it, or a card without a normalised return "
        "(DQN-Replay's clipped rewards are no game score)."
    )
    described = "; ".join(
        f"{suite}/{env}/{dataset}: {text}"
        for suite, env, dataset, text in recorded[["suite", "env", "dataset", "behaviour"]].itertuples(index=False)
    )
    return [about, f"Behaviour of the data: {described}." if described else "Behaviour of the data: not recorded."]


def _normaliser_note(frame: pd.DataFrame) -> str:
    used = frame.groupby("suite")["normalizer"].first()
    described = ", ".join(
        f"{suite}: `{name}` ({NORMALISERS.get(name, 'see benchmark/scores.py')})" for suite, name in used.items()
    )
    return f"Normalised scores: 0 = random; {described}."


def _aggregate_display(table: pd.DataFrame) -> pd.DataFrame:
    shown = table[["suite", "dataset", "algorithm", "score"]].copy()
    shown["tasks x seeds"] = [f"{t} x {s}" for t, s in zip(table["tasks"], table["seeds"], strict=True)]
    for metric in statistics.METRICS:
        shown[metric.replace("_", " ")] = [
            tables.estimate(*values)
            for values in table[[metric, f"{metric}_low", f"{metric}_high"]].itertuples(index=False)
        ]
    return shown


def _improvement_display(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "suite": table["suite"],
            "score": table["score"],
            "comparison": [f"{a} > {b}" for a, b in zip(table["algorithm"], table["baseline"], strict=True)],
            "tasks": table["tasks"],
            "seeds": [f"{a} / {b}" for a, b in zip(table["seeds"], table["baseline_seeds"], strict=True)],
            "probability": [
                tables.estimate(*v, digits=2)
                for v in table[["probability", "probability_low", "probability_high"]].itertuples(index=False)
            ],
        }
    )


def _ablation_display(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": [f"{s}/{e}/{d}" for s, e, d in zip(table["suite"], table["env"], table["dataset"], strict=True)],
            "score": table["score"],
            "comparison": [f"{a} > {b}" for a, b in zip(table["algorithm"], table["ablation"], strict=True)],
            "seeds": [f"{a} / {b}" for a, b in zip(table["seeds"], table["ablation_seeds"], strict=True)],
            "means": [f"{a:.1f} / {b:.1f}" for a, b in zip(table["mean"], table["ablation_mean"], strict=True)],
            "probability": [
                tables.estimate(*v, digits=2)
                for v in table[["probability", "probability_low", "probability_high"]].itertuples(index=False)
            ],
        }
    )


def _paper_display(table: pd.DataFrame) -> pd.DataFrame:
    def published_value(row: pd.Series) -> str:
        about = [row["published_score"]] if row["published_score"] != "unstated" else []
        about += [f"{int(row['published_seeds'])} seeds"] if pd.notna(row["published_seeds"]) else []
        value = tables.mean_std(row["published_mean"], row["published_std"])
        return f"{value} ({', '.join(about)})" if about else value

    def ours(row: pd.Series, score: str) -> str:
        if pd.isna(row["seeds"]):
            return "—"
        return f"{tables.mean_std(row[f'{score}_mean'], row[f'{score}_std'])} ({int(row['seeds'])} seeds)"

    return pd.DataFrame(
        {
            "suite": table["suite"],
            "env": table["env"],
            "algorithm": [
                f"{p} ({o})" if o else p for p, o in zip(table["published_algorithm"], table["algorithm"], strict=True)
            ],
            "source": table["source"] + ", " + table["table"],
            "dataset: published / ours": table["published_dataset"] + " / " + table["dataset"].fillna("—"),
            "unit": table["unit"],
            "published": [published_value(row) for _, row in table.iterrows()],
            "ours, final": [ours(row, "final") for _, row in table.iterrows()],
            "ours, best": [ours(row, "best") for _, row in table.iterrows()],
            "ours - published [95% CI]": [
                tables.estimate(*v, why_no_interval="no published std") if pd.notna(v[0]) else "—"
                for v in table[["difference", "difference_low", "difference_high"]].itertuples(index=False)
            ],
            "verdict": [
                s if v else "—"
                for v, s in zip(
                    table["verdict"], reproduction.stated(table["verdict"], table["differences"]), strict=True
                )
            ],
            "differences from the published protocol": table["differences"],
            "published note": table["published_note"],
        }
    )


def _paper_notes(table: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    compared = table[table["seeds"].notna()]
    like_for_like = int((compared["differences"] == "").sum())
    presets = ", ".join(f"`{p}`" for p in sorted(frame["preset"].unique()))
    unpublished = sorted(set(frame["algorithm"]) - set(published.PUBLISHED_ALGORITHMS.values()))
    sources = sorted(set(zip(table["source"], table["url"], strict=True)))
    notes = [
        f"Ours: preset {presets}. Each row names every way our protocol differs from the published one, computed "
        f"from the runs' config.json; {like_for_like} of the {len(compared)} rows with a number of ours are like "
        "for like (no difference). A number with a difference is not a reproduction of the published one.",
        "Units: raw returns beside raw, normalised beside normalised with the same normaliser. " + BEST_NOTE,
        f"Verdicts ({reproduction.counts(table['verdict'], table['differences'])}): "
        "ours - published in normalised points (raw numbers normalised with "
        f"our normaliser) with Welch's 95% interval from both sides' mean, std and seeds; `consistent` = the "
        f"interval lies within +-{reproduction.THRESHOLD:g}, `different` = it excludes 0 and the difference exceeds "
        f"{reproduction.THRESHOLD:g}, `inconclusive` = no published std, fewer than {reproduction.MIN_SEEDS} seeds "
        f"or an interval too wide (benchmark/report/reproduction.py). A verdict between differing protocols says "
        f"`{reproduction.PROTOCOLS_DIFFER}`.",
        "Sources: " + "; ".join(f"{s} <{u}>" for s, u in sources) + " (benchmark/data/README.md).",
    ]
    if unpublished:
        notes.append(f"No published numbers for: {', '.join(unpublished)}.")
    return notes


def provenance(frame: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Per suite x env x dataset: where the data came from (and its sha256), which runs used it,
    with which code and software."""
    runs = frame.merge(facts, on=[*KEY, "seed"])
    return (
        runs.groupby(["suite", "env", "dataset"], sort=True)
        .agg(
            source=("data_source", _joined),
            generator=("generator", lambda v: _joined(v.dropna())),
            transitions=("transitions", lambda v: _joined(v.dropna())),
            dataset_sha256=("dataset_sha256", _joined),
            algorithms=("algorithm", _joined),
            seeds=("seed", _joined),
            preset=("preset", _joined),
            protocol=("protocol", _joined),
            git_sha=("git_sha", _joined),
            python=("python", _joined),
            packages=("packages", _joined),
            machine=("machine", _joined),
        )
        .reset_index()
    )


def _ladder_notes(checks: pd.DataFrame, focus: str, bootstrap: str) -> list[str]:
    verdicts = checks["verdict"].value_counts()
    counted = ", ".join(f"{verdicts.get(v, 0)} {v}" for v in (ladder.PASS, ladder.FAIL, ladder.NOT_APPLICABLE))
    return [
        *(f"{rung}. {check}." for rung, check in ladder.CHECKS.items()),
        f"Rows: {counted}. PASS: the check holds; FAIL: it does not (reason: what was found); N/A: the results "
        "lack what the check needs (reason: what); N/A is not a pass. A rung of several rows ends with an overall "
        "row: a and b must hold on every row, c and d on at least one.",
        f"Numbers: final normalised scores (0 = random), mean over seeds [95% CI] ({bootstrap}), as in per_task; "
        "behaviour: the data's normalised mean episode return, as the runs recorded it. Rung c lists each task's "
        "separated pairs, higher first, or else every algorithm's interval.",
        f"Baselines: every algorithm outside the method under study's family (`{focus}`, `{focus}-*`). Medium "
        f"dataset: one standing for D4RL medium ({ladder.MEDIUM_DATA}), from the runs' config.json.",
    ]


def _warn_about_seeds(frame: pd.DataFrame) -> None:
    """One line for the tasks with one seed (no intervals), one for the seeds that aggregates
    leave out (they lack a task the algorithm's other seeds ran: rliable needs every task)."""
    seeds = frame.groupby(KEY)["seed"].nunique()
    if (seeds < 2).any():
        alone = ", ".join("/".join(key) for key in seeds[seeds < 2].index)
        log.warning("1 seed, so no confidence intervals (and no std), for: %s", alone)
    short = []
    for (suite, algorithm), runs in frame.groupby(["suite", "algorithm"], sort=True):
        tasks = runs.groupby("seed")[["env", "dataset"]].apply(lambda r: set(r.itertuples(index=False, name=None)))
        every = set().union(*tasks)
        lacking = [int(seed) for seed, ran in tasks.items() if ran != every]
        if lacking:
            short.append(f"{suite}/{algorithm} seeds {', '.join(map(str, lacking))}")
    if short:
        log.warning("left out of the aggregates that span a task they lack: %s", "; ".join(short))


def report(settings: Settings) -> None:
    frame = load_scores()
    evaluations, facts = load_runs(frame)
    _warn_about_seeds(frame)
    style = figures.palette(frame["algorithm"], settings.focus)
    out_tables, out_figures = paths.TABLES, paths.FIGURES
    bootstrap = f"{settings.bootstrap_reps:,} bootstrap replications, seed {settings.seed}"

    task_table = per_task(frame, facts, statistics.task_intervals(frame, settings))
    behaviour = behaviours(facts)
    shown_tasks = with_behaviour(task_table, behaviour)
    tables.write(
        out_tables,
        Table.PER_TASK,
        shown_tasks,
        _per_task_display(shown_tasks),
        "Per task: scores, mean ± std over seeds",
        [
            BEST_NOTE,
            _normaliser_note(frame),
            f"95% CIs of the normalised means ({bootstrap}): per_task.csv.",
            INPUTS_NOTE,
            *_behaviour_notes(behaviour),
        ],
    )
    figures.per_task(task_table, frame, behaviour, style, out_figures / Figure.PER_TASK)

    diagnosed, curves = diagnostics.load(frame)
    diagnosed_tasks = diagnostics.table(diagnosed)
    tables.write(
        out_tables,
        Table.DIAGNOSTICS,
        diagnosed_tasks,
        diagnostics.display(diagnosed_tasks),
        "Diagnostics: why a policy wins or loses, measured on held-out data and in closed loop",
        diagnostics.notes(diagnosed),
    )
    figures.diagnostics(diagnosed_tasks, curves, style, out_figures / Figure.DIAGNOSTICS)

    checks = ladder.sanity_ladder(task_table, behaviour, settings.focus, diagnosed_tasks)
    tables.write(
        out_tables,
        Table.SANITY_LADDER,
        checks,
        checks.drop(columns="check"),
        "Sanity ladder: what the results must show before comparisons mean anything",
        _ladder_notes(checks, settings.focus, bootstrap),
    )

    aggregate = statistics.aggregates(frame, settings)
    tables.write(
        out_tables,
        Table.AGGREGATE,
        aggregate,
        _aggregate_display(aggregate),
        "Aggregate normalised scores per suite and dataset: estimate [95% stratified-bootstrap CI]",
        [
            "Over the dataset's envs (tasks) and seeds (runs), with rliable: IQM = mean of the middle 50% of runs; "
            "optimality gap = 100 - mean of min(score, 100) (lower is better).",
            BEST_NOTE,
            _normaliser_note(frame),
            f"{bootstrap}.",
        ],
    )
    for score in SCORES:
        figures.aggregate(aggregate, score, style, settings.bootstrap_reps, out_figures / Figure(f"aggregate_{score}"))

    improvement = statistics.improvements(frame, settings)
    tables.write(
        out_tables,
        Table.PROBABILITY_OF_IMPROVEMENT,
        improvement,
        _improvement_display(improvement),
        f"Probability of improvement of {settings.focus} over each baseline: estimate [95% CI]",
        [
            "P(X > Y): the probability that a run of X scores above a run of Y on a task, averaged over the "
            "suite's (env, dataset) tasks both ran (rliable); 0.5 = no difference.",
            BEST_NOTE,
            f"{bootstrap}."
            + ("" if len(improvement) else f" No `{settings.focus}` runs beside a baseline in these results."),
        ],
    )
    figures.probability_of_improvement(
        improvement, style, settings.bootstrap_reps, out_figures / Figure.PROBABILITY_OF_IMPROVEMENT
    )

    parts = statistics.ablations(frame, settings)
    tables.write(
        out_tables,
        Table.ABLATIONS,
        parts,
        _ablation_display(parts),
        f"Probability that {settings.focus} scores above each of its ablations, per task: estimate [95% CI]",
        [
            f"P({settings.focus} > ablation) on one (env, dataset) task (rliable); above 0.5, the part the ablation "
            "changes helps on that task; 0.5 = no difference. Means: normalised, over seeds.",
            BEST_NOTE,
            f"{bootstrap}."
            + ("" if len(parts) else f" No `{settings.focus}` runs beside one of its ablations in these results."),
        ],
    )

    figures.performance_profiles(statistics.profiles(frame, settings), style, out_figures / Figure.PERFORMANCE_PROFILES)
    curves = statistics.learning_curves(evaluations, settings)
    figures.learning_curves(curves, behaviour, style, out_figures / Figure.LEARNING_CURVES)

    paper = reproduction.published_verdicts(published.beside_ours(task_table, published.load()))
    tables.write(
        out_tables,
        Table.PAPER_VS_REPRODUCED,
        paper,
        _paper_display(paper),
        f"Published numbers beside ours (preset {', '.join(sorted(frame['preset'].unique()))})",
        _paper_notes(paper, frame),
    )

    origin = provenance(frame, facts)
    tables.write(
        out_tables,
        Table.PROVENANCE,
        origin,
        origin.drop(columns=["python", "packages", "machine"]),
        "Provenance: data, code and software of the runs",
        [
            f"Software: Python {p}; {s}. Machine: {m}."
            for p, s, m in origin[["python", "packages", "machine"]].drop_duplicates().itertuples(index=False)
        ],
    )
