"""bc-pixels, the pixel control beside MORE-3S: its frame stacks, a train -> checkpoint -> live
policy round trip on rendered Hopper states, what each run records it reads, and the workflow
drawing its frames store before it trains."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_project, snakemake, write_random_dataset

from baselines._d3rlpy import to_d3rlpy
from baselines.bc_pixels import PaddedFrameStackPicker, StackedFramesPolicy, stack_frames
from benchmark import algorithms, checkpoints, config, envs, evaluation, io, paths, training
from benchmark.specs import RunSpec
from more3s import features
from more3s.render import RenderProtocol

TINY = {"feature_size": 16}


def _labelled_frames(n: int, size: int = 4) -> np.ndarray:
    """(n, size, size, 3) frames whose pixels say their row (value row % 50 * 5) and channel (+ 0/1/2)."""
    frames = np.zeros((n, size, size, 3), dtype=np.uint8)
    frames += (np.arange(n) % 50 * 5).astype(np.uint8)[:, None, None, None]
    return frames + np.arange(3, dtype=np.uint8)


def test_a_stack_is_the_last_frames_oldest_first_padded_with_the_episodes_first() -> None:
    episode = np.moveaxis(_labelled_frames(6), -1, 1)  # (T, 3, H, W)
    stacked = stack_frames(episode, 3, 2)
    assert stacked.shape == (6, 4, 4)
    assert stacked[:, 0, 0].tolist() == [10, 11, 12, 15, 16, 17]  # frame 2's R, G, B, then frame 3's
    assert stack_frames(episode, 0, 2)[:, 0, 0].tolist() == [0, 1, 2, 0, 1, 2]  # before the start: frame 0
    assert stack_frames(episode, 1, 3)[:, 0, 0].tolist() == [0, 1, 2, 0, 1, 2, 5, 6, 7]


def test_the_training_data_pads_each_episode_with_its_own_first_frame(in_tmp: Path) -> None:
    """Through d3rlpy's episodes: the second episode's first step repeats its own first frame (row
    40), not the first episode's last, nor zeros (d3rlpy's own frame stack pads with zeros)."""
    data = write_random_dataset(in_tmp / "data", "mujoco", episodes=2, length=40)
    frames = _labelled_frames(80)
    dataset = to_d3rlpy(data, None, np.moveaxis(frames, -1, 1), PaddedFrameStackPicker(2))
    second = dataset.episodes[1]
    first_step = dataset.transition_picker(second, 0)
    assert first_step.observation[:, 0, 0].tolist() == [200, 201, 202, 200, 201, 202]
    assert dataset.transition_picker(second, 1).observation[:, 0, 0].tolist() == [200, 201, 202, 205, 206, 207]
    np.testing.assert_array_equal(first_step.action, data.actions[40])


class _LabelRenderer:
    """Draws observation [k] as a frame of value k (StateRenderer's interface, no MuJoCo)."""

    protocol = RenderProtocol(size=4)

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        return np.repeat(observations.astype(np.uint8)[:, None, None, :], 4, axis=1).repeat(4, axis=2).repeat(3, -1)

    def close(self) -> None:
        pass


class _Echo:
    """A d3rlpy algo whose prediction is its input: the stacks the policy built."""

    def predict(self, observations: np.ndarray) -> np.ndarray:
        return observations


def test_the_live_stack_slides_each_envs_own_frames() -> None:
    policy = StackedFramesPolicy(_Echo(), _LabelRenderer(), 2)  # type: ignore[arg-type]
    policy.reset(3, None)
    first = policy.act(np.array([[10.0], [20.0], [30.0]]), np.zeros(3), np.array([0, 1, 2]))
    assert first.shape == (3, 6, 4, 4)
    assert first[:, ::3, 0, 0].tolist() == [[10, 10], [20, 20], [30, 30]]  # reset: the first frame twice
    second = policy.act(np.array([[11.0], [31.0]]), np.zeros(2), np.array([0, 2]))  # env 1's episode is over
    assert second[:, ::3, 0, 0].tolist() == [[10, 11], [30, 31]]  # oldest first
    third = policy.act(np.array([[12.0]]), np.zeros(1), np.array([0]))
    assert third[:, ::3, 0, 0].tolist() == [[11, 12]]


def _pixel_preset(smoke_config: dict[str, Any]) -> dict[str, Any]:
    """The smoke preset's Hopper task only, with a small bc-pixels."""
    preset = copy.deepcopy(smoke_config)
    del preset["suites"]["atari"]
    preset["algorithms"] = {"bc": preset["algorithms"]["bc"], "bc-pixels": {"mujoco": TINY}}
    config.validate(preset)
    return preset


def test_bc_pixels_shares_the_frames_store_live_more3s_features_read(smoke_config: dict[str, Any]) -> None:
    """Both draw under MORE-3S's default render protocol: one store per dataset, not two."""
    preset = _pixel_preset(smoke_config)
    preset["algorithms"]["more3s"] = {"mujoco": {**smoke_config["algorithms"]["more3s"]["mujoco"], "features": "live"}}
    typed = config.validate(preset)
    stores = config.frames_grid(typed)
    assert list(stores) == [str(features.FramesSpec("hopper", "mixed", RenderProtocol(size=84)).folder)]
    assert config.frames_spec(typed, config.RunKey("mujoco", "hopper", "mixed", "bc", 0)) is None


@pytest.fixture
def pixel_run(smoke_config: dict[str, Any], in_tmp: Path) -> tuple[RunSpec, np.ndarray]:
    """bc-pixels trained 4 steps through the train stage on 2 random Hopper episodes of 10 steps,
    drawn into its frames store first (as the workflow's frames job does)."""
    preset = config.validate(_pixel_preset(smoke_config))
    key = config.RunKey("mujoco", "hopper", "mixed", "bc-pixels", 0)
    spec = config.run_spec(preset, key)
    spec = dataclasses.replace(spec, budget=dataclasses.replace(spec.budget, steps=4, batch_size=4, eval_every=2))
    write_random_dataset(spec.dataset.folder, "mujoco", name="mixed", episodes=2, length=10)
    store = config.frames_spec(preset, key)
    assert store == features.FramesSpec("hopper", "mixed", RenderProtocol(size=84))  # MORE-3S's default
    features.build_frames(store)
    training.train(spec)
    return spec, np.load(store.folder / "frames.npy")


def test_bc_pixels_trains_saves_loads_and_acts_on_live_frames(pixel_run: tuple[RunSpec, np.ndarray]) -> None:
    spec, stored = pixel_run
    recorded = io.read_json(paths.run_dir(spec.run) / paths.RUN_CONFIG)
    assert recorded["inputs"] == "pixels"
    manifest = io.read_json(paths.checkpoint_dir(spec.run) / paths.CHECKPOINT_MANIFEST)
    last = manifest["checkpoints"][-1]
    assert [c["train_step"] for c in manifest["checkpoints"]] == [2, 4]
    assert sorted(last["sha256"]) == ["step00000004.frames.json", "step00000004.json", "step00000004.pt"]

    loaded = checkpoints.load_checkpoint(spec, Path(last["path"]), spec.env_spec())
    assert tuple(loaded.algo.impl.observation_shape) == (6, 84, 84)  # 2 RGB frames
    policy = loaded.policy()
    assert isinstance(policy, StackedFramesPolicy)
    assert policy.renderer.protocol == RenderProtocol(size=84)  # the store's, read back
    data_observations = np.load(spec.dataset.folder / "observations.npy")
    # live states drawn under the store's protocol are the stored frames: the stacks training saw
    at_reset = np.concatenate([stored[0], stored[0]], axis=-1).transpose(2, 0, 1)
    after_one = np.concatenate([stored[0], stored[1]], axis=-1).transpose(2, 0, 1)
    try:
        policy.reset(1, None)
        first = policy.act(data_observations[[0]], np.zeros(1), np.array([0]))
        np.testing.assert_array_equal(policy.stacks[0].reshape(6, 84, 84), at_reset)
        second = policy.act(data_observations[[1]], np.zeros(1), np.array([0]))
        np.testing.assert_array_equal(policy.stacks[0].reshape(6, 84, 84), after_one)
    finally:
        policy.close()
    np.testing.assert_allclose(first, loaded.algo.predict(at_reset[None]), atol=1e-6)
    np.testing.assert_allclose(second, loaded.algo.predict(after_one[None]), atol=1e-6)
    assert first.shape == (1, 3) and not np.array_equal(first, second)


def test_the_evaluate_stage_plays_bc_pixels_and_frees_each_checkpoints_renderer(
    pixel_run: tuple[RunSpec, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = pixel_run
    closed: list[int] = []
    close = StackedFramesPolicy.close
    monkeypatch.setattr(StackedFramesPolicy, "close", lambda policy: (closed.append(1), close(policy)))
    evaluation.evaluate(spec.run)
    played = pd.read_csv(paths.run_dir(spec.run) / paths.EVALUATIONS)
    assert played.groupby("train_step").size().to_dict() == {2: 1, 4: 2}  # smoke's 1 episode, 2 at the last
    assert (played["length"] > 0).all() and len(closed) == 2  # one renderer per checkpoint, each closed


@pytest.mark.parametrize(
    ("name", "suite", "expected"),
    [
        ("bc", "mujoco", "state"),
        ("bc", "atari", "pixels"),  # Atari's observation is the game's frames
        ("bc-pixels", "mujoco", "pixels"),
        ("more3s", "mujoco", "pixels+text"),
        ("more3s-image-only", "mujoco", "pixels"),
        ("more3s-text-only", "atari", "text"),
    ],
)
def test_each_algorithm_says_what_it_reads(name: str, suite: str, expected: str) -> None:
    env = "hopper" if suite == "mujoco" else "breakout"
    cls = algorithms.get(name)
    hyperparameters = algorithms.hyperparameters(name, suite, {})
    assert cls(envs.EnvSpec.of(suite, env, envs.protocol_for(suite)), hyperparameters, 0).inputs == expected


def test_the_workflow_draws_the_frames_store_before_bc_pixels_trains(
    smoke_config: dict[str, Any], tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    (project / "config" / "pixels.yaml").write_text(yaml.safe_dump(_pixel_preset(smoke_config)))
    result = snakemake("-n", "all", "--configfile", "config/pixels.yaml", cwd=project)
    assert result.returncode == 0, result.stderr[-2000:]
    store = features.FramesSpec("hopper", "mixed", RenderProtocol(size=84))
    card = str(store.folder / paths.FRAMES_CARD)
    jobs = result.stdout.split("\nrule ")
    frames_jobs = [job for job in jobs if job.startswith("frames:")]
    assert len(frames_jobs) == 1 and card in frames_jobs[0]  # one store, shared by both seeds
    pixel_trains = [job for job in jobs if job.startswith("train:") and "/bc-pixels/" in job]
    state_trains = [job for job in jobs if job.startswith("train:") and "/bc/" in job]
    assert len(pixel_trains) == 2 and all(card in job.split("output:")[0] for job in pixel_trains)
    assert len(state_trains) == 2 and not any(card in job for job in state_trains)  # bc reads no frames
