"""Stored datasets: round trip, hashes checked before use, bad files named in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_random_dataset

from benchmark import behaviour, datasets
from benchmark.errors import BenchmarkError


def test_round_trip_keeps_arrays_and_records_hashes(tmp_path: Path) -> None:
    written = write_random_dataset(tmp_path, "mujoco")
    loaded = datasets.load(tmp_path)
    for field in datasets.FIELDS:
        np.testing.assert_array_equal(getattr(loaded, field), getattr(written, field))
        assert loaded.card["sha256"][f"{field}.npy"] == datasets.sha256(tmp_path / f"{field}.npy")
    assert loaded.card["episodes"] == 4
    assert loaded.sha256 == written.card["dataset_sha256"]


def test_a_changed_byte_fails_naming_the_file_and_both_hashes(tmp_path: Path) -> None:
    write_random_dataset(tmp_path, "mujoco")
    path = tmp_path / "rewards.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(BenchmarkError) as raised:
        datasets.load(tmp_path)
    message = str(raised.value)
    assert str(path) in message and "does not match the card's" in message and "\n" not in message


@pytest.mark.parametrize(
    ("field", "corrupt", "expected"),
    [
        (
            "rewards",
            lambda a: np.where(np.arange(len(a)) == 3, np.nan, a).astype(np.float32),
            "rewards.npy: contains NaN or inf",
        ),
        ("terminals", lambda a: np.zeros_like(a), "terminals.npy: the last episode has no end flag"),
        ("rewards", lambda a: a[:-1], "observations.npy: 160 rows, rewards has 159"),
    ],
)
def test_malformed_arrays_are_named(tmp_path: Path, field: str, corrupt, expected: str) -> None:
    dataset = write_random_dataset(tmp_path, "mujoco")
    arrays = {f: np.asarray(getattr(dataset, f)) for f in datasets.FIELDS}
    arrays[field] = corrupt(arrays[field])
    with pytest.raises(BenchmarkError, match=expected.replace(".", r"\.")):
        datasets.write(tmp_path / "bad", arrays, dict(dataset.card))


def test_atari_frames_are_stored_once_and_stacked_at_sample_time(tmp_path: Path) -> None:
    dataset = write_random_dataset(tmp_path, "atari")
    assert dataset.observations.shape[1:] == (84, 84)
    loaded = datasets.load(tmp_path)
    assert isinstance(loaded.observations, np.memmap)
    buffer = loaded.to_d3rlpy(frame_stack=4)
    episode = buffer.episodes[0]
    transition = buffer.transition_picker(episode, 10)
    assert transition.observation.shape == (4, 84, 84)
    # the stack ends with frame 10 and starts 3 frames earlier
    np.testing.assert_array_equal(transition.observation[-1], loaded.observations[10])
    np.testing.assert_array_equal(transition.observation[0], loaded.observations[7])


def test_scripted_behaviour_beats_random_play() -> None:
    """The generated Atari data spans random to good play: the script must really play."""
    played = list(behaviour.scripted_atari_episodes("breakout", 2500, [0.0, 1.0], seed=0, max_episode_frames=10_000))
    returns = {epsilon: float(episode.rewards.sum()) for episode, epsilon in played[:2]}
    assert returns[0.0] > 10 * max(returns[1.0], 1.0)


def test_card_shows_returns_along_the_buffer(tmp_path: Path) -> None:
    dataset = write_random_dataset(tmp_path, "mujoco", episodes=10)
    card = datasets.load(tmp_path).card
    assert len(card["episode_return_along_buffer"]) == 10
    assert card["episode_return"]["min"] <= card["episode_return"]["mean"] <= card["episode_return"]["max"]
    np.testing.assert_allclose(card["episode_return_along_buffer"], dataset.episode_returns())
