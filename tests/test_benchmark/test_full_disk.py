"""A full disk, stage by stage: on a small filesystem filled to the last block, each stage of one
smoke run ends with exit status 2 and the line `error: <file>: not written (No space left on
device)`, leaves no temp file behind, and runs through once space is freed (nothing lost).

Needs a tmpfs of its own (`mount -t tmpfs`, as root); skipped where that is not allowed.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from benchmark import config, paths

KEY = config.RunKey("mujoco", "hopper", "mixed", "bc", 0)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem has no block left."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * block)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def stages() -> list[tuple[str, list[str], str]]:
    """(stage, arguments, the file its error names) of one smoke run, in workflow order."""
    preset = config.validate(yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()))
    spec = config.run_spec(preset, KEY).to_dict()
    spec["training"].update(steps=2, eval_every=2)
    dataset = dataclasses.asdict(config.dataset_spec(preset, KEY.suite, KEY.env, KEY.dataset))
    settings = {"focus": "more3s", "bootstrap_reps": 100, "profile_bootstrap_reps": 100, "seed": 0}
    run, metrics = paths.run_dir(KEY.id), paths.run_dir(KEY.id) / "metrics.json"
    return [
        ("dataset", ["dataset", "--spec", json.dumps(dataset)], "resources/datasets/mujoco/hopper/mixed/"),
        ("train", ["train", "--spec", json.dumps(spec)], ""),
        ("evaluate", ["evaluate", "--run", KEY.id], f"{run}/eval.csv"),
        ("score", ["score", "--run", KEY.id], f"{metrics}"),
        ("aggregate", ["aggregate", str(metrics)], f"{paths.SCORES}"),
        ("report", ["report", "--settings", json.dumps(settings)], f"{paths.TABLES}/"),
    ]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_every_stage_fails_in_one_line_on_a_full_disk_and_resumes(small_disk: Path) -> None:
    for stage, args, names in stages():
        filler = fill(small_disk)
        failed = run_cli(args, small_disk)
        last = (failed.stdout + failed.stderr).strip().splitlines()[-1]
        assert failed.returncode == 2, (stage, failed.stdout[-2000:], failed.stderr[-2000:])
        assert last.startswith(f"error: {names}") and last.endswith(": not written (No space left on device)"), (
            stage,
            last,
        )
        assert "Traceback" not in failed.stderr, (stage, failed.stderr[-2000:])
        assert not list(small_disk.rglob("*.tmp")), (stage, sorted(small_disk.rglob("*.tmp")))
        filler.unlink()
        done = run_cli(args, small_disk)
        assert done.returncode == 0, (stage, done.stderr[-2000:])
