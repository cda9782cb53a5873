"""Score normalisation: one table per suite, each with its source.

Atari: the Decision Transformer paper's "gamer-normalised" score (arXiv 2106.01345, Table 1
caption; constants from DreamerV2's gamer table): 100 * (score - random) / (gamer - random).
MuJoCo: D4RL's normalised score (d4rl/infos.py REF_MIN_SCORE / REF_MAX_SCORE, shared by all
v1/v2 gym-mujoco datasets): 100 * (score - min) / (max - min).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from benchmark import io, paths
from benchmark.specs import RunKey, RunRecord


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
    evaluations = pd.read_csv(run_dir / paths.EVALUATIONS)
    train_log = pd.read_csv(run_dir / paths.TRAIN_LOG)
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
