"""The data sources a preset's dataset names (`source:`): a registry, like the generators'.

A source is one function registered with its name, the suites whose data it holds, the preset
keys it reads and how it checks them (`@source(...)`). `generated` (benchmark.generators) makes
the data here; the others (benchmark.importers) read a file under the preset's `mirror`. The
preset schema's `source` enum is this registry (`config.load_schema` puts it there),
`config.validate` checks a dataset's keys with the registration, the report sets our data beside
the published dataset it names, and the dataset stage (benchmark.dataset_stage) calls the
function with the dataset's spec (specs.DatasetSpec). This module holds only the registry, so
that the sources can import it; importing benchmark.dataset_stage registers them all (read
`SOURCES` from there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.specs import DatasetSpec

# A source: (the dataset's spec, the env it is for, log folder) -> the stored arrays and what the card says of them.
SourceFunction = Callable[[DatasetSpec, EnvSpec, Path], tuple[dict[str, np.ndarray], dict[str, Any]]]
# Checks a preset's dataset entry beyond its keys: (config key of the entry, suite, entry) -> raises BenchmarkError.
Check = Callable[[str, str, dict[str, Any]], None]
# The published dataset one of ours is set beside (benchmark.report.published): (dataset name, generator) -> name.
StandsFor = Callable[[str, str | None], str | None]

COMMON_KEYS = frozenset({"source", "seed", "algorithms"})  # keys every dataset entry may have


@dataclass(frozen=True)
class Source:
    name: str
    suites: frozenset[str]  # the suites whose data it holds
    options: frozenset[str] | None  # preset keys it reads besides source, seed and algorithms (None: `check` says)
    mirror: bool  # reads the file `path` names under the preset's `mirror`
    make: SourceFunction
    stands_for: StandsFor
    check: Check | None  # further checks of a preset's entry

    def validate(self, key: str, suite: str, dataset: dict[str, Any], mirror: str | None) -> None:
        """One line naming the config key unless `dataset` (the preset entry at `key`) fits this
        source; `mirror` is the preset's."""
        if suite not in self.suites:
            raise BenchmarkError(
                f"config key '{key}.source': {self.name!r} holds {'/'.join(sorted(self.suites))} data, not {suite}"
            )
        if self.options is not None:
            allowed = COMMON_KEYS | self.options | ({"path"} if self.mirror else set())
            unused = sorted(set(dataset) - allowed)
            if unused:
                raise BenchmarkError(
                    f"config key '{key}.{unused[0]}': not used by source {self.name!r}; "
                    f"allowed: {', '.join(sorted(allowed))}"
                )
        if self.mirror:
            if "path" not in dataset:
                raise BenchmarkError(f"config key '{key}.path': required for source {self.name!r}")
            try:
                dataset["path"].format(env="env")
            except (KeyError, IndexError, ValueError) as error:
                raise BenchmarkError(
                    f"config key '{key}.path': {dataset['path']!r}: only {{env}} is substituted ({error!r})"
                ) from error
            if not mirror:
                raise BenchmarkError(f"config key 'mirror': required by dataset '{key}' (source {self.name!r})")
        if self.check is not None:
            self.check(key, suite, dataset)


SOURCES: dict[str, Source] = {}


def source(
    name: str,
    suites: tuple[str, ...],
    options: tuple[str, ...] | None,
    stands_for: StandsFor,
    mirror: bool = True,
    check: Check | None = None,
) -> Callable[[SourceFunction], SourceFunction]:
    """Register a source function under `name` (one decorator: nothing else to touch)."""

    def register(make: SourceFunction) -> SourceFunction:
        SOURCES[name] = Source(
            name, frozenset(suites), None if options is None else frozenset(options), mirror, make, stands_for, check
        )
        return make

    return register
