"""MuJoCo frames: one versioned render protocol for the dataset and live play, in the cache key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from more3s_helpers import random_dataset, spec_of, trained

from benchmark import envs, io
from benchmark.errors import BenchmarkError
from more3s import features
from more3s.encoder import FrozenEncoder
from more3s.render import GYMNASIUM_DEFAULT, RenderProtocol, StateRenderer


def hopper_states() -> np.ndarray:
    """Two observations of clearly different poses: standing, and the torso tilted by 1.2 rad."""
    env = envs.make_env("mujoco", "hopper", envs.protocol_for("mujoco"))
    standing, _ = env.reset(seed=0)
    tilted = standing.copy()
    tilted[1] = 1.2  # rooty: qpos[2], the observation skips x
    return np.stack([standing, tilted])


def test_dataset_and_live_frames_of_a_state_are_identical(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[np.ndarray] = []
    encode = FrozenEncoder.encode

    def spy(self: FrozenEncoder, frames: np.ndarray, *args: Any, **kwargs: Any) -> torch.Tensor:
        seen.append(np.array(frames))
        return encode(self, frames, *args, **kwargs)

    monkeypatch.setattr(FrozenEncoder, "encode", spy)
    data = random_dataset("mujoco", episodes=1, length=6)
    algorithm, _ = trained("more3s", suite="mujoco", steps=1, batch=2)  # the features stage, then training
    dataset_frames = np.concatenate(seen)
    assert dataset_frames.shape == (6, 84, 84, 3)
    card = io.read_json(algorithm.features_folder / features.CARD)
    assert card["spec"]["render"] == dataclasses.asdict(RenderProtocol())

    seen.clear()
    policy = algorithm.policy()  # evaluation: the renderer of the card's protocol
    policy.reset(2, target_return=100.0)
    policy.act(np.asarray(data.observations)[[3, 4]], np.zeros(2), np.arange(2))
    assert policy.frames.protocol == RenderProtocol()
    (live_frames,) = seen
    assert live_frames.dtype == dataset_frames.dtype == np.uint8
    assert live_frames.tobytes() == dataset_frames[[3, 4]].tobytes()
    # the protocol comes from the cache's card, not from the code's current default
    card["spec"]["render"]["shadows"] = True
    io.write_json(algorithm.features_folder / features.CARD, card)
    assert algorithm.policy().frames.protocol == dataclasses.replace(RenderProtocol(), shadows=True)


def test_every_render_field_changes_the_cache_key() -> None:
    spec = spec_of(suite="mujoco")
    changes = {
        "name": "mujoco-render-test",
        "camera": "another",
        "shadows": True,
        "reflections": True,
        "skybox": False,
        "multisamples": 4,
    }
    assert {*changes, "size"} == {field.name for field in dataclasses.fields(RenderProtocol)}
    ids = {spec.id, spec_of(suite="mujoco", render_size=64).id}
    for field, value in changes.items():
        changed = dataclasses.replace(spec, render=dataclasses.replace(spec.render, **{field: value}))
        assert features.FeaturesSpec.from_dict(dataclasses.asdict(changed)) == changed  # the workflow's JSON
        ids.add(changed.id)
    assert len(ids) == len(changes) + 2
    assert spec_of(suite="atari").render is None  # frames are the game's own


def test_a_frame_shows_the_body_and_the_protocol_is_obeyed() -> None:
    states = hopper_states()
    frames = StateRenderer("hopper", RenderProtocol())(states)
    assert frames.shape == (2, 84, 84, 3) and frames.dtype == np.uint8
    moved = (frames[0] != frames[1]).any(axis=-1).mean()
    assert moved > 0.01, f"only {moved:.2%} of the pixels changed when the body moved"
    shadowed = StateRenderer("hopper", dataclasses.replace(RenderProtocol(), shadows=True))(states)
    assert not np.array_equal(shadowed, frames)
    with pytest.raises(BenchmarkError, match="no camera 'another'"):
        StateRenderer("hopper", dataclasses.replace(RenderProtocol(), camera="another"))


def test_a_card_from_before_the_protocol_renders_as_gymnasium_did() -> None:
    record = dataclasses.asdict(spec_of(suite="mujoco"))
    del record["render"]
    legacy = features.FeaturesSpec.from_dict(record)
    assert legacy.render == GYMNASIUM_DEFAULT
    states = hopper_states()
    env = envs.make_env("mujoco", "hopper", envs.protocol_for("mujoco"), render_mode="rgb_array", width=84, height=84)
    env.reset(seed=0)
    drawn = []
    for observation in states:  # the renderer before the protocol: gymnasium's render()
        env.unwrapped.set_state(np.concatenate([[0.0], observation[:5]]), observation[5:])  # type: ignore[attr-defined]
        drawn.append(env.render())
    assert features.frames_of(legacy)(states).tobytes() == np.stack(drawn).tobytes()


def test_closing_one_policy_leaves_the_frames_of_another_alive_policy_unchanged(in_tmp: Path) -> None:
    random_dataset("mujoco", episodes=1, length=6)
    algorithm, _ = trained("more3s", suite="mujoco", steps=1, batch=2)
    states = hopper_states()
    first, second = algorithm.policy(), algorithm.policy()  # two renderers alive in one process
    first.frames(states)
    drawn_by_second = second.frames(states)  # the second drew last: its GL context is the current one
    first.close()
    assert second.frames(states).tobytes() == drawn_by_second.tobytes()
    assert len(np.unique(drawn_by_second.reshape(2, -1), axis=0)) == 2  # two poses, two frames
    second.close()
