"""Rendering speed: ms per 84x84 Hopper frame under the current render protocol
(`more3s.render.RenderProtocol`) against MuJoCo's default scene as gymnasium draws it (shadows,
reflections, 4x multisampling: `GYMNASIUM_DEFAULT`), the same states, one renderer each (EGL).
Issue 13's target: <= 10 ms a frame, dataset and live alike (both use `StateRenderer`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from benchmark import envs
from more3s.render import GYMNASIUM_DEFAULT, RenderProtocol, StateRenderer

pytestmark = pytest.mark.benchmark(group="render")

FRAMES = 50
SIZE = 84
ROUNDS = 2  # the fastest counts, for both


def hopper_states(n: int) -> np.ndarray:
    """Observations along a random-action Hopper rollout (resets at falls): varied poses."""
    env = envs.make_env("mujoco", "hopper", envs.protocol_for("mujoco"))
    observation, _ = env.reset(seed=0)
    env.action_space.seed(0)
    states = []
    for _ in range(n):
        states.append(observation)
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            observation, _ = env.reset()
    env.close()
    return np.stack(states)


def test_render_ms_per_frame(benchmark: Any, record: Callable[..., None]) -> None:
    states = hopper_states(FRAMES)
    default = StateRenderer("hopper", dataclasses.replace(GYMNASIUM_DEFAULT, size=SIZE))
    default(states[:2])  # the first frames set up the GL context and buffers
    seconds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        default(states)
        seconds.append(time.perf_counter() - started)
    default_ms = 1e3 * min(seconds) / FRAMES
    default.close()

    current = StateRenderer("hopper", RenderProtocol(size=SIZE))
    current(states[:2])
    frames = benchmark.pedantic(current, args=(states,), rounds=ROUNDS, iterations=1)
    current.close()
    assert frames.shape == (FRAMES, SIZE, SIZE, 3) and frames.std() > 0
    current_ms = 1e3 * benchmark.stats.stats.min / FRAMES
    record("current_protocol_ms_per_frame", current_ms, f"ms ({RenderProtocol().name})")
    record("gymnasium_default_ms_per_frame", default_ms, "ms")
    record("speedup_current_over_default", default_ms / current_ms, "x")
