"""Score normalisation: one table per suite, each with its source.

Atari: the Decision Transformer paper's "gamer-normalised" score (arXiv 2106.01345, Table 1
caption; constants from DreamerV2's gamer table): 100 * (score - random) / (gamer - random).
MuJoCo: D4RL's normalised score (d4rl/infos.py REF_MIN_SCORE / REF_MAX_SCORE, shared by all
v1/v2 gym-mujoco datasets): 100 * (score - min) / (max - min).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import io, paths
from benchmark.errors import BenchmarkError
from benchmark.specs import RunKey, RunRecord, RunSpec


@dataclass(frozen=True)
class Normalizer:
    table: str  # recorded in every result row as `normalizer`
    low: float  # the score mapped to 0
    high: float  # the score mapped to 100

    def __call__(self, raw: float) -> float:
        return 100.0 * (raw - self.low) / (self.high - self.low)


# results/scores.csv: one row per run, these columns (score_run writes them, aggregate collects
# them, the report reads them), keyed by RUN_KEY.
RUN_KEY = [field.name for field in dataclasses.fields(RunKey)]  # suite, env, dataset, algorithm, seed
COLUMNS = [
    *RUN_KEY,
    "preset",
    "train_steps",
    "raw_final",
    "norm_final",
    "final_step",
    "raw_best",
    "norm_best",
    "best_step",
    "episodes",
    "normalizer",
    "protocol",
    "pretrained",
    "dataset_sha256",
    "git_sha",
    "train_wall_s",
    "eval_wall_s",
    "wall_s",
]

_TEXT = {"type": "string"}
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}
# metrics.json: exactly the columns, each of its type (numbers finite: `read_metrics`)
METRICS_SCHEMA = {
    "type": "object",
    "required": COLUMNS,
    "additionalProperties": False,
    "properties": {
        **{column: _TEXT for column in COLUMNS},
        **{column: _COUNT for column in ("seed", "train_steps", "final_step", "best_step", "episodes")},
        **{column: _NUMBER for column in ("raw_final", "norm_final", "raw_best", "norm_best")},
        **{column: {"type": "number", "minimum": 0} for column in ("train_wall_s", "eval_wall_s", "wall_s")},
    },
}
NUMERIC_COLUMNS = tuple(column for column, kind in METRICS_SCHEMA["properties"].items() if kind is not _TEXT)
# eval.csv's and train_log.csv's columns read here, numeric (the train log's losses are not read)
EVALUATION_COLUMNS = ("train_step", "episode", "return", "length", "eval_wall_s")
TRAIN_LOG_COLUMNS = ("train_step", "wall_s")

ATARI_GAMER = "dt-paper-gamer"
D4RL = "d4rl-ref"

# (random, gamer) from the DT paper's normalisation.
# Pong's "random" is -21, the lowest score the game allows (every point lost), not what random play
# scores: the DT paper's constant, kept so our numbers sit beside its table. Uniform random actions
# under atari-dt-v2 score -19.9 +- 1.2 (30 episodes; workflow/scripts/random_pong.py), i.e. +3.0
# +- 0.6 normalised points: on Pong, 0 is below random, and a policy a few points above 0 is no
# better than random play.
_ATARI: dict[str, tuple[float, float]] = {
    "breakout": (2.0, 30.0),
    "qbert": (164.0, 13455.0),
    "pong": (-21.0, 15.0),
    "seaquest": (68.0, 42055.0),
}
# (REF_MIN_SCORE, REF_MAX_SCORE) from d4rl/infos.py.
_D4RL: dict[str, tuple[float, float]] = {
    "halfcheetah": (-280.178953, 12135.0),
    "hopper": (-20.272305, 3234.3),
    "walker2d": (1.629008, 4592.3),
}

NORMALIZERS: dict[str, dict[str, Normalizer]] = {
    "atari": {g: Normalizer(ATARI_GAMER, lo, hi) for g, (lo, hi) in _ATARI.items()},
    "mujoco": {t: Normalizer(D4RL, lo, hi) for t, (lo, hi) in _D4RL.items()},
}


def normalizer(suite: str, env: str) -> Normalizer:
    return NORMALIZERS[suite][env]


def score_run(run: str) -> dict[str, Any]:
    """metrics.json of a run: raw and normalised returns, final (last evaluation) and best
    (max over evaluations of the mean return), with what produced them. Each evaluation's mean is
    over its own episodes: the last one may have more (`final_episodes`)."""
    run_dir = paths.run_dir(run)
    record = RunRecord.read(run_dir)
    evaluations = read_evaluations(run_dir / paths.EVALUATIONS, record.spec)
    train_log = read_numbers(run_dir / paths.TRAIN_LOG, TRAIN_LOG_COLUMNS)
    key = record.spec.key
    normalize = normalizer(key.suite, key.env)
    per_step = evaluations.groupby("train_step")["return"].mean().sort_index()
    final_step, best_step = int(per_step.index[-1]), int(per_step.idxmax())
    eval_wall = evaluations.groupby("train_step")["eval_wall_s"].first().sum()
    metrics = {
        **dataclasses.asdict(key),
        "preset": record.spec.preset,
        "train_steps": int(train_log["train_step"].max()),
        "final_step": final_step,
        "raw_final": float(per_step[final_step]),
        "norm_final": normalize(float(per_step[final_step])),
        "best_step": best_step,
        "raw_best": float(per_step[best_step]),
        "norm_best": normalize(float(per_step[best_step])),
        "episodes": int((evaluations["train_step"] == final_step).sum()),  # of the final evaluation
        "normalizer": normalize.table,
        "protocol": record.spec.protocol.name,
        "pretrained": record.pretrained,
        "dataset_sha256": record.dataset_sha256,
        "git_sha": record.provenance["git_sha"],
        "train_wall_s": float(train_log["wall_s"].max()),
        "eval_wall_s": float(eval_wall),
        "wall_s": float(train_log["wall_s"].max() + eval_wall),
    }
    metrics = {column: metrics[column] for column in COLUMNS}  # the contract's order
    io.write_json(run_dir / paths.METRICS, metrics)
    return metrics


def read_numbers(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A result CSV with at least one row and each of `columns` a column of finite numbers; one line
    naming the file and the column (and row) otherwise."""
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise BenchmarkError(f"{path}: empty; no header, no rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise BenchmarkError(f"{path}: not a readable CSV ({str(error).strip().splitlines()[0]})") from error
    for column in columns:
        if column not in frame.columns:
            raise BenchmarkError(f"{path}: column {column!r} missing")
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise BenchmarkError(
                f"{path}: column {column!r}: row {bad[0] + 1} is {frame[column].iloc[bad[0]]}, not a finite number"
            )
        frame[column] = values
    if frame.empty:
        raise BenchmarkError(f"{path}: no rows (a header only)")
    return frame


def read_evaluations(path: Path, spec: RunSpec) -> pd.DataFrame:
    """eval.csv: finite numbers, and at each of the run's checkpoints exactly the episodes its
    protocol promises (`evaluation.final` at the last), numbered 0.. once each."""
    frame = read_numbers(path, EVALUATION_COLUMNS)
    steps = spec.budget.checkpoints
    for step, rows in frame.groupby("train_step", sort=False):
        if step not in steps:
            raise BenchmarkError(f"{path}: column 'train_step': {step:g} is not one of the run's checkpoints {steps}")
        episodes = spec.evaluation.final if step == steps[-1] else spec.evaluation.episodes
        if sorted(rows["episode"]) != list(range(episodes)):
            raise BenchmarkError(
                f"{path}: train_step {step:g}: episodes {sorted(rows['episode'].astype(int))[:5]}..., "
                f"the run's protocol promises episodes 0..{episodes - 1}"
            )
    missing = sorted(set(steps) - set(frame["train_step"]))
    if missing:
        raise BenchmarkError(f"{path}: column 'train_step': no evaluation at checkpoint {missing[0]}")
    for column in ("train_step", "episode", "length"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def read_metrics(path: Path) -> dict[str, Any]:
    """A run's metrics.json (score_run's): every column, of its type, numbers finite."""
    metrics = io.read_json(path)
    io.check_schema(path, metrics, METRICS_SCHEMA)
    for column, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise BenchmarkError(f"{path}: key {column!r}: {value} is not a finite number")
    return metrics
