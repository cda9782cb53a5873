"""Stored datasets: round trip, hashes checked before use, bad files named in one line; cards
that show quality; generated-dataset settings checked key by key."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from conftest import generated_spec, write_random_dataset

from benchmark import behaviour, config, dataset_stage, datasets, io, manifest
from benchmark.errors import BenchmarkError


def test_round_trip_keeps_arrays_and_records_hashes(tmp_path: Path) -> None:
    written = write_random_dataset(tmp_path, "mujoco")
    loaded = datasets.load(tmp_path)
    for field in datasets.FIELDS:
        np.testing.assert_array_equal(getattr(loaded, field), getattr(written, field))
        assert loaded.card["sha256"][f"{field}.npy"] == manifest.sha256(tmp_path / f"{field}.npy")
    assert loaded.card["episodes"] == 4
    assert loaded.sha256 == written.card["dataset_sha256"]
    # the manifest, written last, lists every file, the card included, with its hash
    listed = io.read_json(tmp_path / "manifest.json")["files"]
    assert listed == {path.name: manifest.sha256(path) for path in tmp_path.iterdir() if path.name != "manifest.json"}
    assert "dataset.json" in listed


def test_a_changed_byte_fails_naming_the_file_and_both_hashes(tmp_path: Path) -> None:
    write_random_dataset(tmp_path, "mujoco")
    path = tmp_path / "rewards.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(BenchmarkError) as raised:
        datasets.load(tmp_path)
    message = str(raised.value)
    assert str(path) in message and "does not match the manifest's" in message and "\n" not in message


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


def test_replay_style_atari_card_shows_returns_rising_along_the_buffer(in_tmp: Path) -> None:
    """scripted-replay anneals epsilon along the buffer, so the card shows what a replay shows."""
    spec = generated_spec(
        "atari",
        "breakout",
        "replay",
        generator="scripted-replay",
        transitions=3000,
        epsilons=[1.0, 0.0],
        max_episode_frames=4000,
    )
    card = dataset_stage.generate(spec, in_tmp / "replay", in_tmp / "logs").card
    along = card["episode_return_along_buffer"]
    assert along[-1] > along[0] + 5
    assert card["episode_epsilons"][0] == 1.0 and np.all(np.diff(card["episode_epsilons"]) < 0)
    assert "stand-in for DQN-Replay" in card["behaviour"] and "39 env steps/s" in card["behaviour"]
    for key in (
        "transitions",
        "episodes",
        "episode_return",
        "action_histogram",
        "behaviour_normalized_return",
        "wall_s",
    ):
        assert key in card
    assert sum(card["action_histogram"]) == card["transitions"] == 3000
    assert set(card["sha256"]) == {f"{field}.npy" for field in datasets.FIELDS}


def test_continuous_card_summarises_each_action_dimension(tmp_path: Path) -> None:
    dataset = write_random_dataset(tmp_path, "mujoco")
    summary = datasets.load(tmp_path).card["action_summary"]
    np.testing.assert_allclose(summary["mean"], dataset.actions.mean(0), rtol=1e-5)
    np.testing.assert_allclose(summary["std"], dataset.actions.std(0), rtol=1e-5)


def _as_sac(dataset: dict) -> dict:
    """The smoke preset's MuJoCo dataset made from a shared SAC training instead."""
    dataset.clear()
    dataset.update(source="generated", generator="sac-medium-expert", transitions=1000)
    dataset["sac"] = {"steps": 1500, "medium_step": 750, "update_interval": 4}
    return dataset


@pytest.mark.parametrize(
    ("suite", "edit", "expected"),
    [
        (
            "atari",
            lambda d: d.update(update_interval=4),
            "config key 'suites.atari.datasets.mixed.update_interval': not used by generator 'scripted-replay'; "
            "allowed: algorithms, epsilons, generator, max_episode_frames, seed, source, transitions",
        ),
        (
            "atari",
            lambda d: d.update(generator="random"),
            "config key 'suites.atari.datasets.mixed.generator': 'random' generates mujoco data, not atari",
        ),
        (
            "mujoco",
            lambda d: _as_sac(d).pop("sac"),
            "config key 'suites.mujoco.datasets.mixed.sac': required by generator 'sac-medium-expert'",
        ),
        (
            "mujoco",
            lambda d: _as_sac(d)["sac"].update(medium_step=1500),
            "config key 'suites.mujoco.datasets.mixed.sac.medium_step': 1500 must be below sac.steps (1500)",
        ),
        (
            "mujoco",
            lambda d: _as_sac(d)["sac"].update(stepz=1),
            "config key 'suites.mujoco.datasets.mixed.sac.stepz': unknown key; "
            "allowed: steps, medium_step, update_interval",
        ),
        (
            "mujoco",
            lambda d: _as_sac(d).update(action_noise=0.1),
            "config key 'suites.mujoco.datasets.mixed.action_noise': not used by generator 'sac-medium-expert'",
        ),
        (
            "mujoco",
            lambda d: d.update(policy="mine"),
            "config key 'suites.mujoco.datasets.mixed.policy': 'mine' is not allowed; allowed: shipped, trained",
        ),
        (
            "mujoco",
            lambda d: d.update(generator="sac-replay"),
            "config key 'suites.mujoco.datasets.mixed.generator': 'sac-replay' is not allowed; allowed: scripted,",
        ),
    ],
)
def test_bad_dataset_keys_fail_with_one_line_naming_the_key(smoke_config, suite: str, edit, expected: str) -> None:
    broken = copy.deepcopy(smoke_config)
    edit(broken["suites"][suite]["datasets"]["mixed"])
    with pytest.raises(BenchmarkError) as raised:
        config.validate(broken)
    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)
