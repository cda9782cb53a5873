"""Normalisation constants and the scores table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmark import aggregate, envs, scores
from benchmark.errors import BenchmarkError


@pytest.mark.parametrize(
    ("suite", "env", "low", "high"),
    [
        ("atari", "breakout", 2.0, 30.0),  # DT paper gamer table
        ("atari", "pong", -21.0, 15.0),
        ("mujoco", "hopper", -20.272305, 3234.3),  # d4rl/infos.py
    ],
)
def test_normalizers_map_reference_scores_to_0_and_100(suite: str, env: str, low: float, high: float) -> None:
    normalize = scores.normalizer(suite, env)
    assert normalize(low) == pytest.approx(0.0)
    assert normalize(high) == pytest.approx(100.0)


def test_every_env_of_the_catalogue_has_a_normalizer() -> None:
    for suite, catalogue in envs.SUITES.items():
        assert set(catalogue) == set(scores.NORMALIZERS[suite])


def _metrics(seed: int) -> dict:
    """A metrics.json as the score stage writes it: text columns text, numbers 0."""
    row = {column: (0 if column in scores.NUMERIC_COLUMNS else "-") for column in scores.COLUMNS}
    return {**row, "suite": "atari", "env": "pong", "dataset": "mixed", "algorithm": "bc", "seed": seed}


def test_aggregate_rebuilds_one_row_per_run_and_rejects_duplicates(tmp_path: Path) -> None:
    files = []
    for seed in (1, 0):
        path = tmp_path / f"m{seed}.json"
        path.write_text(json.dumps(_metrics(seed)))
        files.append(path)
    out = tmp_path / "scores.csv"
    aggregate.collect(files, out)
    aggregate.collect(files, out)  # again: still one row per run
    table = pd.read_csv(out)
    assert list(table["seed"]) == [0, 1]
    assert list(table.columns) == scores.COLUMNS
    with pytest.raises(BenchmarkError, match=r"m1\.json: the same run as .*m1\.json"):
        aggregate.collect([*files, files[0]], out)
