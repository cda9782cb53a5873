"""Seeding a job: every stage that draws random numbers (training, evaluation, diagnostics, the
behaviour and features jobs) seeds the process the same way first."""

from __future__ import annotations

import torch


def seed_everything(seed: int, threads: int) -> None:
    """Same seed twice on CPU gives identical numbers (d3rlpy seeds python, numpy and torch)."""
    import d3rlpy

    torch.set_num_threads(threads)
    d3rlpy.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
