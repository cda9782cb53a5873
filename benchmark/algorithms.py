"""The algorithm protocol and the registry that finds algorithms by name.

An algorithm is a class in `baselines/` (or the `more3s` package) and its declaration in the
registry (`ALGORITHMS.register(Declaration(...))` in the package's `__init__`): its name, its
published hyperparameters per suite (a dataclass, importable without torch), the suites it runs
on, the caches it reads, what a run costs and where the class is ("module:Class"). Validating and
planning a preset read the declarations only; the class, and with it torch and d3rlpy, is
imported when a stage runs the algorithm (`get`).

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
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from benchmark.datasets import OfflineDataset
from benchmark.envs import SUITES, EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.registry import Registry
from benchmark.specs import Budget

if TYPE_CHECKING:
    from benchmark.cost import Cost

ALGORITHM_PACKAGES = ("baselines", "more3s")  # their `__init__` declares their algorithms


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
    `hyperparameters()` below makes, as config.json records it: `coerce` gives back the dataclass.
    """

    pretrained: str  # "no", or which components started from pretrained weights; read after `fit`
    inputs: str  # what it reads, recorded in config.json: state, pixels, pixels+text or text

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


# A cache the workflow builds before training, named from (suite, env, dataset, hyperparameters):
# MORE-3S's frozen-encoder outputs (more3s.specs.FeaturesSpec), bc-pixels' frames store (FramesSpec).
CacheSpec = Callable[[str, str, str, dict[str, Any]], Any]

# What a run costs the capacity plan (benchmark.cost): (env, dataset, the typed hyperparameters,
# batch) -> Cost, with the stores above as its `precompute`. A light function (no torch): planning
# a preset calls it for every run of the grid.
CostHook = Callable[[EnvSpec, str, Any, int], "Cost"]


@dataclass(frozen=True)
class Declaration:
    """What validation and planning know of an algorithm, without importing it."""

    name: str
    implementation: str  # "module:Class", the Algorithm
    # suite -> the published hyperparameters: a dataclass instance, a comment per field. Its
    # `__post_init__` may refuse a value by raising BenchmarkError("<field>: <why>").
    published: Mapping[str, Any]
    suites: tuple[str, ...] = tuple(SUITES)  # the suites it runs on, which validation holds a preset to
    # an ablation's own switches (what makes it that ablation, already in `published`): a preset may not change them
    variant: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    features: CacheSpec | None = None  # the frozen-encoder cache a run reads
    frames: CacheSpec | None = None  # the frames store a run reads itself
    # what a run costs (the capacity plan); None: priced by `benchmark.cost.fallback`, and the plan says so
    cost: CostHook | None = None


ALGORITHMS: Registry[Declaration] = Registry("algorithm", declared_in=ALGORITHM_PACKAGES)


def declared(name: str) -> Declaration:
    if name not in ALGORITHMS:
        raise BenchmarkError(f"unknown algorithm {name!r}; registered: {', '.join(sorted(ALGORITHMS))}")
    return ALGORITHMS[name]


def get(name: str) -> Any:
    """The algorithm's class (imported now: torch, d3rlpy)."""
    declared(name)
    return ALGORITHMS.load(name)


def coerce(kind: type, hyperparameters: Mapping[str, Any]) -> Any:
    """`hyperparameters` (a run's dict, as read back from JSON) as the dataclass `kind`: each field
    as its annotation has it, so a JSON list comes back a tuple where the field is one."""
    hints = typing.get_type_hints(kind)  # the annotations are postponed: strings until resolved
    return kind(
        **{
            name: tuple(value) if typing.get_origin(hints[name]) is tuple and isinstance(value, list) else value
            for name, value in hyperparameters.items()
        }
    )


def typed(name: str, suite: str, hyperparameters: Mapping[str, Any]) -> Any:
    """A run's hyperparameters dict as algorithm `name`'s dataclass for `suite` (`coerce`)."""
    return coerce(type(declared(name).published[suite]), hyperparameters)


def hyperparameters(name: str, suite: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Published defaults for (algorithm, suite) with a preset's overrides applied, as a dict."""
    published = declared(name).published
    if suite not in published:
        raise BenchmarkError(f"config key 'algorithms.{name}': {name} has no settings for suite {suite!r}")
    defaults = published[suite]
    allowed = {f.name for f in dataclasses.fields(defaults)}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise BenchmarkError(
            f"config key 'algorithms.{name}.{suite}.{unknown[0]}': unknown hyperparameter; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    fixed = declared(name).variant  # an ablation's own switches: what makes it that ablation
    for key, value in overrides.items():
        if key in fixed and value != fixed[key]:
            raise BenchmarkError(
                f"config key 'algorithms.{name}.{suite}.{key}': {name} sets it to {fixed[key]!r}; "
                "a preset may not change an ablation's own switch"
            )
    try:
        return dataclasses.asdict(dataclasses.replace(defaults, **overrides))
    except BenchmarkError as error:  # a value the dataclass refuses: "<field>: <why>"
        field, why = str(error).split(": ", 1)
        raise BenchmarkError(f"config key 'algorithms.{name}.{suite}.{field}': {why}") from None
