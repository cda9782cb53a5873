"""Does DT's state embedding saturate tanh early, at the DT paper's learning rate and at the scaled one?

Trains d3rlpy's discrete DT as this preset does (the suite's `dt` baseline, Breakout expert data,
4 sequences of context 8 a step) for STEPS steps, for seeds 0-5 at each learning rate, and prints
after every 250 steps the loss and the CNN encoder's state embedding over 512 stacked frames of
the dataset: mean |h| and the share beyond |3| (where tanh's slope is under 0.01). The first run
of this preset (076d62d) used 6e-4 and its seed 0 never learned (dt_saturation.txt).

Needs the preset's dataset (resources/), not only results/; one torch thread, one seed and rate
per process, so two can run side by side:
    python results/atari-imitation/dt_lr_probe.py resources/atari-imitation SEED LEARNING_RATE
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from benchmark import datasets, envs, runtime
from benchmark.algorithms import get
from benchmark.specs import Budget

STEPS = 500
PRESET_DT = {"context_size": 8, "num_layers": 2, "num_heads": 2, "embed_size": 64, "warmup_tokens": 2560}

runtime.configure()
torch.set_num_threads(1)
workdir, seed, learning_rate = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
data = datasets.load(workdir / "resources/datasets/atari/breakout/expert")
frames = np.asarray(data.observations)
# 512 frames stacked as training stacks them (rows near an episode's start borrow the previous
# episode's frames here: a diagnostic, not training input)
index = np.clip(np.random.default_rng(0).choice(len(frames), 512, replace=False), 3, None)
stacked = torch.as_tensor(np.stack([frames[index - 3 + k] for k in range(4)], 1)).float() / 255.0
spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
dt = get("dt")(spec, {**PRESET_DT, "learning_rate": learning_rate}, seed)


class Probe:
    """Stands in for the run's train log: measures at each checkpoint instead of saving."""

    def start(self) -> None:
        pass

    def checkpoint(self, step: int, metrics: dict[str, float]) -> None:
        with torch.no_grad():
            embedding = dt.algo.impl.modules.transformer._encoder(stacked)
        row = {
            "seed": seed,
            "learning_rate": learning_rate,
            "step": step,
            "loss": round(metrics["loss"], 3),
            "mean_abs_h": round(float(embedding.abs().mean()), 3),
            "share_beyond_3": round(float((embedding.abs() > 3).float().mean()), 3),
        }
        print(json.dumps(row), file=sys.__stdout__, flush=True)


dt.fit(data, Budget(steps=STEPS, batch_size=4, eval_every=250), workdir / "probe-unused", Probe())
