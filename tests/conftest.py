"""Shared fixtures. Tests run offline and headless."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from benchmark import config, datasets, runtime
from benchmark.preset import Preset
from benchmark.specs import DatasetSpec

# Offline and headless, as every entry point of the suite (nothing above imports MuJoCo,
# matplotlib, Gym or the Hugging Face hub).
runtime.configure()

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
PROJECT = [
    "Snakefile",
    "profiles",
    "benchmark",
    "baselines",
    "more3s",
    "workflow",
    "config",
    "pyproject.toml",
    "environment.yml",
]


SMOKE = ["--cores", "2", "all", "--configfile", "config/smoke.yaml"]
SMOKE_WORKDIR = Path("resources") / "smoke"  # the smoke preset's workdir


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # import the package of `cwd`, not the installed one
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def copy_project(destination: Path) -> Path:
    for name in PROJECT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy in which the smoke preset ran locally, kill -9'd once training had begun, then
    resumed to the end. Session-wide: the end-to-end test checks it, the SLURM test compares with it
    (one smoke run of a few minutes, not two)."""
    project = copy_project(tmp_path_factory.mktemp("smoke-local"))
    env = {**os.environ, "PYTHONPATH": str(project)}
    workdir = project / SMOKE_WORKDIR

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
    return project


@pytest.fixture
def smoke_config() -> dict[str, Any]:
    """The smoke preset as validation leaves it (the schema's defaults filled in): a test edits it."""
    preset = config.read(REPO / "config" / "smoke.yaml")
    config.validate(preset)
    return preset


@pytest.fixture
def smoke(smoke_config: dict[str, Any]) -> Preset:
    """The smoke preset, typed."""
    return config.validate(smoke_config)


def generated_spec(suite: str, env: str, name: str, **options: Any) -> DatasetSpec:
    """The spec of a dataset made here by a generator (`options` holds its `generator` and keys)."""
    return DatasetSpec(
        suite=suite, env=env, name=name, source="generated", seed=0, mirror_path=None, behaviour=None, options=options
    )


def write_random_dataset(
    folder: Path, suite: str, seed: int = 0, episodes: int = 4, length: int = 40, name: str = "random"
) -> datasets.OfflineDataset:
    """A small dataset of random data in the stored format (no environment needed)."""
    rng = np.random.default_rng(seed)
    n = episodes * length
    if suite == "atari":
        observations = rng.integers(0, 255, size=(n, 84, 84), dtype=np.uint8)
        actions = rng.integers(0, 4, size=n).astype(np.int64)
        card = {"suite": suite, "env": "breakout", "name": name, "action_size": 4}
    else:
        observations = rng.normal(size=(n, 11)).astype(np.float32)
        actions = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
        card = {"suite": suite, "env": "hopper", "name": name, "action_size": 3}
    ends = np.zeros(n, np.float32)
    ends[length - 1 :: length] = 1.0
    arrays = {
        "observations": observations,
        "actions": actions,
        "rewards": rng.normal(size=n).astype(np.float32),
        "terminals": ends,
        "timeouts": np.zeros(n, np.float32),
    }
    return datasets.write(folder, arrays, card)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread, the suite's setting (torch_threads: 1), under which no bit may change
    with a batch's size or order (more threads sum matrix products in a shape-dependent order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the working directory (where results/ and resources/ go) in a temp folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


class RecordActions(gym.Wrapper):
    """An env that records the actions it executes."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.actions: list[int] = []

    def step(self, action: Any) -> Any:
        self.actions.append(int(action))
        return super().step(action)
