"""Shared library of the more3s-bench suite: configs, environments, datasets, evaluation, scores."""

import os

# Headless defaults, set before gymnasium/mujoco/matplotlib are imported anywhere in the suite.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Progress bars (d3rlpy's too) go to job logs: one update every 10 s, not ten a second.
os.environ.setdefault("TQDM_MININTERVAL", "10")
