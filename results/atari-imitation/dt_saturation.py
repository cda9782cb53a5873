"""Whether each DT seed's state embeddings saturate d3rlpy's tanh (why seed 0 of the first run never learned).

d3rlpy's discrete Decision Transformer (as the DT paper's Atari model) applies tanh to each token
embedding. This reads each DT seed's final checkpoint and prints, over 512 stacked frames of the
run's dataset, the CNN encoder's output and the share of it beyond |3| (tanh's slope < 0.01), and
the entropy of the data's action marginal (the loss of a policy that ignores the frames).

Needs the run's resources (dataset, checkpoints), not only results/:
    python results/atari-imitation/dt_saturation.py resources/atari-imitation \
        > results/atari-imitation/dt_saturation.txt
The first run's output (076d62d, learning rate 6e-4) is first-run-076d62d/dt_saturation.txt.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch

from benchmark import datasets, envs, runtime
from benchmark.algorithms import get

runtime.configure()
torch.set_num_threads(1)
workdir = Path(sys.argv[1])
run_root = workdir / "results/runs/atari/breakout/expert/dt"
data = datasets.load(workdir / "resources/datasets/atari/breakout/expert")
actions = np.asarray(data.actions)
marginal = np.bincount(actions, minlength=4) / len(actions)
entropy = float(-(marginal[marginal > 0] * np.log(marginal[marginal > 0])).sum())
print(f"action marginal {np.round(marginal, 3).tolist()}: entropy {entropy:.3f} nats")

# 512 frames stacked as training stacks them (4 frames; rows near an episode's start borrow the
# previous episode's frames here: a diagnostic, not training input)
frames = np.asarray(data.observations)
index = np.clip(np.random.default_rng(0).choice(len(actions), 512, replace=False), 3, None)
stacked = torch.as_tensor(np.stack([frames[index - 3 + k] for k in range(4)], 1)).float() / 255.0

spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
for seed_dir in sorted(run_root.glob("seed*")):
    config = json.loads((seed_dir / "config.json").read_text())
    training = config["training"]
    checkpoint = workdir / "resources/checkpoints" / seed_dir.relative_to(workdir / "results/runs")
    final = checkpoint / f"step{training['steps']:08d}.pt"
    dt = get("dt").load(final, spec, config["hyperparameters"], int(seed_dir.name[4:]))
    with torch.no_grad():
        embedding = dt.algo.impl.modules.transformer._encoder(stacked)
    with open(seed_dir / "train_log.csv") as f:
        losses = [round(float(row["loss"]), 3) for row in csv.DictReader(f)]
    saturated = (embedding.abs() > 3).float().mean()
    print(
        f"{seed_dir.name}: loss by checkpoint {losses}; state embedding mean |h| {embedding.abs().mean():.3f}, "
        f"spread across frames {embedding.std(0).mean():.3f}, share beyond |3| {saturated:.3f}"
    )
