"""The smoke preset through Snakemake, end to end, interrupted by kill -9 and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SNAKEMAKE, copy_project

from benchmark import aggregate, datasets

SMOKE = ["--cores", "2", "all", "--configfile", "config/smoke.yaml"]


@pytest.mark.slow
def test_smoke_preset_survives_kill_9_and_finishes(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(project)}
    workdir = project / "resources" / "smoke"

    # Start, and kill -9 the whole process group once training has begun.
    first = subprocess.Popen(
        SNAKEMAKE + SMOKE,
        cwd=project,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and first.poll() is None:
        if len(list(workdir.glob("results/runs/**/config.json"))) >= 3:
            break
        time.sleep(0.5)
    assert first.poll() is None, "the smoke run ended before it could be interrupted"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    second = subprocess.run(SNAKEMAKE + SMOKE, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]

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
