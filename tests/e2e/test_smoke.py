"""The smoke preset through Snakemake, end to end, interrupted by kill -9 and resumed (conftest.smoke_run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SMOKE_WORKDIR

from benchmark import aggregate, datasets


@pytest.mark.slow
def test_smoke_preset_survives_kill_9_and_finishes(smoke_run: Path) -> None:
    workdir = smoke_run / SMOKE_WORKDIR
    scores = pd.read_csv(workdir / "results" / "scores.csv")
    assert len(scores) == 2 * 3 * 2  # (breakout, hopper) x (cql, bc, dt) x 2 seeds
    assert not scores.duplicated(aggregate.KEY).any()
    assert set(scores["algorithm"]) == {"cql", "bc", "dt"}
    assert scores[["norm_final", "norm_best"]].notna().all().all()
    for row in scores.itertuples():
        card = datasets.load(workdir / "resources" / "datasets" / row.suite / row.env / row.dataset, verify=False).card
        assert row.dataset_sha256 == card["dataset_sha256"]
    for output in ("tables/summary.md", "tables/summary.csv", "figures/scores.png"):
        assert (workdir / "results" / output).stat().st_size > 0
    # No temporary file of an interrupted atomic write is left behind.
    assert not list(workdir.rglob(".*.tmp"))
