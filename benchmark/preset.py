"""A preset, typed: what `config.validate` returns once the schema's defaults are filled in.

Every reader (the Snakefile and its rules, every `python -m benchmark` command, the plan) takes
its values from here; the defaults themselves are only in the schema
(`benchmark/schema/config.schema.yaml`), which `config.validate` fills in, so no reader repeats
one. A dataset entry's own keys depend on its source and generator (benchmark.sources checks
them), so they stay a mapping (`Dataset.options`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from benchmark.specs import Budget, Evaluation


@dataclass(frozen=True)
class Dataset:
    source: str
    seed: int
    algorithms: tuple[str, ...]  # the preset's algorithms that run on it (all when the preset lists none)
    path: str | None  # mirror-relative file or folder of a mirror source; {env} is replaced
    options: Mapping[str, Any]  # what its source (and generator) reads, as the preset gives it


@dataclass(frozen=True)
class Training:
    budget: Budget  # the suite's: every algorithm's unless `per_algorithm` overrides it
    per_algorithm: Mapping[str, Mapping[str, int]]  # algorithm -> its overrides of the budget's fields

    def budget_of(self, algorithm: str) -> Budget:
        """The budget `algorithm` trains with: the suite's, with its own overrides."""
        return replace(self.budget, **self.per_algorithm.get(algorithm, {}))


@dataclass(frozen=True)
class Suite:
    target_returns: Mapping[str, float]  # env -> the return sequence models are conditioned on
    datasets: Mapping[str, Dataset]
    protocol: Mapping[str, int]  # overrides of the suite's evaluation protocol
    training: Training
    evaluation: Evaluation

    @property
    def envs(self) -> tuple[str, ...]:
        return tuple(self.target_returns)


@dataclass(frozen=True)
class Report:
    title: str
    focus: str  # the method under study, an algorithm name
    bootstrap_reps: int
    profile_bootstrap_reps: int
    seed: int


@dataclass(frozen=True)
class Preset:
    name: str  # the preset's `preset:` key, recorded in every run
    description: str | None
    seeds: tuple[int, ...]
    workdir: str
    allow_external_workdir: bool
    torch_threads: int
    gpus_per_job: int
    mirror: str | None
    suites: Mapping[str, Suite]
    # algorithm -> suite -> its overrides of the published hyperparameters
    algorithms: Mapping[str, Mapping[str, Mapping[str, Any]]]
    report: Report

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Preset:
        """The preset of a config the schema validated and filled with its defaults (copied: a later
        change to the config changes nothing here)."""
        config = copy.deepcopy(config)
        algorithms = {name: dict(overrides or {}) for name, overrides in config["algorithms"].items()}
        return cls(
            name=config["preset"],
            description=config.get("description"),  # no default: a preset may leave it out
            seeds=tuple(config["seeds"]),
            workdir=config["workdir"],
            allow_external_workdir=config["allow_external_workdir"],
            torch_threads=config["torch_threads"],
            gpus_per_job=config["gpus_per_job"],
            mirror=config["mirror"],
            suites={name: _suite(suite, tuple(algorithms)) for name, suite in config["suites"].items()},
            algorithms=algorithms,
            report=Report(**config["report"]),
        )


def _suite(suite: Mapping[str, Any], algorithms: tuple[str, ...]) -> Suite:
    training = suite["training"]
    return Suite(
        target_returns={env: settings["target_return"] for env, settings in suite["envs"].items()},
        datasets={name: _dataset(entry, algorithms) for name, entry in suite["datasets"].items()},
        protocol=suite["protocol"],
        training=Training(
            Budget(steps=training["steps"], batch_size=training["batch_size"], eval_every=training["eval_every"]),
            training["per_algorithm"],
        ),
        evaluation=Evaluation(**suite["evaluation"]),
    )


def _dataset(entry: Mapping[str, Any], algorithms: tuple[str, ...]) -> Dataset:
    options = {key: value for key, value in entry.items() if key not in ("source", "seed", "algorithms", "path")}
    return Dataset(
        source=entry["source"],
        seed=entry["seed"],
        algorithms=tuple(entry.get("algorithms", algorithms)),  # absent: every algorithm of the preset
        path=entry.get("path"),  # only mirror sources have one
        options=options,
    )
