"""Shared glue between d3rlpy algorithms and the suite's algorithm protocol.

A baseline module subclasses `D3rlpyBaseline`, names its published hyperparameters per suite
(`PUBLISHED`, from baselines.hyperparameters), and builds the d3rlpy config in `make_config`. Everything else —
seeding, d3rlpy's training loop reporting its losses to the run's train log, saving and loading
checkpoints, batched policies — lives here once.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any, ClassVar

import d3rlpy
import numpy as np
import torch
from d3rlpy.base import LearnableConfigWithShape
from d3rlpy.torch_utility import map_location

from benchmark import io
from benchmark.algorithms import BatchPolicy, Budget, TrainLog
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
        self.hyperparameters = type(self.default_hyperparameters(spec.suite))(**hyperparameters)
        self.seed = seed
        self.algo: Any = None

    @classmethod
    def default_hyperparameters(cls, suite: str) -> Any:
        return cls.PUBLISHED[suite]

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
        return data.to_d3rlpy(self.frame_stack)

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
        if isinstance(self.algo, d3rlpy.algos.TransformerAlgoBase):
            return DecisionTransformerPolicy(self.algo, self.spec.discrete, self.seed)
        return GreedyPolicy(self.algo)


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
    """(steps per epoch, epochs) of each d3rlpy fit call: an epoch ends at each of `budget.checkpoints`."""
    whole, rest = divmod(budget.steps, budget.eval_every)
    segments = [(budget.eval_every, whole)] if whole else []
    if rest:
        segments.append((rest, 1))
    return segments


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


class DecisionTransformerPolicy:
    """d3rlpy's Decision Transformer rolled out for many episodes at once.

    Follows d3rlpy's StatefulTransformerWrapper per episode (return-to-go = target minus rewards
    so far, the pending action padded, timesteps from 1, left-padding with zero observations and
    an attention mask), but stacks the live episodes into one batch for a single forward pass per
    step. Each observation is embedded by the model's state encoder (Atari: the CNN) once, when it
    arrives: every env keeps a window of its last `context` steps' embeddings (the padding's zero
    observation embedded once per reset), and the transformer reads those with its encoder
    bypassed, instead of encoding the whole window again at every step.
    Discrete actions are sampled from the softmax (temperature 1), as in the DT paper. The action
    token of a step is the action the env executed (`executed`), as in the logged training data,
    which differs from the chosen one where the evaluation epsilon replaced it.
    """

    def __init__(self, algo: Any, discrete: bool, seed: int):
        self.algo = algo
        self.discrete = discrete
        self.rng = np.random.default_rng(seed)
        self.context = algo.config.context_size
        transformer = algo.impl.modules.transformer
        self.encoder = transformer._encoder
        # the same transformer (its parameters shared) taking embeddings where d3rlpy's takes observations
        self.transformer = copy.copy(transformer)
        self.transformer._modules = {**transformer._modules, "_encoder": torch.nn.Identity()}

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        if target_return is None:
            raise BenchmarkError("the Decision Transformer is return-conditioned: the env needs a target_return")
        impl = self.algo.impl
        # Per env, its last `context` steps, oldest first; the padding before an episode's first step
        # is d3rlpy's: zero observations, pad actions (0 or zeros), returns and timesteps 0, mask 0.
        with torch.no_grad():
            padding = self._embed(torch.zeros(1, *impl.observation_shape, device=impl.device))
        self.embeddings = padding.expand(n_envs, self.context, -1).clone()
        self.actions = np.zeros((n_envs, self.context, 1 if self.discrete else impl.action_size), np.float32)
        self.returns_to_go = np.zeros((n_envs, self.context, 1), np.float32)
        self.timesteps = np.zeros((n_envs, self.context), np.int64)
        self.masks = np.zeros((n_envs, self.context), np.float32)  # 1 on the episode's steps
        self.timestep = np.ones(n_envs, np.int64)  # the next step's
        self.return_rest = np.broadcast_to(np.asarray(target_return, np.float64), (n_envs,)).copy()
        self.action_probabilities: np.ndarray | None = None  # of the last `act` (discrete)

    def _embed(self, observations: torch.Tensor) -> torch.Tensor:
        scaler = self.algo.config.observation_scaler
        return self.encoder(scaler.transform(observations) if scaler is not None else observations)

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        impl = self.algo.impl
        config = self.algo.config
        impl.modules.set_eval()  # as d3rlpy's predict: no dropout, inference token layout
        self.transformer.eval()  # the bypassing copy's own mode (its submodules are the model's)
        if observations.dtype == np.float64:  # gymnasium's MuJoCo observations
            observations = observations.astype(np.float32)
        self.return_rest[env_ids] -= rewards
        with torch.no_grad():
            rows = torch.as_tensor(env_ids, device=impl.device)
            _push(self.embeddings, rows, self._embed(torch.as_tensor(observations, device=impl.device)))
            _push(self.actions, env_ids, 0.0)  # the pending action, until `executed` reports it
            _push(self.returns_to_go, env_ids, self.return_rest[env_ids, None])
            _push(self.timesteps, env_ids, self.timestep[env_ids])
            _push(self.masks, env_ids, 1.0)
            self.timestep[env_ids] = np.minimum(self.timestep[env_ids] + 1, config.max_timestep)
            actions_t = torch.as_tensor(self.actions[env_ids], device=impl.device)
            rtg_t = torch.as_tensor(self.returns_to_go[env_ids], device=impl.device)
            if config.action_scaler is not None and not self.discrete:
                actions_t = config.action_scaler.transform(actions_t)
            if config.reward_scaler is not None:
                rtg_t = config.reward_scaler.transform(rtg_t)
            out = self.transformer(
                self.embeddings[rows],
                actions_t if not self.discrete else actions_t.long(),
                rtg_t,
                torch.as_tensor(self.timesteps[env_ids], device=impl.device),
                1 - torch.as_tensor(self.masks[env_ids], device=impl.device),
            )
            last = (out[1] if self.discrete else out)[:, -1]
            if self.discrete:
                probs = torch.softmax(last, dim=-1).cpu().numpy().astype(np.float64)
                chosen: np.ndarray = np.array([self.rng.choice(len(p), p=p / p.sum()) for p in probs])
                self.action_probabilities = probs
            else:
                chosen = last.cpu().numpy()
                if config.action_scaler is not None:
                    chosen = config.action_scaler.reverse_transform_numpy(chosen)
        self.executed(chosen, env_ids)  # until the evaluator reports what ran
        return chosen

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        self.actions[env_ids, -1] = np.asarray(actions, np.float32).reshape(len(env_ids), -1)


def _push(windows: Any, rows: Any, latest: Any) -> None:
    """Slide the windows `rows` (numpy arrays or tensors, (envs, context, ...)) one step left and
    put `latest` in their last slot."""
    windows[rows, :-1] = windows[rows, 1:]  # the right side is gathered (a copy) before the write
    windows[rows, -1] = latest
