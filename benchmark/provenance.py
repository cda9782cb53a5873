"""What produced an artefact: git commit, package versions, machine."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark import paths

PACKAGES = (
    "torch",
    "d3rlpy",
    "gymnasium",
    "ale-py",
    "mujoco",
    "numpy",
    "snakemake",
    "rliable",
    "pandas",
    "transformers",
)


def git_sha() -> str:
    """HEAD's sha, suffixed `-dirty` when tracked files differ from it; `unknown` outside git.

    `results/` is left out of the check: it is the workflow's output, and a rerun over committed
    reference results rewrites those files while the code that made them is HEAD's."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/", f":(top,exclude){paths.RESULTS}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def cpu_model() -> str:
    """The CPU's model name: float results of the same code and seed can differ between CPUs."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def record() -> dict[str, Any]:
    return {
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "packages": versions(),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "platform": platform.platform()},
    }
