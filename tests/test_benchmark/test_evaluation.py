"""The evaluator's epsilon: the protocol's random actions reach the env, never the policy."""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym
import numpy as np

from benchmark import envs
from benchmark.evaluation import run_episodes


class AlwaysNoop:
    def reset(self, n_envs: int, target_return: float | None) -> None:
        pass

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        return np.zeros(len(env_ids), dtype=np.int64)


class RecordActions(gym.Wrapper):
    executed: ClassVar[list[int]] = []

    def step(self, action):  # type: ignore[no-untyped-def]
        RecordActions.executed.append(int(action))
        return super().step(action)


def _executed(epsilon: float) -> np.ndarray:
    RecordActions.executed = []
    protocol = envs.protocol_for("atari", {"max_episode_frames": 800})
    run_episodes(
        AlwaysNoop(),
        lambda: RecordActions(envs.make_env("atari", "breakout", protocol)),
        episodes=2,
        seed=0,
        target_return=None,
        epsilon=epsilon,
    )
    return np.asarray(RecordActions.executed)


def test_epsilon_replaces_actions_with_random_ones_reproducibly() -> None:
    assert (_executed(0.0) == 0).all()
    random_share = (_executed(1.0) != 0).mean()
    assert 0.6 < random_share < 0.9  # 3 of 4 random actions differ from NOOP
    np.testing.assert_array_equal(_executed(0.3), _executed(0.3))


def test_atari_protocol_evaluates_with_dopamines_epsilon() -> None:
    assert envs.AtariProtocol().eval_epsilon == 0.001
    assert envs.MujocoProtocol().eval_epsilon == 0.0
