"""The diagnose stage: teacher-forced held-out error with its reference predictors, the noise
floor and closed-loop curve where one policy made the data, and MORE-3S's swap sensitivities."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import generated_spec, write_random_dataset
from more3s_helpers import random_dataset, trained

from benchmark import checkpoints, config, dataset_stage, diagnostics, envs, generators, io, paths, training
from benchmark.preset import Preset
from benchmark.specs import DatasetSpec, RunKey


class CopyPrevious:
    """Plays the action it was last told ran (zeros first); records the targets it was given."""

    def reset(self, n_envs: int, target_return: Any) -> None:
        self.targets = np.broadcast_to(np.asarray(target_return, float), (n_envs,)).copy()
        self.last: dict[int, np.ndarray] = {}

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        return np.stack([self.last.get(int(e), np.zeros(3)) for e in env_ids])

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        self.last.update({int(e): np.asarray(a) for e, a in zip(env_ids, actions, strict=True)})


def test_teacher_forcing_tells_the_logged_actions_and_conditions_each_episode_on_its_return(in_tmp: Path) -> None:
    data = write_random_dataset(Path("d"), "mujoco", episodes=3, length=7)
    policy = CopyPrevious()
    env_spec = envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco"))
    predicted, probabilities = diagnostics.teacher_forced(policy, data, env_spec)
    np.testing.assert_allclose(policy.targets, data.episode_returns())
    previous = np.roll(data.actions, 1, axis=0)
    previous[::7] = 0.0  # each episode's first step: nothing told yet
    np.testing.assert_array_equal(predicted, previous)
    assert probabilities is None


def test_atari_observations_are_the_frame_stack_padded_with_zero_frames(in_tmp: Path) -> None:
    data = write_random_dataset(Path("d"), "atari", episodes=2, length=5)
    env_spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    stacked = diagnostics.stacked_observations(data, np.array([5, 7]), env_spec)  # steps 0 and 2 of episode 2
    assert stacked.shape == (2, 4, 84, 84)
    assert not stacked[0, :3].any() and (stacked[0, 3] == data.observations[5]).all()
    assert not stacked[1, :1].any() and (stacked[1, 1:] == data.observations[5:8]).all()


def test_references_include_the_noise_floor_of_the_policy_that_made_the_data(in_tmp: Path) -> None:
    spec = generated_spec("mujoco", "hopper", "medium", generator="ars-medium", transitions=400, action_noise=0.1)
    data = dataset_stage.generate(spec, spec.folder, log_dir=Path("logs"))
    behaviour = generators.behaviour_policy(spec)
    assert (
        behaviour is not None
        and generators.behaviour_policy(
            dataclasses.replace(spec, options={**spec.options, "generator": "ars-medium-replay"})
        )
        is None
    )
    found = diagnostics.references(data, data, behaviour)
    assert 0.005 < found["noise_floor"]["mse_per_dim"] < 0.0101  # noise std 0.1, clipped to the box
    mean = np.asarray(data.actions).mean(0)
    assert found["mean_action"]["mse_per_dim"] == pytest.approx(np.mean(np.square(data.actions - mean)))
    assert found["previous_action"]["mse_per_dim"] < found["mean_action"]["mse_per_dim"]  # actions persist


class Plays:
    """A stateless BatchPolicy from a function of the observation."""

    def __init__(self, act: Any):
        self.function = act

    def reset(self, n_envs: int, target_return: Any) -> None:
        pass

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        return np.stack([self.function(o) for o in observations])

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        pass


def test_the_closed_loop_curve_is_zero_for_the_behaviour_itself_and_not_for_another_policy() -> None:
    spec = generated_spec("mujoco", "hopper", "medium", generator="ars-medium", transitions=10, action_noise=0.1)
    behaviour = generators.behaviour_policy(spec)
    assert behaviour is not None
    run = dataclasses.make_dataclass("Run", ["key", "protocol", "target_return"])(
        RunKey("mujoco", "hopper", "medium", "x", 0), envs.protocol_for("mujoco", {"max_episode_steps": 60}), 3600.0
    )
    itself = diagnostics.closed_loop(Plays(behaviour), behaviour, run)
    assert itself["mse_per_dim"] == [0.0, 0.0, 0.0] and itself["live_episodes"] == [3, 3, 3]
    still = diagnostics.closed_loop(Plays(lambda o: np.zeros(3)), behaviour, run)
    assert min(still["mse_per_dim"]) > 0.01


def test_a_run_is_diagnosed_on_its_held_out_data(smoke: Preset, in_tmp: Path) -> None:
    key = RunKey("mujoco", "hopper", "mixed", "bc", 0)
    spec = config.run_spec(smoke, key)
    spec = dataclasses.replace(spec, budget=dataclasses.replace(spec.budget, steps=10, eval_every=10))
    held_out_spec = config.heldout_spec(spec.dataset)
    assert held_out_spec is not None and held_out_spec.name == "mixed.heldout"
    assert held_out_spec.seed == spec.dataset.seed + config.HELDOUT_SEED_OFFSET
    assert held_out_spec.options == {**spec.dataset.options, "transitions": 250}  # a quarter of smoke's 1000
    assert config.dataset_spec(smoke, "mujoco", "hopper", "mixed.heldout") == held_out_spec
    # the dataset stage reads its --spec with names checked: the held-out suffix passes, nothing else does
    assert DatasetSpec.from_dict(dataclasses.asdict(held_out_spec), "--spec") == held_out_spec
    write_random_dataset(spec.dataset.folder, "mujoco", name="mixed")
    held_out = write_random_dataset(held_out_spec.folder, "mujoco", seed=1, name="mixed.heldout", episodes=2)
    training.train(spec)
    record = diagnostics.diagnose(spec.run)
    assert record == io.read_json(paths.run_dir(spec.run) / paths.DIAGNOSTICS)
    env_spec = spec.env_spec()
    algorithm = checkpoints.load_checkpoint(
        spec,
        Path(io.read_json(paths.checkpoint_dir(spec.run) / paths.CHECKPOINT_MANIFEST)["checkpoints"][-1]["path"]),
        env_spec,
    )
    by_hand = np.mean(np.square(algorithm.policy().act(held_out.observations, None, None) - held_out.actions))
    assert record["held_out"]["policy"]["mse_per_dim"] == pytest.approx(by_hand)
    assert record["held_out"]["transitions"] == 80 and record["held_out"]["dataset_sha256"] == held_out.sha256
    assert set(record["held_out"]["references"]) == {"mean_action", "previous_action"}  # several policies made it
    assert record["closed_loop"] is None


@pytest.mark.parametrize(
    ("name", "moves_with_frames", "moves_with_texts"),
    [("more3s-text-only", False, True), ("more3s-image-only", True, False)],
)
def test_swaps_move_the_prediction_only_through_the_inputs_a_model_reads(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, name: str, moves_with_frames: bool, moves_with_texts: bool
) -> None:
    monkeypatch.setattr(config, "SWAP_WINDOWS", 24)
    data = random_dataset("atari", episodes=4, length=20)
    algorithm, _ = trained(name, steps=2)
    found = algorithm.diagnostics(data)
    assert (found["frame_swap_change"] > 0) == moves_with_frames, found
    assert (found["text_swap_change"] > 0) == moves_with_texts, found
    assert found["windows"] == 24 and found["error"] > 0
