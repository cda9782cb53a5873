"""MORE-3S as an algorithm of the grid: the leak diagnostic, determinism, honest records."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import RecordActions
from more3s_helpers import random_dataset, trained

from benchmark import envs
from benchmark.algorithms import ALGORITHMS, hyperparameters
from benchmark.errors import BenchmarkError
from benchmark.evaluation import run_episodes
from more3s import features
from more3s.hyperparameters import ABLATIONS, features_spec


def final_accuracy(name: str) -> float:
    return float(pd.read_csv(Path("logs") / name / "train_log.csv")["action_accuracy"].iloc[-1])


def test_the_leaky_pairing_shows_the_leak_and_the_fixed_one_does_not(in_tmp: Path) -> None:
    """Text only, so the action can only come from the text: paired with a_t (the authors' bug)
    the model reads the answer; paired with a_{t-1} it cannot beat chance on random actions."""
    random_dataset(episodes=8, length=50)
    common = {"modality": "text", "learning_rate": 3e-3}
    trained("more3s-leaky", steps=150, batch=16, **common)
    trained("more3s", steps=150, batch=16, **common)
    assert final_accuracy("more3s-leaky") > 0.95
    assert final_accuracy("more3s") < 0.45  # 4 random actions: chance is 0.25


def test_same_seed_twice_gives_identical_scores(in_tmp: Path) -> None:
    random_dataset(episodes=3, length=30)
    protocol = envs.protocol_for("atari", {"max_episode_frames": 1200})
    returns = []
    for _ in range(2):
        algorithm, _ = trained("more3s", steps=6, seed=3)
        episodes = run_episodes(
            algorithm.policy(), lambda: envs.make_env("atari", "breakout", protocol), 2, seed=5, target_return=90.0
        )
        returns.append(np.concatenate(episodes))
    np.testing.assert_array_equal(returns[0], returns[1])


def test_the_text_of_each_step_names_the_action_the_env_executed(in_tmp: Path) -> None:
    """With the evaluation epsilon at 1 every chosen action is replaced: the text fed with frame
    s_t names the action its env executed at t-1 ("no action yet" at t = 0), as in training."""
    random_dataset(episodes=3, length=30)
    algorithm, _ = trained("more3s", steps=2)
    policy = algorithm.policy()
    protocol = envs.protocol_for("atari", {"max_episode_frames": 200})
    pool: list[RecordActions] = []

    def make() -> gym.Env:
        pool.append(RecordActions(envs.make_env("atari", "breakout", protocol)))
        return pool[-1]

    named: list[Any] = []  # the action of each text made in one `act`, in env_ids order
    fed: list[list[int | None]] = [[], []]  # per env: the action named with each step's frame
    act, texts = policy.act, policy.texts

    def spy_texts(action: Any) -> str:
        named.append(None if action is None else int(action))
        return texts(action)

    def spy_act(observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        named.clear()
        chosen = act(observations, rewards, env_ids)
        for env_id, action in zip(env_ids, named, strict=True):
            fed[env_id].append(action)
        return chosen

    policy.texts, policy.act = spy_texts, spy_act  # type: ignore[method-assign]
    run_episodes(policy, make, 2, seed=0, target_return=90.0, epsilon=1.0)
    assert all(len(env.actions) > 10 for env in pool)
    for env_id, env in enumerate(pool):
        assert fed[env_id] == [None, *env.actions[:-1]], f"env {env_id}"


@pytest.mark.parametrize("suite", ["atari", "mujoco"])
def test_live_features_train_to_the_cached_numbers(in_tmp: Path, suite: str, one_thread: None) -> None:
    """`features: live` encodes each batch during training instead of reading the cache: the same
    fp16 rows, so the same losses and the same weights."""
    random_dataset(suite, episodes=2, length=16)
    logs, weights = [], []
    for storage in ("cache", "live"):
        algorithm, _ = trained("more3s", suite, steps=4, features=storage)
        logs.append(pd.read_csv(Path("logs") / "more3s" / "train_log.csv"))
        weights.append({k: v.clone() for k, v in algorithm.model.state_dict().items()})
    pd.testing.assert_frame_equal(logs[0].drop(columns="wall_s"), logs[1].drop(columns="wall_s"))
    for name, value in weights[0].items():
        np.testing.assert_array_equal(value.numpy(), weights[1][name].numpy(), err_msg=name)


def test_a_checkpoint_reloads_to_the_same_policy_and_records_what_was_pretrained(in_tmp: Path) -> None:
    random_dataset("mujoco", episodes=2, length=20)
    algorithm, hp = trained("more3s-rtg-token", suite="mujoco", steps=4)
    assert algorithm.pretrained == "lxmert=no; text=all-MiniLM-L6-v2 (embeddings + layers 0-0); gpt2=no"
    # `fit` read the features folder the workflow made for the run (its spec built in one place)
    assert algorithm.features_folder == features_spec("mujoco", "hopper", "random", hp).folder
    spec = envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco"))
    loaded = type(algorithm).load(Path("ck/more3s-rtg-token/step4.pt"), spec, hp, 0)
    protocol = envs.protocol_for("mujoco", {"max_episode_steps": 15})
    play = [
        run_episodes(a.policy(), lambda: envs.make_env("mujoco", "hopper", protocol), 2, seed=1, target_return=3600.0)
        for a in (algorithm, loaded)
    ]
    np.testing.assert_array_equal(play[0][0], play[1][0])
    assert loaded.pretrained == algorithm.pretrained


def test_a_bad_switch_names_its_config_key() -> None:
    with pytest.raises(BenchmarkError, match=r"^config key 'algorithms.more3s-memory.atari.modality': 'sound' is not"):
        hyperparameters("more3s-memory", "atari", {"modality": "sound"})


def test_every_ablation_changes_one_switch_of_the_published_model() -> None:
    """An ablation's VARIANT changes the published model's defaults only in its own keys; a key may
    pin the default (random-init's encoder_language_init), so that no preset can turn it back."""
    published = dataclasses.asdict(ALGORITHMS["more3s"].published["atari"])
    for name, variant in ABLATIONS.items():
        changed = dataclasses.asdict(ALGORITHMS[name].published["atari"])
        assert {k for k in published if published[k] != changed[k]} <= set(variant), name
        assert {k: changed[k] for k in variant} == variant, name
        assert any(published[k] != v for k, v in variant.items()), name


def test_standardized_inputs_use_the_training_statistics_in_training_and_live_play(in_tmp: Path) -> None:
    data = random_dataset("atari", episodes=2, length=20)
    algorithm, hp = trained("more3s-standardized", steps=2)
    mean, std = features.load(algorithm.features_folder, data).statistics()
    spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    loaded = type(algorithm).load(Path("ck/more3s-standardized/step2.pt"), spec, hp, 0)
    fuse = loaded.policy().model.fuse  # what live play fuses with, restored from the checkpoint
    np.testing.assert_array_equal(fuse.input_mean.numpy(), mean)
    np.testing.assert_array_equal(fuse.input_std.numpy(), std)
    encoded = torch.as_tensor(features.load(algorithm.features_folder, data).rows(np.arange(3)))
    by_hand = fuse.mlp(((encoded.float() - torch.tensor(mean)) / torch.tensor(std)).flatten(-2))
    torch.testing.assert_close(fuse(encoded), by_hand)
    unstandardized, _ = trained("more3s", steps=2)
    assert not hasattr(unstandardized.model.fuse, "input_mean")  # the paper's fusion reads raw outputs
