"""Where a preset's datasets come from: the data sources (`source:`) and, for `generated` data,
the generators (`generator:`). Both are registries (benchmark.registry) of light declarations.

A source declares its name, the suites whose data it holds, the preset keys it reads and how it
checks them; a generator, the suite it makes data for, the keys it reads, the published dataset
its data stands in for and what the diagnose stage may do with it. Each names its function as
"module:attr": `generated` (benchmark.generators, which runs the generator the dataset names)
and the mirror sources (benchmark.importers). The preset schema's `source` and `generator` enums
are these registries (`config.load_schema` puts them there), `config.validate` checks a dataset's
keys with its declarations, the report sets our data beside the published dataset they name, and
the dataset stage (benchmark.dataset_stage) loads the function and calls it with the dataset's
spec (specs.DatasetSpec). Nothing here imports the functions, so validating, planning and
reporting never load torch or gymnasium.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.envs import SUITES, EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.registry import Registry
from benchmark.specs import DatasetSpec

Made = tuple[dict[str, np.ndarray], dict[str, Any]]  # the stored arrays and what the card says of them
# A source's function: (the dataset's spec, the env it is for, log folder) -> Made.
SourceFunction = Callable[[DatasetSpec, EnvSpec, Path], Made]
# A generator's function: (env, options, seed, spec, log_dir) -> Made.
GeneratorFunction = Callable[[str, dict[str, Any], int, DatasetSpec, Path], Made]
# Checks a preset's dataset entry beyond its keys: (config key of the entry, suite, entry) -> raises BenchmarkError.
Check = Callable[[str, str, dict[str, Any]], None]
# The published dataset one of ours is set beside (benchmark.report.published): (dataset name, generator) -> name.
StandsFor = Callable[[str, str | None], str | None]

COMMON_KEYS = frozenset({"source", "seed", "algorithms"})  # keys every dataset entry may have


@dataclass(frozen=True)
class Source:
    name: str
    implementation: str  # "module:attr" of its SourceFunction
    suites: frozenset[str]  # the suites whose data it holds
    options: frozenset[str] | None  # preset keys it reads besides source, seed and algorithms (None: `check` says)
    stands_for: StandsFor
    mirror: bool = True  # reads the file `path` names under the preset's `mirror`
    check: Check | None = None  # further checks of a preset's entry

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


@dataclass(frozen=True)
class Generator:
    name: str
    implementation: str  # "module:attr" of its GeneratorFunction
    suite: str  # the suite whose data it makes
    required: frozenset[str]  # preset keys it needs besides source, seed and generator
    optional: frozenset[str] = frozenset()
    stands_for: str | None = None  # the published dataset its data stands in for (same recipe, never the same data)
    # reads the env's ARS policies: the env needs a recipe (benchmark.ars), `policies` trains them
    ars_policies: bool = False
    # another seed draws more data of the same behaviour (the diagnose stage's held-out data); False
    # where the seed also trains the behaviour (an online learner), so another seed is another behaviour
    repeatable: bool = True
    # the one ARS policy (its role on the policy card) whose noisy actions make the data, if one does:
    # what the diagnose stage compares a policy's actions with
    behaviour_role: str | None = None


SOURCES: Registry[Source] = Registry("source")
GENERATORS: Registry[Generator] = Registry("generator")


def behaviour_role(spec: DatasetSpec) -> str | None:
    """The role (policy card key) of the one ARS policy whose actions (plus `action_noise`) a
    generated dataset holds; None where no single policy made it (several, scripted or random
    play, imported data)."""
    return GENERATORS[spec.options["generator"]].behaviour_role if spec.source == "generated" else None


# --- generated: data made here (benchmark.generators) ----------------------------------------------


def _check_generated(key: str, suite: str, dataset: dict[str, Any]) -> None:
    """A generated dataset's keys are those its generator reads."""
    name = dataset.get("generator")
    if name is None:
        raise BenchmarkError(
            f"config key '{key}.generator': required for generated datasets; allowed: {', '.join(GENERATORS)}"
        )
    registered = GENERATORS[name]  # the schema's enum holds only registered names
    if registered.suite != suite:
        raise BenchmarkError(f"config key '{key}.generator': {name!r} generates {registered.suite} data, not {suite}")
    missing = sorted(registered.required - set(dataset))
    if missing:
        raise BenchmarkError(f"config key '{key}.{missing[0]}': required by generator {name!r}")
    allowed = COMMON_KEYS | {"generator"} | registered.required | registered.optional
    unused = sorted(set(dataset) - allowed)
    if unused:
        raise BenchmarkError(
            f"config key '{key}.{unused[0]}': not used by generator {name!r}; allowed: {', '.join(sorted(allowed))}"
        )
    sac = dataset.get("sac")
    if sac and sac["medium_step"] >= sac["steps"]:
        raise BenchmarkError(
            f"config key '{key}.sac.medium_step': {sac['medium_step']} must be below sac.steps ({sac['steps']}), "
            "whose end gives the expert policy"
        )


SOURCES.register(
    Source(
        "generated",
        "benchmark.generators:generated",
        frozenset(SUITES),
        None,  # the generator's keys: `_check_generated`
        stands_for=lambda name, generator: GENERATORS[generator].stands_for if generator in GENERATORS else None,
        mirror=False,
        check=_check_generated,
    )
)

_ATARI = ("transitions", "epsilons")
_ARS = ("policy", "action_noise")
for _generator in [
    Generator(
        "scripted", "benchmark.generators:scripted", "atari", frozenset(_ATARI), frozenset({"max_episode_frames"})
    ),
    Generator(
        "scripted-replay",
        "benchmark.generators:scripted_replay",
        "atari",
        frozenset(_ATARI),
        frozenset({"max_episode_frames"}),
        stands_for="dqn-replay-1pct",
    ),
    Generator(
        "dqn-online",
        "benchmark.generators:dqn_online",
        "atari",
        frozenset({*_ATARI, "update_interval"}),
        frozenset({"max_episode_frames"}),
        stands_for="dqn-replay-1pct",
        repeatable=False,
    ),
    Generator("random", "benchmark.generators:random", "mujoco", frozenset({"transitions"})),
    Generator(
        "sac-medium",
        "benchmark.generators:sac_medium",
        "mujoco",
        frozenset({"transitions", "sac"}),
        stands_for="medium",
        repeatable=False,
    ),
    Generator(
        "sac-medium-expert",
        "benchmark.generators:sac_medium_expert",
        "mujoco",
        frozenset({"transitions", "sac"}),
        stands_for="medium-expert",
        repeatable=False,
    ),
    Generator(
        "sac-medium-replay",
        "benchmark.generators:sac_medium_replay",
        "mujoco",
        frozenset({"sac"}),
        stands_for="medium-replay",
        repeatable=False,
    ),
    Generator(
        "ars-medium",
        "benchmark.generators:ars_medium",
        "mujoco",
        frozenset({"transitions"}),
        frozenset(_ARS),
        stands_for="medium",
        ars_policies=True,
        behaviour_role="medium",
    ),
    Generator(
        "ars-expert",
        "benchmark.generators:ars_expert",
        "mujoco",
        frozenset({"transitions"}),
        frozenset(_ARS),
        stands_for="expert",
        ars_policies=True,
        behaviour_role="expert",
    ),
    Generator(
        "ars-medium-expert",
        "benchmark.generators:ars_medium_expert",
        "mujoco",
        frozenset({"transitions"}),
        frozenset(_ARS),
        stands_for="medium-expert",
        ars_policies=True,
    ),
    Generator(
        "ars-medium-replay",
        "benchmark.generators:ars_medium_replay",
        "mujoco",
        frozenset({"transitions"}),
        frozenset(_ARS),
        stands_for="medium-replay",
        ars_policies=True,
    ),
]:
    GENERATORS.register(_generator)


# --- the mirror sources: real datasets under the preset's `mirror` (benchmark.importers) -----------

# The Decision Transformer paper's 1% protocol, as its official code runs it (kzl/decision-transformer,
# atari/run_dt_atari.py defaults -> atari/create_dataset.py): 500k transitions, buffers 0..49
# (np.arange(50 - num_buffers, 50)), 10 trajectories per visit of a buffer, run 1.
DT_1PCT_DEFAULTS: dict[str, int] = {
    "transitions": 500_000,
    "num_buffers": 50,
    "trajectories_per_buffer": 10,
    "run": 1,
    "last_checkpoint": 49,
}


def _check_dqn_replay(key: str, suite: str, dataset: dict[str, Any]) -> None:
    last = dataset.get("last_checkpoint", DT_1PCT_DEFAULTS["last_checkpoint"])
    buffers = dataset.get("num_buffers", DT_1PCT_DEFAULTS["num_buffers"])
    if buffers > last + 1:
        raise BenchmarkError(
            f"config key '{key}.num_buffers': {buffers} is more than the {last + 1} checkpoints 0..{last} "
            "(last_checkpoint)"
        )


def _own_name(name: str, generator: str | None) -> str:
    """Presets name D4RL and Minari data after D4RL's datasets, which they are."""
    return name


SOURCES.register(
    Source(
        "dqn-replay",
        "benchmark.importers:dqn_replay",
        frozenset({"atari"}),
        frozenset(DT_1PCT_DEFAULTS),
        stands_for=lambda name, generator: "dqn-replay-1pct",
        check=_check_dqn_replay,
    )
)
for _name in ("d4rl", "minari"):
    SOURCES.register(Source(_name, f"benchmark.importers:{_name}", frozenset({"mujoco"}), frozenset(), _own_name))
