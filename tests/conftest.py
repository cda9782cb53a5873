"""Shared fixtures. Tests run offline and headless."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ["MUJOCO_GL"] = "egl"

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmark import config, datasets, paths

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


@pytest.fixture
def smoke_config() -> dict[str, Any]:
    return config.load(REPO / "config" / "smoke.yaml")


def write_random_dataset(
    folder: Path, suite: str, seed: int = 0, episodes: int = 4, length: int = 40
) -> datasets.OfflineDataset:
    """A small dataset of random data in the stored format (no environment needed)."""
    rng = np.random.default_rng(seed)
    n = episodes * length
    if suite == "atari":
        observations = rng.integers(0, 255, size=(n, 84, 84), dtype=np.uint8)
        actions = rng.integers(0, 4, size=n).astype(np.int64)
        card = {"suite": suite, "env": "breakout", "action_size": 4}
    else:
        observations = rng.normal(size=(n, 11)).astype(np.float32)
        actions = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
        card = {"suite": suite, "env": "hopper", "action_size": 3}
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
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the working directory (where results/ and resources/ go) in a temp folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dataset_folder(spec: dict[str, Any]) -> Path:
    return paths.dataset_dir(spec["suite"], spec["env"], spec["name"])
