"""The aggregate stage: every run's metrics.json -> results/scores.csv (one row per run).

The table is rebuilt whole from the per-run files each time and replaced atomically, so an
interrupted or repeated workflow can never duplicate a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchmark import io, paths
from benchmark.errors import BenchmarkError
from benchmark.scores import COLUMNS, RUN_KEY, read_metrics


def collect(metrics_files: Iterable[Path], out: Path = paths.SCORES) -> pd.DataFrame:
    files = list(metrics_files)
    rows = [read_metrics(path) for path in files]  # every one, before anything is written
    frame = pd.DataFrame(rows, columns=COLUMNS)
    duplicated = frame.duplicated(RUN_KEY)
    if duplicated.any():
        second = int(duplicated.to_numpy().argmax())
        first = int(frame[RUN_KEY].eq(frame.loc[second, RUN_KEY]).all(axis=1).to_numpy().argmax())
        raise BenchmarkError(f"{files[second]}: the same run as {files[first]}; one metrics.json per run")
    frame = frame.sort_values(RUN_KEY).reset_index(drop=True)
    io.write_csv(out, frame)
    return frame
