"""The smoke preset through Snakemake, end to end, interrupted by kill -9 and resumed (conftest.smoke_run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SMOKE_WORKDIR

from benchmark import datasets, io, paths
from benchmark.scores import RUN_KEY
from benchmark.specs import RunKey


@pytest.mark.slow
def test_smoke_preset_survives_kill_9_and_finishes(smoke_run: Path) -> None:
    workdir = smoke_run / SMOKE_WORKDIR
    scores = pd.read_csv(workdir / "results" / "scores.csv")
    algorithms = {"cql", "bc", "dt", "more3s", "more3s-rtg-none"}
    assert len(scores) == 2 * len(algorithms) * 2  # (breakout, hopper) x algorithms x 2 seeds
    assert not scores.duplicated(RUN_KEY).any()
    assert set(scores["algorithm"]) == algorithms
    # the truth about weights: baselines train from scratch; MORE-3S's text stream is MiniLM's
    more3s = scores["algorithm"].str.startswith("more3s")
    assert (scores.loc[~more3s, "pretrained"] == "no").all()
    expected = "lxmert=no; text=all-MiniLM-L6-v2 (embeddings + layers 0-0); gpt2=no"
    assert (scores.loc[more3s, "pretrained"] == expected).all()
    # one features cache per dataset, shared by MORE-3S and its ablation, and one of its held-out data
    caches = list((workdir / "resources" / "features").glob("*/*/*/*/features.json"))
    assert sorted(cache.parts[-3] for cache in caches) == ["mixed", "mixed", "mixed.heldout", "mixed.heldout"]
    assert scores[["norm_final", "norm_best"]].notna().all().all()
    for row in scores.itertuples():
        card = datasets.load(workdir / "resources" / "datasets" / row.suite / row.env / row.dataset, verify=False).card
        assert row.dataset_sha256 == card["dataset_sha256"]
    for row in scores.itertuples():  # every run diagnosed on its dataset's held-out data
        record = io.read_json(
            workdir
            / paths.run_dir(RunKey(row.suite, row.env, row.dataset, row.algorithm, row.seed).id)
            / paths.DIAGNOSTICS
        )
        assert record["held_out"]["dataset"] == f"{row.dataset}.heldout" and record["held_out"]["policy"]
    for output in paths.report_outputs():
        assert (workdir / output).stat().st_size > 0
    # No temporary file of an interrupted atomic write is left behind.
    assert not list(workdir.rglob(".*.tmp"))
