"""Whether each DT seed's state embeddings saturate d3rlpy's tanh (why seed 0 of the first run never learned).

d3rlpy's discrete Decision Transformer (as the DT paper's Atari model) applies tanh to each token
embedding. This reads each DT seed's final checkpoint and prints, over 512 stacked frames of the
run's dataset, the CNN encoder's output and the share of it beyond |3| (tanh's slope < 0.01), and
the entropy of the data's action marginal (the loss of a policy that ignores the frames).

Needs the run's resources (dataset, checkpoints), not only results/:
    python experiments/atari-imitation/dt_saturation.py resources/atari-imitation \
        > results/atari-imitation/dt_saturation.txt
The first run's output (076d62d, learning rate 6e-4) is results/atari-imitation/first-run-076d62d/dt_saturation.txt.
The default preset's reference run (574251f, 6e-4 at 4000 steps), from the root of its clone:
    python experiments/atari-imitation/dt_saturation.py . > results/dt_saturation.txt
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from dt_embedding import DATASET, breakout, configure, share_flat, stacked_frames, state_embedding

from benchmark import datasets
from benchmark.algorithms import get

RUNS = Path("results/runs/atari/breakout/expert/dt")  # under the preset's workdir, one folder a seed
CHECKPOINTS = Path("resources/checkpoints")  # mirrors results/runs/


def action_marginal(actions: np.ndarray, size: int = 4) -> tuple[np.ndarray, float]:
    """The share of each action in the data, and its entropy in nats."""
    marginal = np.bincount(actions, minlength=size) / len(actions)
    taken = marginal[marginal > 0]
    return marginal, float(-(taken * np.log(taken)).sum())


def lines(workdir: Path) -> Iterator[str]:
    """The action marginal's line, then one line per DT seed: its losses and final state embedding."""
    data = datasets.load(workdir / DATASET)
    marginal, entropy = action_marginal(np.asarray(data.actions))
    yield f"action marginal {np.round(marginal, 3).tolist()}: entropy {entropy:.3f} nats"
    stacked = stacked_frames(np.asarray(data.observations))
    for seed_dir in sorted((workdir / RUNS).glob("seed*")):
        # config.json read as JSON: the first run's records predate the current RunRecord
        config = json.loads((seed_dir / "config.json").read_text())
        checkpoint_dir = workdir / CHECKPOINTS / seed_dir.relative_to(workdir / "results/runs")
        final = checkpoint_dir / f"step{config['training']['steps']:08d}.pt"
        dt = get("dt").load(final, breakout(), config["hyperparameters"], int(seed_dir.name[4:]))
        embedding = state_embedding(dt, stacked)
        with open(seed_dir / "train_log.csv") as f:
            losses = [round(float(row["loss"]), 3) for row in csv.DictReader(f)]
        yield (
            f"{seed_dir.name}: loss by checkpoint {losses}; state embedding mean |h| {embedding.abs().mean():.3f}, "
            f"spread across frames {embedding.std(0).mean():.3f}, share beyond |3| {share_flat(embedding):.3f}"
        )


def main(argv: list[str]) -> None:
    configure()
    for line in lines(Path(argv[0])):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
