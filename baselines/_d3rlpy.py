"""Shared glue between d3rlpy algorithms and the suite's algorithm protocol.

A baseline module subclasses `D3rlpyBaseline`, names its published hyperparameters per suite
(`PUBLISHED`, from baselines.hyperparameters), and builds the d3rlpy config in `make_config`. Everything else —
seeding, d3rlpy's training loop reporting its losses to the run's train log, saving and loading
checkpoints, the greedy batched policy — lives here once; a baseline whose policy keeps a history
(DT, bc-pixels) overrides `policy`.
"""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path
from typing import Any, ClassVar

import d3rlpy
import numpy as np
import torch
from d3rlpy.base import LearnableConfigWithShape
from d3rlpy.torch_utility import map_location

from benchmark import io
from benchmark.algorithms import BatchPolicy, Budget, TrainLog, coerce
from benchmark.datasets import OfflineDataset
from benchmark.device import torch_device
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError


class D3rlpyBaseline:
    PUBLISHED: ClassVar[dict[str, Any]]  # suite -> Hyperparameters with the published values
    pretrained: ClassVar[str] = "no"  # d3rlpy baselines train every weight from scratch
    INPUTS: ClassVar[str] = "state"  # what it reads of a MuJoCo env: the state vector (bc-pixels: its frames)

    def __init__(self, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int):
        self.spec = spec
        self.hyperparameters = coerce(type(self.PUBLISHED[spec.suite]), hyperparameters)
        self.seed = seed
        self.algo: Any = None

    def make_config(self, data: OfflineDataset, budget: Budget) -> Any:
        """The d3rlpy config (an `...Config` object) for this env, hyperparameters and budget."""
        raise NotImplementedError

    def loss_scales(self) -> dict[str, float]:
        """Factors turning d3rlpy's reported metrics into the train log's: every action-regression
        loss is logged per action dimension (a mean over them, as BC's and MORE-3S's MSE are), so
        losses compare across algorithms and tasks. None needed unless a subclass says so."""
        return {}

    @property
    def inputs(self) -> str:
        """config.json's `inputs`: an Atari observation is already pixels (the game's frames)."""
        return "pixels" if self.spec.suite == "atari" else self.INPUTS

    @property
    def frame_stack(self) -> int | None:
        return self.spec.observation_shape[0] if self.spec.suite == "atari" else None

    def d3rlpy_dataset(self, data: OfflineDataset) -> Any:
        """The d3rlpy dataset `fit` trains on: the stored observations (bc-pixels: rendered frames)."""
        return to_d3rlpy(data, self.frame_stack)

    def fit(self, data: OfflineDataset, budget: Budget, run_dir: Path, log: TrainLog) -> None:
        d3rlpy.seed(self.seed)
        self.algo = self.make_config(data, budget).create(device=torch_device())
        dataset = self.d3rlpy_dataset(data)
        reporter = _Reporter(log, self.loss_scales())
        # d3rlpy's fit trains whole epochs only (n_steps // n_steps_per_epoch of them), so the steps
        # past the last multiple of eval_every are one more fit call, of one shorter epoch. The second
        # call keeps the fitted scalers and the built impl (weights, optimiser and learning-rate
        # schedule states; d3rlpy warns that it skips building them) and the algo's gradient-step count.
        for epoch_steps, epochs in _segments(budget):
            self.algo.fit(
                dataset,
                n_steps=epoch_steps * epochs,
                n_steps_per_epoch=epoch_steps,
                experiment_name=type(self).__name__,  # unused: the reporter logs nothing of its own
                with_timestamp=False,
                logger_adapter=reporter,
                show_progress=True,
                save_interval=1,
            )

    def save(self, path: Path) -> list[Path]:
        """Weights (torch state dicts) at `path`, the d3rlpy config with fitted scalers beside it."""
        config = LearnableConfigWithShape(
            observation_shape=self.algo.impl.observation_shape,
            action_size=self.algo.impl.action_size,
            config=self.algo.config,
        )
        io.write_text(path.with_suffix(".json"), config.serialize())
        io.atomic_write(path, self.algo.impl.save_model)
        return [path, path.with_suffix(".json")]

    @classmethod
    def load(cls, path: Path, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int) -> D3rlpyBaseline:
        baseline = cls(spec, hyperparameters, seed)
        config = LearnableConfigWithShape.deserialize(path.with_suffix(".json").read_text())
        baseline.algo = config.create(device=torch_device())
        _load_weights(baseline.algo.impl, path)
        return baseline

    def policy(self) -> BatchPolicy:
        return GreedyPolicy(self.algo)


def to_d3rlpy(
    data: OfflineDataset,
    frame_stack: int | None,
    observations: np.ndarray | None = None,
    transition_picker: Any = None,
) -> d3rlpy.dataset.MDPDataset:
    """A d3rlpy MDPDataset over a stored dataset's arrays (no copy of the frames). `observations`,
    one row per stored one, stand in for the stored observations (bc-pixels: the states' rendered
    frames), and `transition_picker` for d3rlpy's, where given."""
    discrete = data.actions.ndim == 1
    kwargs: dict[str, Any] = {}
    if transition_picker is not None:
        kwargs["transition_picker"] = transition_picker
    if observations is None:
        observations = data.observations
    if frame_stack:
        # (N, 84, 84) -> (N, 1, 84, 84): a view; the pickers stack 4 frames per sample.
        observations = observations.reshape(observations.shape[0], 1, *observations.shape[1:])
        kwargs["transition_picker"] = d3rlpy.dataset.FrameStackTransitionPicker(frame_stack)
        kwargs["trajectory_slicer"] = d3rlpy.dataset.FrameStackTrajectorySlicer(frame_stack)
    return d3rlpy.dataset.MDPDataset(
        observations=observations,
        actions=data.actions.reshape(-1, 1) if discrete else data.actions,
        rewards=data.rewards.reshape(-1, 1),
        terminals=data.terminals,
        timeouts=data.timeouts,
        action_space=d3rlpy.ActionSpace.DISCRETE if discrete else d3rlpy.ActionSpace.CONTINUOUS,
        action_size=int(data.card["action_size"]),
        **kwargs,
    )


def _load_weights(impl: Any, path: Path) -> None:
    """d3rlpy's `load_model` with `weights_only=True` said explicitly: d3rlpy leaves it to torch's
    default, which the environment (`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`) can turn off, and then a
    crafted checkpoint runs code. One line naming the file when it cannot be loaded."""
    try:
        state = torch.load(path, map_location=map_location(impl.device), weights_only=True)
        for name, module in impl.modules.create_checkpointer(impl.device).modules.items():
            module.load_state_dict(state[name])
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, pickle.UnpicklingError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise BenchmarkError(f"{path}: not a loadable checkpoint of this run ({reason})") from error


def _segments(budget: Budget) -> list[tuple[int, int]]:
    """(steps per epoch, epochs) of each d3rlpy fit call: an epoch ends at each of `budget.checkpoints`,
    and each run of equally long intervals between them is one call."""
    intervals = np.diff([0, *budget.checkpoints])
    return [(int(steps), len(list(run))) for steps, run in itertools.groupby(intervals)]


class _Reporter:
    """d3rlpy logger adapter passing each epoch's mean metrics (an epoch = one checkpoint interval)
    to the run's train log, which saves the checkpoint; d3rlpy writes nothing (never into the
    cwd). One across the fit calls of a run, so it is its own factory; d3rlpy counts steps from 0
    in each call."""

    def __init__(self, log: TrainLog, scales: dict[str, float]):
        self.log = log
        self.scales = scales  # metric -> factor (D3rlpyBaseline.loss_scales)
        self.metrics: dict[str, float] = {}
        self.steps_before = 0  # trained by the earlier fit calls
        self.step = 0  # the last checkpoint's
        log.start()  # the algo is built and the data converted: training begins

    def create(self, algo: Any, experiment_name: str, n_steps_per_epoch: int) -> _Reporter:
        return self

    def write_params(self, params: dict[str, Any]) -> None:
        pass  # the run's config.json and each checkpoint's .json already hold them

    def before_write_metric(self, epoch: int, step: int) -> None:
        self.metrics = {}

    def write_metric(self, epoch: int, step: int, name: str, value: float) -> None:
        self.metrics[name] = value * self.scales.get(name, 1.0)

    def after_write_metric(self, epoch: int, step: int) -> None:
        pass

    def save_model(self, epoch: int, algo: Any) -> None:
        self.step = self.steps_before + epoch  # d3rlpy passes the call's step count here
        self.log.checkpoint(self.step, self.metrics)

    def close(self) -> None:  # the end of one fit call
        self.steps_before = self.step

    def watch_model(self, epoch: int, step: int) -> None:
        pass


class GreedyPolicy:
    """Value-based and BC policies: stateless, one batched forward pass per step."""

    def __init__(self, algo: Any):
        self.algo = algo

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        pass

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        return self.algo.predict(observations)

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        pass  # no history to condition on
