"""What produced an artefact: git commit, package versions, machine."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

PACKAGES = ("torch", "d3rlpy", "gymnasium", "ale-py", "mujoco", "numpy", "snakemake", "rliable", "pandas")


def git_sha() -> str:
    """HEAD's sha, suffixed `-dirty` when tracked files differ from it; `unknown` outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True
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


def record() -> dict[str, Any]:
    return {
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "packages": versions(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
