"""What the two DT probes of the atari-imitation preset share: its Breakout expert data, 512 frames
of it stacked as training stacks them, and the state embedding d3rlpy's discrete DT puts through
tanh (the CNN encoder's output), with the share of it in tanh's flat region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark import envs, runtime

DATASET = Path("resources/datasets/atari/breakout/expert")  # under the preset's workdir
FRAMES = 512  # stacked frames the embedding is measured over
FLAT = 3.0  # beyond |3| tanh's slope is under 0.01: a unit there passes almost no gradient


def configure() -> None:
    """The suite's process settings, and one torch thread: two probes can run side by side."""
    runtime.configure()
    torch.set_num_threads(1)


def breakout() -> envs.EnvSpec:
    return envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))


def stacked_frames(frames: np.ndarray, count: int = FRAMES) -> torch.Tensor:
    """`count` rows of the data (drawn with seed 0), each stacked with its 3 previous frames as
    training stacks them, scaled to [0, 1]. Rows near an episode's start borrow the previous
    episode's frames here: a diagnostic, not training input."""
    index = np.clip(np.random.default_rng(0).choice(len(frames), count, replace=False), 3, None)
    return torch.as_tensor(np.stack([frames[index - 3 + k] for k in range(4)], 1)).float() / 255.0


def state_embedding(dt: Any, stacked: torch.Tensor) -> torch.Tensor:
    """The CNN encoder's output (before tanh) of a `dt` baseline for each stacked frame."""
    with torch.no_grad():
        return dt.algo.impl.modules.transformer._encoder(stacked)


def share_flat(embedding: torch.Tensor) -> float:
    """The share of the embedding's units beyond |FLAT|."""
    return float((embedding.abs() > FLAT).float().mean())
