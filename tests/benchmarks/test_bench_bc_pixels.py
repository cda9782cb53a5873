"""bc-pixels' cost, the measurement benchmark.plan prices it with (MEASURED "train/mujoco/bc-pixels",
"evaluate/mujoco/bc-pixels") and config/config.yaml quotes: seconds per training step at the
default preset's sizes (batch 64, 2 frames of 84x84, feature 512, one torch thread) over STEPS
steps of d3rlpy's fit on a rendered random Hopper dataset (the train log's wall_s, from the first
step), and the policy's milliseconds per env step (drawing the live states + the CNN, ENVS envs a
batch). The default preset's 5000 steps are extrapolated from these."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import write_random_dataset

from baselines.hyperparameters import frames_spec
from benchmark import algorithms, envs, paths
from benchmark.specs import Budget
from benchmark.training import TrainLog
from more3s import features

pytestmark = pytest.mark.benchmark(group="bc-pixels")

STEPS = 200
BATCH = 64  # the default preset's MuJoCo batch
ENVS = 10
ACTS = 50


def test_bc_pixels_seconds_per_step(in_tmp: Path, benchmark: Any, record: Callable[..., None]) -> None:
    data = write_random_dataset(
        paths.dataset_dir("mujoco", "hopper", "random"), "mujoco", episodes=10, length=100, name="random"
    )
    hyperparameters = algorithms.hyperparameters("bc-pixels", "mujoco", {})
    cls = algorithms.get("bc-pixels")
    features.build_frames(frames_spec("mujoco", "hopper", "random", hyperparameters))
    algorithm = cls(envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco")), hyperparameters, 0)
    log = TrainLog(in_tmp / paths.TRAIN_LOG, lambda step: None)
    budget = Budget(steps=STEPS, batch_size=BATCH, eval_every=STEPS)
    benchmark.pedantic(algorithm.fit, args=(data, budget, in_tmp, log), rounds=1, iterations=1)
    step_s = log.rows[-1]["wall_s"] / STEPS

    policy = algorithm.policy()
    policy.reset(ENVS, None)
    observations = np.asarray(data.observations[:ENVS])
    started = time.perf_counter()
    for _ in range(ACTS):
        actions = policy.act(observations, np.zeros(ENVS), np.arange(ENVS))
    act_ms = 1e3 * (time.perf_counter() - started) / (ACTS * ENVS)
    policy.close()
    assert actions.shape == (ENVS, 3)
    record("train_s_per_step", step_s, f"s (batch {BATCH})")
    record("train_min_per_5000_steps", step_s * 5000 / 60, "min (extrapolated)")
    record("policy_ms_per_env_step", act_ms, f"ms ({ENVS} envs a batch)")
