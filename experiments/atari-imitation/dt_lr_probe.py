"""Does DT's state embedding saturate tanh early, at the DT paper's learning rate and at the scaled one?

Trains d3rlpy's discrete DT as the atari-imitation preset does (the suite's `dt` baseline, Breakout
expert data, 4 sequences of context 8 a step) for STEPS steps, and prints after every EVERY steps
one JSON row: the loss and the CNN encoder's state embedding over 512 stacked frames of the
dataset, mean |h| and the share beyond |3| (where tanh's slope is under 0.01). The first run of the
preset (076d62d) used 6e-4 and its seed 0 never learned (dt_saturation.py). Its output, seeds 0-5
at both rates, is results/atari-imitation/dt_lr_probe.txt.

Needs the preset's dataset (resources/), not only results/; one torch thread, one seed and rate
per process, so two can run side by side:
    python experiments/atari-imitation/dt_lr_probe.py resources/atari-imitation SEED LEARNING_RATE
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dt_embedding import DATASET, breakout, configure, share_flat, stacked_frames, state_embedding

from benchmark import datasets
from benchmark.algorithms import get
from benchmark.specs import Budget

STEPS = 500
EVERY = 250
PRESET_DT = {"context_size": 8, "num_layers": 2, "num_heads": 2, "embed_size": 64, "warmup_tokens": 2560}


class Probe:
    """Stands in for the run's train log: at each checkpoint, measures instead of saving."""

    def __init__(self, dt: Any, stacked: torch.Tensor, emit: Callable[[dict[str, Any]], None]):
        self.dt, self.stacked, self.emit = dt, stacked, emit

    def start(self) -> None:
        pass

    def checkpoint(self, step: int, metrics: dict[str, float]) -> None:
        embedding = state_embedding(self.dt, self.stacked)
        self.emit(
            {
                "seed": self.dt.seed,
                "learning_rate": self.dt.hyperparameters.learning_rate,
                "step": step,
                "loss": round(metrics["loss"], 3),
                "mean_abs_h": round(float(embedding.abs().mean()), 3),
                "share_beyond_3": round(share_flat(embedding), 3),
            }
        )


def probe(
    workdir: Path,
    seed: int,
    learning_rate: float,
    emit: Callable[[dict[str, Any]], None],
    steps: int = STEPS,
    every: int = EVERY,
) -> Any:
    """Train the preset's DT on the workdir's data at `learning_rate`, emitting a row every `every`
    steps; the trained baseline."""
    data = datasets.load(workdir / DATASET)
    stacked = stacked_frames(np.asarray(data.observations))
    dt = get("dt")(breakout(), {**PRESET_DT, "learning_rate": learning_rate}, seed)
    dt.fit(
        data, Budget(steps=steps, batch_size=4, eval_every=every), workdir / "probe-unused", Probe(dt, stacked, emit)
    )
    return dt


def main(argv: list[str]) -> None:
    configure()
    workdir, seed, learning_rate = Path(argv[0]), int(argv[1]), float(argv[2])
    # to the real stdout, past anything d3rlpy's logging puts on sys.stdout
    probe(workdir, seed, learning_rate, lambda row: print(json.dumps(row), file=sys.__stdout__, flush=True))


if __name__ == "__main__":
    main(sys.argv[1:])
