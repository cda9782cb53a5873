"""Evaluation speed: the suite's batched `run_episodes` against d3rlpy's one-episode-at-a-time loop.

A small scripted Breakout dataset (~3000 transitions) trains d3rlpy's discrete Decision
Transformer for a few steps through `baselines.dt.DecisionTransformer` at the published Atari
size (`DTAtari()`: context 30, 6 layers, 8 heads, 128-d; batch 8 here); that policy
then plays EPISODES episodes under one env protocol (Breakout, frames capped at MAX_FRAMES) two
ways, one torch thread each:
  d3rlpy: `evaluate_transformer_with_environment(algo.as_stateful_wrapper(...), env, EPISODES)`
  ours:   `benchmark.evaluation.run_episodes(policy, make_env, EPISODES, seed, target_return)`
Actions are sampled (softmax), so the episodes differ between the two: env-steps/s is the
like-for-like number. Target (issue 13): ours >= 1.8x d3rlpy's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import d3rlpy
import gymnasium as gym
import numpy as np
import pytest

from baselines.dt import DecisionTransformer
from baselines.hyperparameters import DTAtari
from benchmark import behaviour, datasets
from benchmark.algorithms import Budget
from benchmark.envs import EnvSpec, make_env, protocol_for
from benchmark.evaluation import run_episodes
from benchmark.training import TrainLog

pytestmark = pytest.mark.benchmark(group="evaluation")

EPISODES = 4
MAX_FRAMES = 2000  # per episode: 500 agent steps at most
TRAIN_STEPS = 10
TARGET_RETURN = 90.0
SEED = 0


class _StepCounter(gym.Wrapper):
    """Counts the env steps d3rlpy's evaluation loop takes."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.steps = 0

    def step(self, action: Any) -> Any:
        self.steps += 1
        return self.env.step(action)


@pytest.fixture(scope="module")
def paper_size_dt(tmp_path_factory: pytest.TempPathFactory) -> DecisionTransformer:
    folder = tmp_path_factory.mktemp("dt")
    episodes = behaviour.scripted_atari_episodes("breakout", 3000, [1.0, 0.3, 0.05], SEED, 8000)
    arrays = datasets.concatenate(episode for episode, _ in episodes)
    data = datasets.write(folder / "data", arrays, {"suite": "atari", "env": "breakout", "action_size": 4})
    spec = EnvSpec("atari", "breakout", (4, 84, 84), discrete=True, action_size=4)
    budget = Budget(steps=TRAIN_STEPS, batch_size=8, eval_every=TRAIN_STEPS)
    baseline = DecisionTransformer(spec, dataclasses.asdict(DTAtari()), SEED)
    baseline.fit(data, budget, Path(folder), TrainLog(Path(folder) / "train_log.csv", lambda step: None))
    return baseline


def _make() -> gym.Env:
    return make_env("atari", "breakout", protocol_for("atari", {"max_episode_frames": MAX_FRAMES}))


def test_dt_evaluation_against_d3rlpy(
    benchmark: Any, record: Callable[..., None], paper_size_dt: DecisionTransformer
) -> None:
    d3rlpy.seed(SEED)
    env = _StepCounter(_make())
    env.reset(seed=SEED)  # seeds the env's generator; d3rlpy's loop resets without a seed
    wrapper = paper_size_dt.algo.as_stateful_wrapper(
        TARGET_RETURN, action_sampler=d3rlpy.algos.SoftmaxTransformerActionSampler()
    )
    started = time.perf_counter()
    d3rlpy.metrics.evaluate_transformer_with_environment(wrapper, env, EPISODES)
    theirs = env.steps / (time.perf_counter() - started)
    env.close()

    def ours() -> np.ndarray:
        return run_episodes(paper_size_dt.policy(), _make, EPISODES, SEED, TARGET_RETURN)[1]

    lengths = benchmark.pedantic(ours, rounds=1, iterations=1)
    assert len(lengths) == EPISODES and lengths.min() > 0
    batched = lengths.sum() / benchmark.stats.stats.mean
    record("d3rlpy_env_steps_per_s", theirs)
    record("batched_env_steps_per_s", batched)
    record("ratio_batched_over_d3rlpy", batched / theirs, "x (target >= 1.8)")
