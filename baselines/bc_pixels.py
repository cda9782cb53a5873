"""Behaviour cloning on pixels (d3rlpy BC with the Nature CNN): the pixel control beside MORE-3S.

MORE-3S is the only other algorithm that sees a MuJoCo task as images. This one reads the same
frames (the frames store, drawn under MORE-3S's default render protocol) without GPT-2, text or a
frozen encoder, so that a MORE-3S score can be told apart from what pixels allow at the preset's
data size and budget. One frame holds no velocity: each state is its last `frames` rendered frames
stacked on the channel axis (RGB, channels-first, oldest first); steps before an episode's start
repeat its first frame, as a frame stack pads at reset. Evaluation draws the live states with the
protocol of the store the policy was trained on (recorded beside each checkpoint).

Published values: none (the suite's own control); d3rlpy's BC defaults (Adam 1e-3, deterministic
MSE policy) with its Atari encoder and pixel scaling, as `bc` on Atari.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import d3rlpy
import numpy as np
from d3rlpy.dataset import Transition

from baselines._d3rlpy import D3rlpyBaseline, to_d3rlpy
from baselines.hyperparameters import BC_PIXELS
from benchmark import io
from benchmark.algorithms import BatchPolicy, Budget
from benchmark.datasets import OfflineDataset
from benchmark.envs import EnvSpec
from more3s.features import FramesSpec, load_frames
from more3s.render import StateRenderer


def stack_frames(episode_frames: np.ndarray, index: int, frames: int) -> np.ndarray:
    """Frames `index - frames + 1 .. index` of one episode's (T, C, H, W) frames on the channel
    axis, oldest first: (frames * C, H, W); frames before the episode's first are its first."""
    rows = np.maximum(np.arange(index - frames + 1, index + 1), 0)
    stacked = np.asarray(episode_frames[rows])
    return stacked.reshape(-1, *stacked.shape[2:])


class PaddedFrameStackPicker:
    """d3rlpy's FrameStackTransitionPicker, padding with the episode's first frame instead of zeros
    (what the evaluation's frame stack sees at reset)."""

    def __init__(self, frames: int):
        self.frames = frames

    def __call__(self, episode: Any, index: int) -> Transition:
        observation = stack_frames(episode.observations, index, self.frames)
        is_terminal = episode.terminated and index == episode.size() - 1
        if is_terminal:
            next_observation = np.zeros_like(observation)
            next_action = np.zeros_like(episode.actions[index])
        else:
            next_observation = stack_frames(episode.observations, index + 1, self.frames)
            next_action = episode.actions[index + 1]
        return Transition(
            observation=observation,
            action=episode.actions[index],
            reward=episode.rewards[index],
            next_observation=next_observation,
            next_action=next_action,
            terminal=float(is_terminal),
            interval=1,
            rewards_to_go=episode.rewards[index:],
        )


class PixelBehaviourCloning(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = BC_PIXELS
    INPUTS: ClassVar[str] = "pixels"

    def __init__(self, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int):
        super().__init__(spec, hyperparameters, seed)
        self.frames: FramesSpec | None = None  # the store trained on: its protocol draws the live states

    def make_config(self, data: OfflineDataset, budget: Budget) -> Any:
        hp = self.hyperparameters
        return d3rlpy.algos.BCConfig(
            batch_size=budget.batch_size,
            learning_rate=hp.learning_rate,
            policy_type="deterministic",
            encoder_factory=d3rlpy.models.PixelEncoderFactory(feature_size=hp.feature_size),
            observation_scaler=d3rlpy.preprocessing.PixelObservationScaler(),
        )

    def d3rlpy_dataset(self, data: OfflineDataset) -> Any:
        self.frames = self.hyperparameters.frames_spec(self.spec.env, data.card["name"])
        drawn = load_frames(self.frames, data)  # (N, S, S, 3), memory-mapped
        # channels-first, a view: the picker copies each sampled stack out of the store
        return to_d3rlpy(data, None, np.moveaxis(drawn, -1, 1), PaddedFrameStackPicker(self.hyperparameters.frames))

    def save(self, path: Path) -> list[Path]:
        """d3rlpy's files, and the frames store's spec (its render protocol) beside them."""
        assert self.frames is not None
        record = _frames_record(path)
        io.write_json(record, dataclasses.asdict(self.frames))
        return [*super().save(path), record]

    @classmethod
    def load(cls, path: Path, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int) -> D3rlpyBaseline:
        baseline = super().load(path, spec, hyperparameters, seed)
        assert isinstance(baseline, PixelBehaviourCloning)
        baseline.frames = FramesSpec.from_dict(io.read_json(_frames_record(path)))
        return baseline

    def policy(self) -> BatchPolicy:
        assert self.frames is not None
        return StackedFramesPolicy(
            self.algo, StateRenderer(self.spec.env, self.frames.render), self.hyperparameters.frames
        )


def _frames_record(path: Path) -> Path:
    return path.with_suffix(".frames.json")


class StackedFramesPolicy:
    """Greedy BC on live frames: each step draws the live states, slides each env's stack one frame
    on (a reset fills it with the first frame) and predicts for the batch."""

    def __init__(self, algo: Any, renderer: StateRenderer, frames: int):
        self.algo = algo
        self.renderer = renderer
        self.frames = frames

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        size = self.renderer.protocol.size
        self.stacks = np.zeros((n_envs, self.frames, 3, size, size), dtype=np.uint8)  # oldest first
        self.started = np.zeros(n_envs, dtype=bool)

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        drawn = np.moveaxis(self.renderer(observations), -1, 1)  # (B, 3, S, S)
        first = ~self.started[env_ids]
        self.stacks[env_ids[first]] = drawn[first, None]  # every slot the episode's first frame
        later = env_ids[~first]
        self.stacks[later, :-1] = self.stacks[later, 1:]  # the right side is gathered (a copy) first
        self.stacks[later, -1] = drawn[~first]
        self.started[env_ids] = True
        return self.algo.predict(self.stacks[env_ids].reshape(len(env_ids), -1, *drawn.shape[2:]))

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        pass  # the frames are the whole history it reads

    def close(self) -> None:
        self.renderer.close()
