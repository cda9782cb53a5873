"""Shared library of the more3s-bench suite: configs, environments, datasets, evaluation, scores."""

import os

# Headless defaults, set before gymnasium/mujoco/matplotlib are imported anywhere in the suite.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("MPLBACKEND", "Agg")
# Progress bars (d3rlpy's too) go to job logs: one update every 10 s, not ten a second.
os.environ.setdefault("TQDM_MININTERVAL", "10")
# Offline, forced rather than defaulted: every weight the suite loads is a local file, and an
# exported HF_HUB_OFFLINE=0 must not let a hub id reach for the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# d3rlpy imports legacy Gym, which prints a four-line "unmaintained since 2022" notice to stderr
# on import (from the gym_notices package): every stage's one-line error would arrive as five.
# Emptying the notices before Gym is imported silences that notice and nothing else.
try:
    from gym_notices import notices as _gym_notices

    _gym_notices.notices.clear()
except ImportError:  # gym_notices absent: no notice to silence
    pass
