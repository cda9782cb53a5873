"""The aggregate stage: every run's metrics.json -> results/scores.csv (one row per run).

The table is rebuilt whole from the per-run files each time and replaced atomically, so an
interrupted or repeated workflow can never duplicate a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchmark import io, paths

COLUMNS = [
    "suite",
    "env",
    "dataset",
    "algorithm",
    "seed",
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
KEY = ["suite", "env", "dataset", "algorithm", "seed"]


def collect(metrics_files: Iterable[Path], out: Path = paths.SCORES) -> pd.DataFrame:
    rows = [io.read_json(path) for path in metrics_files]
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values(KEY).reset_index(drop=True)
    duplicated = frame.duplicated(KEY)
    if duplicated.any():
        raise ValueError(f"two metrics files for run {frame.loc[duplicated, KEY].iloc[0].to_dict()}")
    io.write_csv(out, frame)
    return frame
