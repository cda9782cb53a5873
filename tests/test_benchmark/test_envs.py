"""The evaluation protocols: shapes, frame stacks as training builds them, and overrides and
versions visible in the protocol's name."""

from __future__ import annotations

import numpy as np

from baselines._d3rlpy import to_d3rlpy
from benchmark import envs
from benchmark.datasets import OfflineDataset


def test_atari_protocol_observations() -> None:
    protocol = envs.protocol_for("atari")
    stacked = envs.make_env("atari", "pong", protocol)
    single = envs.make_env("atari", "pong", protocol, stack=False)
    obs, _ = stacked.reset(seed=0)
    frame, _ = single.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert frame.shape == (1, 84, 84)
    np.testing.assert_array_equal(obs[-1], frame[0])  # same seed, same no-op start


def test_live_frame_stacks_equal_the_stacks_training_builds() -> None:
    """An episode's first observations, live, are the 4-frame stacks d3rlpy's picker (CQL, BC)
    and trajectory slicer (DT) build from the stored single frames: zeros before the first frame."""
    protocol = envs.protocol_for("atari")
    stacked = envs.make_env("atari", "pong", protocol)
    single = envs.make_env("atari", "pong", protocol, stack=False)
    live, frames = [stacked.reset(seed=3)[0]], [single.reset(seed=3)[0][0]]
    for action in (1, 2, 3, 2, 0):  # same seed, same actions: same frames
        live.append(stacked.step(action)[0])
        frames.append(single.step(action)[0][0])
    n = len(frames)
    ends = np.zeros(n, np.float32)
    ends[-1] = 1.0
    stored = OfflineDataset(
        np.stack(frames),
        np.zeros(n, np.int64),
        np.zeros(n, np.float32),
        ends,
        np.zeros(n, np.float32),
        {"action_size": 6},
    )
    data = to_d3rlpy(stored, protocol.frame_stack)
    episode = data.episodes[0]
    for t in range(n):
        np.testing.assert_array_equal(live[t], data.transition_picker(episode, t).observation, err_msg=f"step {t}")
    np.testing.assert_array_equal(np.stack(live), data.trajectory_slicer(episode, n - 1, n).observations)
    assert not live[0][:3].any() and live[0][3].any()  # three zero frames, then the reset frame


def test_protocol_overrides_rename_the_protocol() -> None:
    assert envs.protocol_for("atari").name == "atari-dt-v2"
    assert envs.protocol_for("atari", {"max_episode_frames": 108_000}).name == "atari-dt-v2"
    changed = envs.protocol_for("atari", {"max_episode_frames": 27_000})
    assert changed.name == "atari-dt-v2[max_episode_frames=27000]"
    assert envs.protocol_from_record(vars(changed)) == changed


def test_older_protocol_records_load_as_they_were_measured() -> None:
    """A run's config.json from before atari-dt-v2 (no frame_stack_padding field) still loads,
    with the reset-frame padding it was evaluated with; MuJoCo's protocol measures as before."""
    v1 = {
        "name": "atari-dt-v1[max_episode_frames=27000]",
        "frame_skip": 4,
        "screen_size": 84,
        "frame_stack": 4,
        "sticky_action_probability": 0.0,
        "noop_max": 30,
        "terminal_on_life_loss": False,
        "max_episode_frames": 27000,
        "eval_epsilon": 0.001,
    }
    old = envs.protocol_from_record(v1)
    assert isinstance(old, envs.AtariProtocol)
    assert (old.name, old.frame_stack_padding, old.max_episode_frames) == (v1["name"], "reset", 27000)
    obs, _ = envs.make_env("atari", "pong", old).reset(seed=0)
    assert all((frame == obs[-1]).all() for frame in obs)
    mujoco = {"name": "mujoco-v5-v1", "max_episode_steps": 1000, "eval_epsilon": 0.0}
    assert envs.protocol_from_record(mujoco) == envs.protocol_for("mujoco") == envs.MujocoProtocol(**mujoco)


def test_env_spec_knows_action_spaces() -> None:
    breakout = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    assert breakout.discrete and breakout.action_size == 4
    assert breakout.action_meanings == ("NOOP", "FIRE", "RIGHT", "LEFT")
    hopper = envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco"))
    assert not hopper.discrete and hopper.action_size == 3 and hopper.observation_shape == (11,)


def test_the_declared_spaces_are_those_gymnasium_makes() -> None:
    """What the capacity plan sizes by without making an env (`SPACES`) is each env's own."""
    assert set(envs.SPACES) == {(suite, env) for suite, games in envs.SUITES.items() for env in games}
    for suite, env in envs.SPACES:
        made = envs.EnvSpec.of(suite, env, envs.protocol_for(suite))
        declared = envs.EnvSpec.declared(suite, env)
        assert (declared.observation_shape, declared.discrete, declared.action_size) == (
            made.observation_shape,
            made.discrete,
            made.action_size,
        ), (suite, env)
