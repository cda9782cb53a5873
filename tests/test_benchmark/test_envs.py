"""The evaluation protocols: shapes, and overrides visible in the protocol's name."""

from __future__ import annotations

import numpy as np

from benchmark import envs


def test_atari_protocol_observations() -> None:
    protocol = envs.protocol_for("atari")
    stacked = envs.make_env("atari", "pong", protocol)
    single = envs.make_env("atari", "pong", protocol, stack=False)
    obs, _ = stacked.reset(seed=0)
    frame, _ = single.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert frame.shape == (1, 84, 84)
    np.testing.assert_array_equal(obs[-1], frame[0])  # same seed, same no-op start


def test_protocol_overrides_rename_the_protocol() -> None:
    assert envs.protocol_for("atari").name == "atari-dt-v1"
    assert envs.protocol_for("atari", {"max_episode_frames": 108_000}).name == "atari-dt-v1"
    changed = envs.protocol_for("atari", {"max_episode_frames": 27_000})
    assert changed.name == "atari-dt-v1[max_episode_frames=27000]"
    assert envs.protocol_from_record(vars(changed)) == changed


def test_env_spec_knows_action_spaces() -> None:
    breakout = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    assert breakout.discrete and breakout.action_size == 4
    assert breakout.action_meanings == ("NOOP", "FIRE", "RIGHT", "LEFT")
    hopper = envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco"))
    assert not hopper.discrete and hopper.action_size == 3 and hopper.observation_shape == (11,)
