"""Training-step cost: MORE-3S on cached encoder outputs against d3rlpy's Decision Transformer.

    .venv/bin/python tests/benchmarks/bench_more3s_step.py [--preset config/config.yaml] [--steps 40]

For each suite of the preset, both algorithms train on the same random dataset (stored format,
Atari 84x84 frames / Hopper vectors) with the preset's hyperparameters, transformer sizes made
equal (depth, width, heads and context of the preset's DT), the same batch of sequences and one
torch thread. MORE-3S first encodes the dataset once (its features stage, not timed as training;
its throughput is printed). A step's cost is (time of fit(S + 10 steps) - time of fit(10 steps)) / S,
so set-up costs cancel. The issue's target: MORE-3S <= 0.5x (one token per step instead of three,
no CNN in the loop).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the shared fixtures

from conftest import write_random_dataset

from benchmark import config, datasets, envs, paths
from benchmark.algorithms import Budget, get
from more3s import features

ENVS = {"atari": "breakout", "mujoco": "hopper"}
SHARED = ("context_size", "num_layers", "num_heads", "embed_size")


def fit_seconds(name: str, suite: str, hp: dict[str, Any], steps: int, batch: int) -> float:
    env = ENVS[suite]
    spec = envs.EnvSpec.of(suite, env, envs.protocol_for(suite))
    budget = Budget(steps=steps, batch_size=batch, eval_every=steps)
    algorithm = get(name)(spec, hp, budget, 0)
    data = datasets.load(paths.dataset_dir(suite, env, "random"))
    started = time.perf_counter()
    algorithm.fit(data, budget, Path("logs"), lambda step, a: None)
    return time.perf_counter() - started


def step_cost(name: str, suite: str, hp: dict[str, Any], steps: int, batch: int) -> float:
    return (fit_seconds(name, suite, hp, steps + 10, batch) - fit_seconds(name, suite, hp, 10, batch)) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="config/config.yaml")
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    preset = config.load(Path(args.preset))
    torch.set_num_threads(1)
    os.chdir(tempfile.mkdtemp(prefix="bench-more3s-"))
    print(f"preset {args.preset}, {args.steps} timed steps, 1 torch thread")
    for suite, env in ENVS.items():
        if suite not in preset["suites"]:
            continue
        write_random_dataset(paths.dataset_dir(suite, env, "random"), suite, episodes=20, length=100)
        key = config.RunKey(suite, env, next(iter(preset["suites"][suite]["datasets"])), "dt", 0)
        dt = config.run_spec(preset, key)
        more3s_key = config.RunKey(suite, env, key.dataset, "more3s", 0)
        hp = config.run_spec(preset, more3s_key)["hyperparameters"]
        hp.update({k: dt["hyperparameters"][k] for k in SHARED})  # the same transformer
        spec = get("more3s").features_spec(suite, env, "random", hp)
        card = features.build(spec)
        batch = dt["training"]["batch_size"]
        dt_cost = step_cost("dt", suite, dt["hyperparameters"], args.steps, batch)
        more3s_cost = step_cost("more3s", suite, hp, args.steps, batch)
        sizes = ", ".join(f"{k} {hp[k]}" for k in SHARED)
        print(f"{suite}/{env} ({sizes}, batch {batch} sequences):")
        per_pair = card["bytes"] / card["pairs"] / 1e3
        print(f"  encode once: {card['encode_pairs_per_s']:.0f} pairs/s, {per_pair:.1f} kB/pair")
        print(f"  d3rlpy DT : {1e3 * dt_cost:7.1f} ms/step")
        print(f"  MORE-3S   : {1e3 * more3s_cost:7.1f} ms/step  (ratio {more3s_cost / dt_cost:.2f}x; target <= 0.5x)")


if __name__ == "__main__":
    main()
