"""Evaluation speed: the suite's batched `run_episodes` against d3rlpy's one-episode-at-a-time loop.

    .venv/bin/python tests/benchmarks/bench_evaluation.py [--episodes N] [--train-steps S]

Generates a small scripted Breakout dataset (~3000 transitions) in a temp folder, trains d3rlpy's
discrete Decision Transformer on it for a few steps through `baselines.dt.DecisionTransformer`
with the published Atari sizes (`AtariHyperparameters()`: context 30, 6 layers, 8 heads, 128-d;
batch 8 here), then evaluates that same policy for N episodes under the same env protocol
(Breakout, frames capped at --max-frames) two ways, each with one torch thread:
  d3rlpy: `evaluate_transformer_with_environment(algo.as_stateful_wrapper(...), env, N)`
  ours:   `benchmark.evaluation.run_episodes(policy, make_env, N, seed, target_return)`
Actions are sampled (softmax), so the episodes differ between the two; env-steps/s is the
like-for-like number, episodes/s depends on how long the sampled episodes were.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import d3rlpy
import gymnasium as gym
import numpy as np
import torch

from baselines.dt import AtariHyperparameters, DecisionTransformer
from benchmark import behaviour, datasets
from benchmark.algorithms import Budget
from benchmark.envs import EnvSpec, make_env, protocol_for
from benchmark.evaluation import run_episodes

TARGET_RETURN = 90.0


class _StepCounter(gym.Wrapper):
    """Counts the env steps d3rlpy's evaluation loop takes."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.steps = 0

    def step(self, action: Any) -> Any:
        self.steps += 1
        return self.env.step(action)


def _train(folder: Path, steps: int, seed: int) -> DecisionTransformer:
    episodes = behaviour.scripted_atari_episodes("breakout", 3000, [1.0, 0.3, 0.05], seed, 8000)
    arrays = datasets.concatenate(episode for episode, _ in episodes)
    card = {"suite": "atari", "env": "breakout", "action_size": 4}
    data = datasets.write(folder / "data", arrays, card)
    spec = EnvSpec("atari", "breakout", (4, 84, 84), discrete=True, action_size=4)
    budget = Budget(steps=steps, batch_size=8, eval_every=steps)
    baseline = DecisionTransformer(spec, dataclasses.asdict(AtariHyperparameters()), budget, seed)
    baseline.fit(data, budget, folder, lambda step, algo: None)
    return baseline


def _report(name: str, episodes: int, steps: int, seconds: float) -> tuple[float, float]:
    """Print and return (episodes/s, env-steps/s)."""
    print(
        f"{name:8s} {episodes} episodes, {steps} env steps in {seconds:.1f} s: "
        f"{episodes / seconds:.3f} episodes/s, {steps / seconds:.1f} env-steps/s"
    )
    return episodes / seconds, steps / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="batched vs d3rlpy DT evaluation speed")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--max-frames", type=int, default=10_000, help="per-episode frame cap")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    protocol = protocol_for("atari", {"max_episode_frames": args.max_frames})

    def make() -> gym.Env:
        return make_env("atari", "breakout", protocol)

    with tempfile.TemporaryDirectory() as tmp:
        baseline = _train(Path(tmp), args.train_steps, args.seed)
    hp = AtariHyperparameters()
    print(
        f"DT: context {hp.context_size}, {hp.num_layers} layers, {hp.num_heads} heads, "
        f"{hp.embed_size}-d; {args.train_steps} train steps; "
        f"torch threads {torch.get_num_threads()}"
    )

    d3rlpy.seed(args.seed)
    started = time.perf_counter()
    env = _StepCounter(make())
    env.reset(seed=args.seed)  # seeds the env's generator; d3rlpy's loop resets without a seed
    wrapper = baseline.algo.as_stateful_wrapper(
        TARGET_RETURN, action_sampler=d3rlpy.algos.SoftmaxTransformerActionSampler()
    )
    mean = d3rlpy.metrics.evaluate_transformer_with_environment(wrapper, env, args.episodes)
    env.close()
    theirs = _report("d3rlpy", args.episodes, env.steps, time.perf_counter() - started)
    print(f"d3rlpy   mean return {mean:.1f}")

    started = time.perf_counter()
    policy = baseline.policy()
    returns, lengths = run_episodes(policy, make, args.episodes, args.seed, TARGET_RETURN)
    seconds = time.perf_counter() - started
    ours = _report("batched", args.episodes, int(lengths.sum()), seconds)
    print(f"batched  mean return {np.mean(returns):.1f}")
    print(f"RATIO batched/d3rlpy episodes per second: {ours[0] / theirs[0]:.1f}x")
    print(f"RATIO batched/d3rlpy env-steps per second: {ours[1] / theirs[1]:.1f}x")


if __name__ == "__main__":
    main()
