"""The evaluator: the protocol's random actions reach the env and the policy is told them; the
checkpoints' episodes; runs recorded under an older protocol version are refused."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import REPO, RecordActions

from benchmark import envs, io, paths
from benchmark.errors import BenchmarkError
from benchmark.evaluation import evaluate, run_episodes


class AlwaysNoop:
    """Chooses NOOP; records what it is told ran, per env."""

    def reset(self, n_envs: int, target_return: float | None) -> None:
        self.told: list[list[int]] = [[] for _ in range(n_envs)]

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        return np.zeros(len(env_ids), dtype=np.int64)

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        for action, env_id in zip(actions, env_ids, strict=True):
            self.told[env_id].append(int(action))


def _executed(epsilon: float, policy: AlwaysNoop | None = None) -> list[list[int]]:
    """The actions each of two Breakout episodes executed."""
    protocol = envs.protocol_for("atari", {"max_episode_frames": 800})
    pool: list[RecordActions] = []

    def make() -> gym.Env:
        pool.append(RecordActions(envs.make_env("atari", "breakout", protocol)))
        return pool[-1]

    run_episodes(policy or AlwaysNoop(), make, episodes=2, seed=0, target_return=None, epsilon=epsilon)
    return [env.actions for env in pool]


def test_epsilon_replaces_actions_with_random_ones_reproducibly() -> None:
    assert not np.concatenate(_executed(0.0)).any()
    random_share = (np.concatenate(_executed(1.0)) != 0).mean()
    assert 0.6 < random_share < 0.9  # 3 of 4 random actions differ from NOOP
    assert _executed(0.3) == _executed(0.3)


def test_the_policy_is_told_the_actions_the_envs_executed() -> None:
    policy = AlwaysNoop()
    executed = _executed(1.0, policy)  # every action replaced
    assert policy.told == executed
    assert all(any(actions) for actions in policy.told)  # not the NOOPs the policy chose


def test_atari_protocol_evaluates_with_dopamines_epsilon() -> None:
    assert envs.AtariProtocol().eval_epsilon == 0.001
    assert envs.MujocoProtocol().eval_epsilon == 0.0


def test_a_run_recorded_under_an_older_protocol_version_is_not_evaluated(in_tmp: Path) -> None:
    """Its numbers would be labelled with a protocol they were not measured under."""
    run = "atari/breakout/expert/bc/seed0"
    spec = io.read_json(REPO / paths.run_dir(run) / "config.json")  # a committed run
    protocol = vars(envs.protocol_for("atari", {"max_episode_frames": 4000}))
    v1 = {k: v for k, v in protocol.items() if k != "frame_stack_padding"} | {
        "name": "atari-dt-v1[max_episode_frames=4000]"
    }
    io.write_json(paths.run_dir(run) / "config.json", spec | {"protocol": v1})
    with pytest.raises(BenchmarkError, match=r"config\.json: protocol 'atari-dt-v1\[max_episode_frames=4000\]' is an"):
        evaluate(run)
    io.write_json(paths.run_dir(run) / "config.json", spec | {"protocol": protocol})
    with pytest.raises(BenchmarkError, match=r"manifest\.json: missing"):  # past the check: no checkpoints here
        evaluate(run)
