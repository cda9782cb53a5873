"""The process settings of the suite's entry points: `configure()`, called first thing.

Importing `benchmark` changes nothing in the process. `python -m benchmark` (every job the
workflow runs) and the tests call `configure()` before anything imports gymnasium, MuJoCo,
matplotlib, d3rlpy or transformers. Offline is forced twice: here for the whole process (an exported
`HF_HUB_OFFLINE=0` does not let a hub id reach for the network), and at each of the suite's own
weight loads by `local_files_only=True` (more3s.encoder, more3s.model, more3s.prompts), which holds
for a library user who never calls this.
"""

from __future__ import annotations

import os


def configure() -> None:
    os.environ.setdefault("MUJOCO_GL", "egl")  # headless offscreen rendering
    os.environ.setdefault("MPLBACKEND", "Agg")
    # Progress bars (d3rlpy's too) go to job logs: one update every 10 s, not ten a second.
    os.environ.setdefault("TQDM_MININTERVAL", "10")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    _silence_gym_notice()


def _silence_gym_notice() -> None:
    """d3rlpy imports legacy Gym, which prints a four-line "unmaintained since 2022" notice to
    stderr on import (from the gym_notices package): every stage's one-line error would arrive as
    five. Emptying the notices before Gym is imported silences that notice and nothing else."""
    try:
        from gym_notices import notices
    except ImportError:  # gym_notices absent: no notice to silence
        return
    notices.notices.clear()
