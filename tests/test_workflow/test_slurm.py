"""The workflow on a cluster: profiles, GPU resources, and the smoke preset through a real single-node SLURM."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import REPO, SMOKE_WORKDIR, copy_project, snakemake

from benchmark import config, io
from benchmark.preset import Preset

SCRIPT = REPO / "workflow" / "scripts" / "slurm-single-node.sh"
SLURM_PROFILE = ["--workflow-profile", "profiles/slurm"]
TIMING = ["train_wall_s", "eval_wall_s", "wall_s"]  # the only columns allowed to differ between two runs
SLURM_RUN_TIMEOUT_S = 1800  # the smoke preset took 13 min through SLURM on 2 busy cores; a hang fails
GPU_RULES = {
    "train",
    "features",
    "evaluate",
    "diagnose",
}  # the jobs that put their networks on the device they are given


def profile(path: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / path / "config.yaml").read_text())


def planned_resources(dry_run: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, resources) of every job that `snakemake -n` lists."""
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", dry_run, re.M)
    return [(rule, dict(item.split("=", 1) for item in resources.split(", "))) for rule, resources in jobs]


@pytest.mark.parametrize("name", ["local", "slurm"])
def test_workflow_profiles_keep_the_default_profile_settings(name: str) -> None:
    """An explicit --workflow-profile replaces profiles/default: resuming after kill -9 must still work."""
    default = profile("profiles/default")
    assert {key: profile(f"profiles/{name}").get(key) for key in default} == default


def test_paper_preset_plans_on_slurm_with_a_gpu_per_training_job() -> None:
    result = snakemake("-n", *SLURM_PROFILE, "all", "--configfile", "config/paper.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_resources(result.stdout)
    partition = profile("profiles/slurm")["default-resources"]["slurm_partition"]
    assert sum(rule == "train" for rule, _ in jobs) == len(config.grid(config.load(REPO / "config" / "paper.yaml")))
    for rule, resources in jobs:
        assert resources.get("gpu") == ("1" if rule in GPU_RULES else None), (rule, resources)
        assert resources["slurm_partition"] == partition
        if rule != "all":  # every job sent to the cluster says what it needs
            assert resources["mem_mb"].isdigit() and resources["runtime"].isdigit(), (rule, resources)


def test_the_cluster_script_says_in_one_line_why_it_cannot_start() -> None:
    """Exit status 2 and the reason: what the SLURM test skips on."""
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
    # On stdin and from /: nobody may not be allowed into the checkout (e.g. under /root).
    with SCRIPT.open() as script:
        result = subprocess.run(
            [*as_nobody, "bash", "-s", "start"], stdin=script, cwd="/", capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "cannot start SLURM here: not root (installing packages and running slurmctld need root)"
    ]


# Session-wide so that, named before smoke_run, it is set up (or skips) before that long local run.
@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    """This machine as a one-node SLURM cluster, partition named as in the SLURM profile (skip where impossible)."""
    partition = profile("profiles/slurm")["default-resources"]["slurm_partition"]
    try:
        started = subprocess.run([SCRIPT, "start", partition], capture_output=True, text=True, timeout=600)
        if started.returncode == 2:  # not root, no apt-get, or a real cluster's configuration
            pytest.skip(started.stderr.strip().splitlines()[-1])
        assert started.returncode == 0, started.stdout + started.stderr
        yield
    finally:
        subprocess.run([SCRIPT, "stop"], capture_output=True, timeout=120)


def slurm_jobs() -> dict[str, str]:
    """Job id -> state of every job slurmctld remembers (finished ones for MinJobAge: an hour here)."""
    listed = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True, text=True, timeout=60)
    return dict(line.split() for line in listed.stdout.splitlines())


@pytest.mark.slow
def test_smoke_preset_through_slurm_scores_as_it_does_locally(
    slurm_cluster: None, smoke_run: Path, smoke: Preset, tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    try:
        result = snakemake(
            *SLURM_PROFILE, "all", "--configfile", "config/smoke.yaml", cwd=project, timeout=SLURM_RUN_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the SLURM run did not finish in {SLURM_RUN_TIMEOUT_S} s; SLURM's jobs: {slurm_jobs()}")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]

    # (a) Every job Snakemake sent to the executor (`rule`, not `localrule`) went through SLURM:
    # submitted once, COMPLETED in slurmctld's records; and each run trained inside its own
    # allocation (the SLURM_JOB_ID it recorded in config.json).
    remote = re.findall(r"^rule (\w+):$", log, re.M)
    on_this_node = re.findall(r"^localrule (\w+):$", log, re.M)
    assert len(remote) + len(on_this_node) == int(re.search(r"^total\s+(\d+)$", log, re.M).group(1))
    submitted = re.findall(r"submitted with SLURM jobid (\d+)", log)
    assert len(set(submitted)) == len(submitted) == len(remote)
    states = slurm_jobs()
    assert {states.get(job) for job in submitted} == {"COMPLETED"}
    runs = sorted((project / SMOKE_WORKDIR / "results" / "runs").glob("**/config.json"))
    executions = [io.read_json(path)["execution"] for path in runs]
    assert len(runs) == len({execution["slurm_job_id"] for execution in executions}) == len(config.grid(smoke))
    assert {execution["slurm_job_id"] for execution in executions} <= set(submitted)
    assert {execution["device"] for execution in executions} == {"cpu:0"}

    # (b) The same scores as the local run of the same preset, to the last digit, timings aside.
    local, on_slurm = (
        pd.read_csv(root / SMOKE_WORKDIR / "results" / "scores.csv").drop(columns=TIMING)
        for root in (smoke_run, project)
    )
    pd.testing.assert_frame_equal(on_slurm, local, check_exact=True)
