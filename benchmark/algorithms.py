"""The algorithm protocol and the registry that finds algorithms by name.

An algorithm is one module in `baselines/` (or the `more3s` package) that decorates a class with
`@register("name")`. The registry imports every module of those packages, so dropping a module
in `baselines/` and naming it in a preset's `algorithms` is all it takes to add one.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from benchmark.datasets import OfflineDataset
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError

ALGORITHM_PACKAGES = ("baselines", "more3s")


@dataclasses.dataclass(frozen=True)
class Budget:
    """What every algorithm in a preset gets alike (DESIGN: fair comparison)."""

    steps: int  # gradient steps, exactly this many for every algorithm
    batch_size: int  # transitions (or sequences, for sequence models) per step
    eval_every: int  # a checkpoint is kept, and later evaluated, every this many steps and at the last

    @property
    def checkpoints(self) -> list[int]:
        """The steps that end with a checkpoint: every multiple of eval_every, and `steps` (e.g. 10, 20, 25)."""
        return [*range(self.eval_every, self.steps, self.eval_every), self.steps]


@runtime_checkable
class BatchPolicy(Protocol):
    """What the evaluator drives: one call per environment step for all live episodes.

    Each step the evaluator calls `act`, then `executed` with the actions the envs ran, which
    differ from the chosen ones where the protocol's evaluation epsilon replaced them.
    """

    def reset(self, n_envs: int, target_return: float | None) -> None: ...

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


class Algorithm(Protocol):
    """Constructed as `cls(spec, hyperparameters, budget, seed)` to train, or by `cls.load`."""

    name: ClassVar[str]
    pretrained: ClassVar[str]  # "no", or which components started from pretrained weights

    @classmethod
    def default_hyperparameters(cls, suite: str) -> Any:
        """The published hyperparameters for `suite`: a dataclass instance, a comment per field."""
        ...

    @classmethod
    def load(cls, path: Path, spec: EnvSpec, hyperparameters: dict[str, Any], budget: Budget, seed: int) -> Algorithm:
        """The algorithm as saved at a checkpoint, ready for `policy()`."""
        ...

    def fit(
        self,
        data: OfflineDataset,
        budget: Budget,
        log_dir: Path,
        on_checkpoint: Callable[[int, Any], None],
    ) -> None:
        """Train exactly `budget.steps` steps; call `on_checkpoint(step, self)` at each of `budget.checkpoints`."""
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


def hyperparameters(name: str, suite: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Published defaults for (algorithm, suite) with a preset's overrides applied, as a dict."""
    cls = get(name)
    defaults = cls.default_hyperparameters(suite)
    allowed = {f.name for f in dataclasses.fields(defaults)}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise BenchmarkError(
            f"config key 'algorithms.{name}.{suite}.{unknown[0]}': unknown hyperparameter; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    try:
        return dataclasses.asdict(dataclasses.replace(defaults, **overrides))
    except BenchmarkError as error:  # a value the dataclass refuses: "<field>: <why>"
        field, why = str(error).split(": ", 1)
        raise BenchmarkError(f"config key 'algorithms.{name}.{suite}.{field}': {why}") from None
