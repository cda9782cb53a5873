"""The algorithm protocol and the registry that finds algorithms by name.

An algorithm is one module in `baselines/` (or the `more3s` package) that decorates a class with
`@register("name")`. The registry imports every module of those packages, so dropping a module
in `baselines/` and naming it in a preset's `algorithms` is all it takes to add one.

What an algorithm must provide is `Algorithm` below, and all it receives: the env's spaces
(`EnvSpec`), its hyperparameters (its published defaults with the preset's overrides, as a dict),
the run's seed, the dataset, the budget (once, in `fit`) and a `TrainLog`. The train stage
(benchmark.training) owns the run's files: it writes config.json, train_log.csv (from what the
algorithm reports to its `TrainLog`) and the checkpoint manifest, and calls `save` at each
checkpoint; the evaluate stage calls `load` and `policy`. An algorithm writes nothing else into
the run's folder unless it has a record of its own (MORE-3S copies its features card there).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from benchmark.datasets import OfflineDataset
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.specs import Budget

ALGORITHM_PACKAGES = ("baselines", "more3s")


@runtime_checkable
class BatchPolicy(Protocol):
    """What the evaluator drives: one call per environment step for all live episodes.

    Each step the evaluator calls `act`, then `executed` with the actions the envs ran, which
    differ from the chosen ones where the protocol's evaluation epsilon replaced them. The diagnose
    stage drives it the same way over held-out episodes, each conditioned on its own return, and
    reads `action_probabilities` where a policy has it ((live envs, actions) after `act`, for
    discrete policies that sample).
    """

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        """Start `n_envs` episodes; `target_return` is one target for all, or one per env."""
        ...

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        """Actions for the live envs `env_ids`; `rewards` is what each got for its last action
        (0 at the first step). Sequence models keep per-env context keyed by env id, in which
        the chosen action stands until `executed` reports another."""
        ...

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        """The actions the envs `env_ids` ran after the last `act` (rows in its order). Sequence
        models condition their next steps on these, as training conditions on the logged actions;
        stateless policies ignore them."""
        ...


@runtime_checkable
class ClosablePolicy(Protocol):
    """A policy holding a resource (bc-pixels, MORE-3S on MuJoCo: an offscreen renderer): the
    evaluate and diagnose stages call `close` once its episodes are done, freeing it now rather
    than whenever the policy is collected."""

    def close(self) -> None: ...


class TrainLog(Protocol):
    """What training gives `Algorithm.fit`: the run's train_log.csv, one row per checkpoint
    (`train_step`, `wall_s`, then the reported metrics' columns), and its checkpoints."""

    def start(self) -> None:
        """The first gradient step comes next: `wall_s` counts from here, not from the setup
        before it (building the model, converting the data). Without it, from `fit`'s call."""
        ...

    def checkpoint(self, step: int, metrics: Mapping[str, float]) -> None:
        """`step` (one of `budget.checkpoints`) is done: log its row with `metrics`, the mean of
        each loss (or other per-step number) over the steps since the previous checkpoint, in a
        fixed order (a loss over actions per action dimension: a mean over them, never a sum); then
        save the algorithm (`Algorithm.save`), which must be ready for it."""
        ...


class Algorithm(Protocol):
    """Constructed as `cls(spec, hyperparameters, seed)` to train, or by `cls.load` to evaluate.

    `spec` is the env's spaces under the run's protocol; `hyperparameters` the dict
    `hyperparameters()` below makes, as config.json records it: `typed` gives back the dataclass.
    An algorithm may also offer `features_spec(suite, env, dataset, hyperparameters)`, a classmethod
    naming a cache the workflow builds before training (MORE-3S's frozen-encoder outputs), and
    `frames_spec(...)` (same arguments), naming the frames store (`more3s.features.FramesSpec`) it
    reads (bc-pixels); `cost(env, dataset, hyperparameters, batch)`, a classmethod returning what a
    run costs (`benchmark.cost.Cost`: with the stores above as its `precompute`), which the
    capacity plan prices (an algorithm without it is priced by `benchmark.cost.fallback`, and the
    plan says so); and `SUITES`, the suites it runs on (all when absent), which validation holds a
    preset to.
    """

    name: ClassVar[str]  # set by `register`
    pretrained: str  # "no", or which components started from pretrained weights; read after `fit`
    inputs: str  # what it reads, recorded in config.json: state, pixels, pixels+text or text

    @classmethod
    def default_hyperparameters(cls, suite: str) -> Any:
        """The published hyperparameters for `suite`: a dataclass instance, a comment per field.
        Its `__post_init__` may refuse a value by raising BenchmarkError("<field>: <why>")."""
        ...

    @classmethod
    def load(cls, path: Path, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int) -> Algorithm:
        """The algorithm as saved at a checkpoint, ready for `policy()`."""
        ...

    def fit(self, data: OfflineDataset, budget: Budget, run_dir: Path, log: TrainLog) -> None:
        """Train exactly `budget.steps` steps of `budget.batch_size` (the budget reaches the
        algorithm here only); call `log.checkpoint(step, metrics)` at each of
        `budget.checkpoints`, in order. `run_dir` is the run's results folder, for a record of
        the algorithm's own; training writes the run's files there."""
        ...

    def save(self, path: Path) -> list[Path]:
        """Write the checkpoint at `path` (and files beside it); return every file written, whose
        sha256 the run's checkpoint manifest records and evaluation checks before `load`."""
        ...

    def policy(self) -> BatchPolicy: ...


_REGISTRY: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise BenchmarkError(f"algorithm name {name!r} is registered twice ({cls.__module__})")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorate


@functools.cache
def _discover() -> None:
    for package_name in ALGORITHM_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{package_name}.{module.name}")


def registry() -> dict[str, type]:
    _discover()  # once per process, whatever a test or a module imported first
    return dict(_REGISTRY)


def get(name: str) -> type:
    algorithms = registry()
    if name not in algorithms:
        raise BenchmarkError(f"unknown algorithm {name!r}; registered: {', '.join(sorted(algorithms))}")
    return algorithms[name]


def typed(cls: type, suite: str, hyperparameters: Mapping[str, Any]) -> Any:
    """`hyperparameters` (a run's dict, as read back from JSON) as `cls`'s dataclass for `suite`:
    each field as its annotation has it, so a JSON list comes back a tuple where the field is one."""
    kind = type(cls.default_hyperparameters(suite))
    return kind(**_as_annotated(kind, hyperparameters))


def _as_annotated(kind: type, values: Mapping[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)  # the annotations are postponed: strings until resolved
    return {
        name: tuple(value) if typing.get_origin(hints[name]) is tuple and isinstance(value, list) else value
        for name, value in values.items()
    }


def hyperparameters(name: str, suite: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Published defaults for (algorithm, suite) with a preset's overrides applied, as a dict."""
    cls = get(name)
    try:
        defaults = cls.default_hyperparameters(suite)
    except KeyError:
        raise BenchmarkError(f"config key 'algorithms.{name}': {name} has no settings for suite {suite!r}") from None
    allowed = {f.name for f in dataclasses.fields(defaults)}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise BenchmarkError(
            f"config key 'algorithms.{name}.{suite}.{unknown[0]}': unknown hyperparameter; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    fixed = getattr(cls, "VARIANT", {})  # an ablation's own switches: what makes it that ablation
    for field, value in overrides.items():
        if field in fixed and value != fixed[field]:
            raise BenchmarkError(
                f"config key 'algorithms.{name}.{suite}.{field}': {name} sets it to {fixed[field]!r}; "
                "a preset may not change an ablation's own switch"
            )
    try:
        return dataclasses.asdict(dataclasses.replace(defaults, **overrides))
    except BenchmarkError as error:  # a value the dataclass refuses: "<field>: <why>"
        field, why = str(error).split(": ", 1)
        raise BenchmarkError(f"config key 'algorithms.{name}.{suite}.{field}': {why}") from None
