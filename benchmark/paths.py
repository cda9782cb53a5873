"""Every path of the suite, built here from the run key and nowhere else.

`results/` holds what a reader needs (small, committed); `resources/` holds what machines need
(datasets, checkpoints; ignored by git). Patterns use Snakemake's wildcard syntax.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

RESULTS = Path("results")
RESOURCES = Path("resources")

RUN = "{suite}/{env}/{dataset}/{algorithm}/seed{seed}"  # a run's id (benchmark.specs.RunKey.id)
DATASET = "{suite}/{env}/{dataset}"
HELDOUT = ".heldout"  # `<dataset>.heldout`: more of a generated dataset's behaviour, another seed
BEHAVIOUR = "{suite}/{env}/{behaviour}"

# The results contract: a run's files in results/runs/<run>/ ...
RUN_CONFIG = "config.json"  # its spec and what training found (benchmark.specs.RunRecord)
# one row per checkpoint: train_step, wall_s, the mean losses (benchmark.training), an action-regression
# loss per action dimension for every algorithm (d3rlpy's summed DT loss divided by the dimensions)
TRAIN_LOG = "train_log.csv"
EVALUATIONS = "eval.csv"  # one row per evaluation episode (benchmark.evaluation)
METRICS = "metrics.json"  # its row of scores.csv (benchmark.scores)
DIAGNOSTICS = "diagnostics.json"  # teacher-forced and closed-loop measurements (benchmark.diagnostics)
# ... and in resources/checkpoints/<run>/: every checkpoint's step, path and sha256
CHECKPOINT_MANIFEST = "checkpoints.json"
# Every artefact folder's list of its files and their sha256, written last (its presence means the
# folder is whole; benchmark.manifest). Cards say what a folder holds.
MANIFEST = "manifest.json"
DATASET_CARD = "dataset.json"
BEHAVIOUR_CARD = "behaviour.json"
POLICY_CARD = "policy.json"
FEATURES_CARD = "features.json"  # also copied into a MORE-3S run's folder: the cache it read
FRAMES_CARD = "frames.json"


def dataset_dir(suite: str = "{suite}", env: str = "{env}", dataset: str = "{dataset}") -> Path:
    return RESOURCES / "datasets" / DATASET.format(suite=suite, env=env, dataset=dataset)


def behaviour_dir(suite: str = "{suite}", env: str = "{env}", behaviour: str = "{behaviour}") -> Path:
    """A behaviour policy trained once and shared by the datasets made from it (D4RL style)."""
    return RESOURCES / "behaviours" / BEHAVIOUR.format(suite=suite, env=env, behaviour=behaviour)


def policy_dir(suite: str = "{suite}", env: str = "{env}") -> Path:
    """ARS behaviour policies trained by the workflow's `policy` rule (the package ships its own)."""
    return RESOURCES / "policies" / suite / env


def features_dir(suite: str, env: str, dataset: str, features: str = "{features}") -> Path:
    """MORE-3S's frozen-encoder outputs for one dataset, shared by the runs that encode alike."""
    return RESOURCES / "features" / DATASET.format(suite=suite, env=env, dataset=dataset) / features


def frames_dir(suite: str, env: str, dataset: str, frames: str = "{frames}") -> Path:
    """Every state of a dataset drawn under one render protocol (MORE-3S's live features read it)."""
    return RESOURCES / "frames" / DATASET.format(suite=suite, env=env, dataset=dataset) / frames


def run_dir(run: str = RUN, results: Path = RESULTS) -> Path:
    """A run's folder under `results` (the workflow's results/, or a results folder kept elsewhere)."""
    return Path(results) / "runs" / run


def checkpoint_dir(run: str = RUN) -> Path:
    return RESOURCES / "checkpoints" / run


SCORES = RESULTS / "scores.csv"
TABLES = RESULTS / "tables"
FIGURES = RESULTS / "figures"


class Table(StrEnum):
    """The report stage's tables (benchmark.report), each as CSV, Markdown and LaTeX. A new table
    is one member here (the stage writes it by the member, the workflow lists its files from
    here) and its caption, workflow/report/tables/<name>.rst; tests hold all three together."""

    PER_TASK = "per_task"
    AGGREGATE = "aggregate"
    PROBABILITY_OF_IMPROVEMENT = "probability_of_improvement"
    ABLATIONS = "ablations"
    SANITY_LADDER = "sanity_ladder"
    DIAGNOSTICS = "diagnostics"
    PAPER_VS_REPRODUCED = "paper_vs_reproduced"
    PROVENANCE = "provenance"


class Figure(StrEnum):
    """The report stage's figures, each as PNG and PDF; registered as `Table`s are (caption:
    workflow/report/figures/<name>.rst)."""

    PER_TASK = "per_task"
    AGGREGATE_FINAL = "aggregate_final"
    AGGREGATE_BEST = "aggregate_best"
    LEARNING_CURVES = "learning_curves"
    PERFORMANCE_PROFILES = "performance_profiles"
    PROBABILITY_OF_IMPROVEMENT = "probability_of_improvement"
    DIAGNOSTICS = "diagnostics"


TABLE_FORMATS = ("csv", "md", "tex")
FIGURE_FORMATS = ("png", "pdf")


def report_outputs() -> list[Path]:
    """Every file the report stage writes."""
    tables = [TABLES / f"{name}.{fmt}" for name in Table for fmt in TABLE_FORMATS]
    return tables + [FIGURES / f"{name}.{fmt}" for name in Figure for fmt in FIGURE_FORMATS]
