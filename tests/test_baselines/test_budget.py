"""Every d3rlpy baseline trains at the budget's batch size: the preset's `batch_size`, or its
`per_algorithm` override, reaches the d3rlpy config `fit` builds."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_random_dataset

from benchmark import algorithms, config, envs

# each d3rlpy baseline that reads MuJoCo states (bc-pixels reads drawn frames: a frames store)
STATE_BASELINES = sorted(
    name
    for name, declaration in algorithms.ALGORITHMS.items()
    if declaration.implementation.startswith("baselines.")
    and "mujoco" in declaration.suites
    and declaration.frames is None
)
HOPPER = envs.EnvSpec("mujoco", "hopper", observation_shape=(11,), discrete=False, action_size=3)


class _Log:
    def start(self) -> None:
        pass

    def checkpoint(self, step: int, metrics: Mapping[str, float]) -> None:
        pass


@pytest.mark.parametrize("name", STATE_BASELINES)
def test_a_baseline_trains_at_the_batch_size_its_preset_gives_it(name: str, in_tmp: Path) -> None:
    preset = config.read(REPO / "config" / "config.yaml")
    preset["algorithms"].setdefault(name, {})
    training = preset["suites"]["mujoco"]["training"]
    training["batch_size"] = 6
    training["per_algorithm"] = {"dt": {"batch_size": 5}}  # one override, so that both paths are seen
    spec = config.run_spec(config.validate(preset), config.RunKey("mujoco", "hopper", "medium", name, 0))
    assert spec.budget.batch_size == (5 if name == "dt" else 6)
    budget = dataclasses.replace(spec.budget, steps=2, eval_every=2)
    data = write_random_dataset(Path("data"), "mujoco", episodes=2, length=20)
    baseline: Any = algorithms.get(name)(HOPPER, spec.hyperparameters, 0)
    baseline.fit(data, budget, in_tmp, _Log())
    assert baseline.algo.config.batch_size == budget.batch_size
