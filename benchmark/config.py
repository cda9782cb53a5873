"""Presets: load, validate (schema + catalogues), and expand into the grid of runs.

A preset is a YAML file under `config/`. It is read strictly (UTF-8, keys once, no YTE template:
a preset is data), its structure is checked against `benchmark/schema/config.schema.yaml`, whose
defaults are filled in here and nowhere else, and names of games, tasks, algorithms and
hyperparameters against the code. Every failure is one line naming the file and line, or the
config key, and what is allowed. What comes out is typed (benchmark.preset.Preset).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from benchmark import algorithms, envs, paths
from benchmark.ars import RECIPES
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset, Report
from benchmark.sources import GENERATORS, SOURCES
from benchmark.specs import (
    SCHEMA_PATH,
    BehaviourRef,
    BehaviourSpec,
    DatasetSpec,
    RunKey,
    RunSpec,
)

MAX_CHECKPOINTS = 1000  # a run's checkpoints (the paper preset keeps 51): each is stored and evaluated
YTE_KEY = "__use_yte__"  # Snakemake evaluates a preset holding it as a YTE template: code

# The schema's `integer` without JSON Schema's leniency (1.0 is an integer there): seeds, budgets
# and sizes are ints in Python too.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
)
_check_properties = jsonschema.Draft202012Validator.VALIDATORS["properties"]


def _fill_defaults(
    validator: jsonschema.protocols.Validator, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """Check `properties` after filling in the `default` of each one `instance` lacks: the jsonschema
    FAQ's validator that sets defaults, as snakemake.utils.validate runs it (the same config)."""
    if validator.is_type(instance, "object"):
        for name, subschema in properties.items():
            if "default" in subschema:
                instance.setdefault(name, copy.deepcopy(subschema["default"]))
    yield from _check_properties(validator, properties, instance, schema)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"properties": _fill_defaults}, type_checker=_TYPES
)


def load_schema() -> dict[str, Any]:
    """The preset schema, its `source` and `generator` lists taken from the registries (the only
    lists of them: adding a source or a generator is its declaration)."""
    with open(SCHEMA_PATH) as f:
        schema = yaml.safe_load(f)
    dataset = schema["$defs"]["dataset"]["properties"]
    dataset["source"]["enum"] = sorted(SOURCES)
    dataset["generator"]["enum"] = list(GENERATORS)
    return schema


def report_defaults() -> Report:
    """The report settings of a preset without a `report:` block: the schema's defaults."""
    properties = load_schema()["properties"]["report"]["properties"]
    return Report(**{name: settings["default"] for name, settings in properties.items()})


def _key(path: Iterable) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def _schema_error_line(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if "propertyNames" in error.relative_schema_path:
        prefix = f"{key}." if error.absolute_path else ""
        return (
            f"config key '{prefix}{error.instance}': not a valid name (it becomes a folder name): lower-case "
            "letters, digits, '-' and '_', starting with a letter or digit"
        )
    if error.validator == "additionalProperties" and isinstance(error.schema.get("properties"), dict):
        extra = sorted(set(error.instance) - set(error.schema["properties"]))
        allowed = ", ".join(error.schema["properties"])
        prefix = f"{key}." if error.absolute_path else ""
        return f"config key '{prefix}{extra[0]}': unknown key; allowed: {allowed}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{key}': {error.instance!r} is not allowed; allowed: {allowed}"
    return f"config key '{key}': {error.message}"


def validate(config: dict[str, Any]) -> Preset:
    """Raise BenchmarkError (one line) unless the preset is valid; fill the schema's defaults into
    `config` (in place: Snakemake's merged config carries them into the jobs' command lines) and
    return the preset typed."""
    _refuse_yte(config)
    schema = load_schema()
    # a focus the preset names must be one of its algorithms; the default one need not (no MORE-3S),
    # which a config validated before holds too (filled in): validating it again changes nothing
    default_focus = schema["properties"]["report"]["properties"]["focus"]["default"]
    report = config.get("report")
    names_focus = isinstance(report, dict) and report.get("focus", default_focus) != default_focus
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise BenchmarkError(_schema_error_line(errors[0]))
    for key, value in _leaves(config):
        if isinstance(value, float) and not math.isfinite(value):
            raise BenchmarkError(f"config key '{key}': {value} is not a finite number")
    preset = Preset.from_config(config)
    _validate_workdir(preset)
    for suite, suite_config in config["suites"].items():
        allowed = envs.SUITES[suite]
        for env in suite_config["envs"]:
            if env not in allowed:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.envs.{env}': unknown {suite} env; allowed: {', '.join(allowed)}"
                )
        for name, dataset in suite_config["datasets"].items():
            _validate_dataset(suite, name, dataset, preset.mirror)
            without_recipe = sorted(set(suite_config["envs"]) - set(RECIPES))
            if _from_ars_policies(preset.suites[suite].datasets[name].options) and without_recipe:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.datasets.{name}.generator': no ARS policy for {without_recipe[0]}; "
                    f"recipes (benchmark/ars.py): {', '.join(RECIPES)}"
                )
            unknown = sorted(set(preset.suites[suite].datasets[name].algorithms) - set(preset.algorithms))
            if unknown:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.datasets.{name}.algorithms': {unknown[0]!r} is not in the preset's "
                    f"algorithms: {', '.join(preset.algorithms)}"
                )
        _validate_checkpoints(suite, preset)
    for name, overrides in preset.algorithms.items():
        if name not in algorithms.ALGORITHMS:
            registered = ", ".join(sorted(algorithms.ALGORITHMS))
            raise BenchmarkError(f"config key 'algorithms.{name}': unknown algorithm; registered: {registered}")
        _validate_suites(preset, name, algorithms.ALGORITHMS[name].suites)
        for suite, hyper in overrides.items():
            algorithms.hyperparameters(name, suite, hyper)  # raises on unknown hyperparameters
            _validate_hyperparameters(name, suite, hyper)
        for suite, suite_preset in preset.suites.items():  # every suite it runs in has its settings
            if any(name in dataset.algorithms for dataset in suite_preset.datasets.values()):
                algorithms.hyperparameters(name, suite, _overrides(preset, name, suite))
    if names_focus and preset.report.focus not in preset.algorithms:
        raise BenchmarkError(
            f"config key 'report.focus': {preset.report.focus!r} is not in the preset's algorithms: "
            f"{', '.join(preset.algorithms)}"
        )
    return preset


def _overrides(preset: Preset, algorithm: str, suite: str) -> dict[str, Any]:
    """The preset's overrides of `algorithm`'s published hyperparameters on `suite` (none: {})."""
    return dict(preset.algorithms[algorithm].get(suite, {}))  # an algorithm may override one suite only


def _validate_suites(preset: Preset, name: str, supported: tuple[str, ...]) -> None:
    """An algorithm runs only on the suites it declares (`suites`): neither its overrides nor a
    dataset's runs may name another."""
    overridden = sorted(preset.algorithms[name].keys() - set(supported))
    if overridden:
        key = f"algorithms.{name}.{overridden[0]}"
        raise BenchmarkError(f"config key '{key}': {name} runs on {', '.join(supported)} only")
    for suite, suite_preset in preset.suites.items():
        if suite in supported:
            continue
        for dataset_name, dataset in suite_preset.datasets.items():
            if name in dataset.algorithms:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.datasets.{dataset_name}.algorithms': {name} runs on "
                    f"{', '.join(supported)} only; list this dataset's algorithms without it"
                )


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple[str, Any]]:
    """(config key, value) of every scalar in a preset."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield _key(path), value


def _refuse_yte(config: Any, path: tuple = ()) -> None:
    """A preset is data: Snakemake runs one holding `__use_yte__` (anywhere we refuse it) as a template."""
    if isinstance(config, dict):
        if YTE_KEY in config:
            where = _key((*path, YTE_KEY))
            raise BenchmarkError(f"config key '{where}': YTE templates are refused: a preset is data, not code")
        for key, value in config.items():
            _refuse_yte(value, (*path, key))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            _refuse_yte(value, (*path, index))


def _validate_workdir(preset: Preset) -> None:
    """Results stay inside the repository unless the preset says otherwise, explicitly."""
    workdir = Path(preset.workdir)
    if preset.allow_external_workdir:
        return
    if workdir.is_absolute() or ".." in workdir.parts:
        raise BenchmarkError(
            f"config key 'workdir': {str(workdir)!r} is outside the repository; expected a relative path without "
            "'..' (e.g. resources/<preset>), or allow_external_workdir: true"
        )


def _validate_hyperparameters(name: str, suite: str, overrides: dict[str, Any]) -> None:
    """Each override has its published default's type; numbers are not negative (no published one is)."""
    defaults = algorithms.ALGORITHMS[name].published[suite]
    for field, value in overrides.items():
        key = f"algorithms.{name}.{suite}.{field}"
        default = getattr(defaults, field)
        if isinstance(default, tuple):  # sizes, e.g. hidden_units: a YAML list of the items' kind
            items, ok = value, isinstance(value, list) and all(_is_kind(item, default[0]) for item in value)
        else:
            items, ok = [value], _is_kind(value, default)
        expected = _expected_kind(default)
        if not ok:
            raise BenchmarkError(f"config key '{key}': {value!r} is not {expected}")
        if any(isinstance(item, int | float) and not isinstance(item, bool) and item < 0 for item in items):
            raise BenchmarkError(f"config key '{key}': {value!r} is negative; expected {expected}, at least 0")


def _expected_kind(default: Any) -> str:
    if isinstance(default, tuple):
        return f"a list of {_expected_kind(default[0]).split(' ', 1)[1]}s"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[type(default)]


def _is_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return type(value) is type(default)


def _validate_checkpoints(suite: str, preset: Preset) -> None:
    """Every budget keeps checkpoints within its steps (at each multiple of eval_every and at the
    last step, so eval_every <= steps), and the final checkpoint gets at least `episodes`."""
    training = preset.suites[suite].training
    key = f"suites.{suite}.training"
    budgets = [(key, training.budget)] + [
        (f"{key}.per_algorithm.{name}", training.budget_of(name)) for name in training.per_algorithm
    ]
    for budget_key, budget in budgets:
        checkpoints = -(-budget.steps // budget.eval_every)
        if checkpoints > MAX_CHECKPOINTS:
            raise BenchmarkError(
                f"config key '{budget_key}.eval_every': {budget.eval_every} keeps {checkpoints} checkpoints of "
                f"{budget.steps} steps, over the limit of {MAX_CHECKPOINTS} a run (each is stored and evaluated)"
            )
        if budget.eval_every > budget.steps:
            raise BenchmarkError(
                f"config key '{budget_key}.eval_every': {budget.eval_every} must be a positive integer "
                f"<= steps ({budget.steps}): a checkpoint is kept at each of its multiples and at the last step"
            )
    evaluation = preset.suites[suite].evaluation
    if evaluation.final < evaluation.episodes:
        raise BenchmarkError(
            f"config key 'suites.{suite}.evaluation.final_episodes': {evaluation.final_episodes} must be at "
            f"least episodes ({evaluation.episodes})"
        )


def _validate_dataset(suite: str, name: str, dataset: dict[str, Any], mirror: str | None) -> None:
    """The keys of a dataset are those its source (and, generated, its generator) reads."""
    SOURCES[dataset["source"]].validate(f"suites.{suite}.datasets.{name}", suite, dataset, mirror)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys (YAML forbids them; PyYAML keeps the last)."""


def _mapping_once(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool) and key in lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {lines[key] + 1})", key_node.start_mark
            )
        lines[key] = key_node.start_mark.line
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_once)


def read(path: Path | str) -> Any:
    """A preset file's content, read strictly: one line naming the file (and line) when it is not
    UTF-8 YAML with each key once, or holds a YTE template."""
    path = Path(path)
    if path.is_dir():
        raise BenchmarkError(f"{path}: is a folder; expected a preset file (config/<name>.yaml)")
    if not path.exists():
        raise BenchmarkError(f"{path}: preset file not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise BenchmarkError(f"{path}: not UTF-8 text (byte 0x{byte:02x} at offset {error.start})") from None
    try:
        content = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(str(error.problem or error.context or "").split())
        raise BenchmarkError(f"{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise BenchmarkError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    try:
        _refuse_yte(content)
    except BenchmarkError as error:
        raise BenchmarkError(f"{path}: {error}") from None
    return content


def load(path: Path | str) -> Preset:
    config = read(path)
    if not isinstance(config, dict):
        raise BenchmarkError(f"{path}: a preset must be a YAML mapping")
    return validate(config)


def check_workflow_config(
    config: dict[str, Any], files: Iterable[Path | str], *checks: Callable[[Preset], None]
) -> Preset:
    """Snakemake's check, before the workdir is made or any job planned: the preset files read
    strictly (Snakemake's own reading keeps duplicate keys' last value and runs YTE templates,
    before the Snakefile can stop it), then the merged config validated (and given the schema's
    defaults), then `checks` (the capacity plan's limits). Exits with one line and status 2, as
    `python -m benchmark` does; returns the preset typed."""
    try:
        for path in files:
            read(path)
        preset = validate(config)
        for check in checks:
            check(preset)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    return preset


def _from_ars_policies(options: Mapping[str, Any]) -> bool:
    """Whether a (validated) preset dataset, by its options, is made from its env's ARS policies:
    its generator's declaration says."""
    return "generator" in options and GENERATORS[options["generator"]].ars_policies


def dataset_spec(preset: Preset, suite: str, env: str, name: str) -> DatasetSpec:
    """What the dataset stage needs to make (or import) one dataset (or a dataset's held-out data)."""
    if name.endswith(paths.HELDOUT):
        held_out = heldout_spec(dataset_spec(preset, suite, env, name.removesuffix(paths.HELDOUT)))
        if held_out is None:
            raise BenchmarkError(f"dataset {name!r}: {name.removesuffix(paths.HELDOUT)!r} has no held-out data")
        return held_out
    dataset = preset.suites[suite].datasets[name]
    options = dict(dataset.options)
    if dataset.source == "generated" and suite == "atari":
        options.setdefault("max_episode_frames", envs.AtariProtocol().max_episode_frames)
    behaviour: BehaviourRef | None = None
    if "sac" in options:
        # One SAC training per (task, sac settings, seed), shared by every dataset naming the same.
        sac = options["sac"]
        behaviour_id = f"sac-{sac['steps']}-m{sac['medium_step']}-u{sac['update_interval']}-seed{dataset.seed}"
        behaviour = BehaviourRef(id=behaviour_id, dir=str(paths.behaviour_dir(suite, env, behaviour_id)))
    mirror_path = None
    if dataset.path is not None:  # validation requires the preset's mirror for it
        mirror_path = str(Path(str(preset.mirror)) / dataset.path.format(env=env))
    return DatasetSpec(
        suite=suite,
        env=env,
        name=name,
        source=dataset.source,
        seed=dataset.seed,
        mirror_path=mirror_path,
        behaviour=behaviour,
        options=options,
    )


# The diagnose stage's sizes (benchmark.diagnostics; the capacity plan prices them)
HELDOUT_SEED_OFFSET = 1000  # the held-out data's seed: the dataset's plus this
HELDOUT_TRANSITIONS = 5000  # at most this many transitions of held-out data
HELDOUT_SHARE = 4  # and at most 1/4 of the dataset's (small presets: a small diagnosis)
CLOSED_LOOP_EPISODES = 3  # episodes of the closed-loop error curve
SWAP_WINDOWS = 128  # held-out windows of MORE-3S's frame and text swaps (more3s.swaps)


def heldout_spec(spec: DatasetSpec) -> DatasetSpec | None:
    """More data of the same behaviour as a generated dataset, with another seed (a quarter of its
    size, at most HELDOUT_TRANSITIONS): what the diagnose stage measures policies on. None where another seed
    would be another behaviour (an online learner's data) or the data is imported."""
    if spec.source != "generated" or not GENERATORS[spec.options["generator"]].repeatable:
        return None
    transitions = min(spec.options["transitions"] // HELDOUT_SHARE, HELDOUT_TRANSITIONS)
    options = {**spec.options, "transitions": max(transitions, 1)}
    return dataclasses.replace(
        spec, name=spec.name + paths.HELDOUT, seed=spec.seed + HELDOUT_SEED_OFFSET, options=options
    )


def behaviour_spec(preset: Preset, suite: str, env: str, behaviour_id: str) -> BehaviourSpec:
    """What the behaviour stage needs to train the shared behaviour `behaviour_id` of one env."""
    for name in preset.suites[suite].datasets:
        spec = dataset_spec(preset, suite, env, name)
        if spec.behaviour and spec.behaviour.id == behaviour_id:
            return BehaviourSpec(
                suite=suite,
                env=env,
                seed=spec.seed,
                sac=spec.options["sac"],
                torch_threads=preset.torch_threads,
                id=spec.behaviour.id,
                dir=spec.behaviour.dir,
            )
    raise BenchmarkError(f"behaviour {behaviour_id!r}: no dataset of suites.{suite} is made from it")


def behaviour_inputs(preset: Preset, suite: str, env: str, name: str) -> list[str]:
    """What a dataset job waits for: the card of the shared SAC behaviour it is made from, or of
    the ARS policies the `policy` rule trains (`policy: trained`), if any."""
    spec = dataset_spec(preset, suite, env, name)
    if spec.behaviour:
        return [str(Path(spec.behaviour.dir) / paths.BEHAVIOUR_CARD)]
    if spec.options.get("policy") == "trained":
        return [str(paths.policy_dir(suite, env) / paths.POLICY_CARD)]
    return []


def policy_envs(preset: Preset) -> list[tuple[str, str]]:
    """(suite, env) of every env whose datasets come from ARS policies: what `snakemake policies`
    trains again from the recipe (benchmark.ars.RECIPES[env]), shipped or not."""
    return sorted(
        {
            (name, env)
            for name, suite in preset.suites.items()
            for env in suite.envs
            for dataset in suite.datasets.values()
            if _from_ars_policies(dataset.options)
        }
    )


def run_spec(preset: Preset, key: RunKey) -> RunSpec:
    """Everything one run uses: written into the run's config.json, read by every later stage."""
    suite = preset.suites[key.suite]
    overrides = _overrides(preset, key.algorithm, key.suite)
    return RunSpec(
        key=key,
        preset=preset.name,
        dataset=dataset_spec(preset, key.suite, key.env, key.dataset),
        protocol=envs.protocol_for(key.suite, suite.protocol),
        target_return=suite.target_returns[key.env],
        budget=suite.training.budget_of(key.algorithm),
        evaluation=suite.evaluation,
        hyperparameters=algorithms.hyperparameters(key.algorithm, key.suite, overrides),
        torch_threads=preset.torch_threads,
    )


def features_spec(preset: Preset, key: RunKey) -> Any | None:
    """The frozen-encoder cache a run reads (MORE-3S and its ablations), or None."""
    features = algorithms.declared(key.algorithm).features
    if features is None:
        return None
    return features(key.suite, key.env, key.dataset, run_spec(preset, key).hyperparameters)


def heldout_features_spec(preset: Preset, key: RunKey) -> Any | None:
    """The cache of the run's held-out data by the run's encoder (the diagnose stage reads it), or
    None: no cache, no held-out data, or features encoded live."""
    spec = features_spec(preset, key)
    held_out = heldout_spec(dataset_spec(preset, key.suite, key.env, key.dataset))
    return spec.held_out(held_out.name) if spec is not None and held_out is not None else None


def features_grid(preset: Preset) -> dict[str, Any]:
    """Every cache the grid needs, by folder: runs that encode alike share one (and one of their
    held-out data)."""
    specs = (
        spec
        for key in grid(preset)
        for spec in (features_spec(preset, key), heldout_features_spec(preset, key))
        if spec is not None
    )
    return {str(spec.folder): spec for spec in specs}


def frames_spec(preset: Preset, key: RunKey) -> Any | None:
    """The frames store a run reads itself (bc-pixels), or None."""
    frames = algorithms.declared(key.algorithm).frames
    if frames is None:
        return None
    return frames(key.suite, key.env, key.dataset, run_spec(preset, key).hyperparameters)


def frames_grid(preset: Preset) -> dict[str, Any]:
    """Every frames store the grid reads (live features' and runs' own), by folder: one per dataset
    and render protocol."""
    features = (spec.frames for spec in features_grid(preset).values())
    runs = (frames_spec(preset, key) for key in grid(preset))
    return {str(spec.folder): spec for spec in itertools.chain(features, runs) if spec is not None}


def grid(preset: Preset) -> list[RunKey]:
    """suites x envs x datasets x algorithms x seeds; a dataset's `algorithms` list, if it has
    one, keeps only those algorithms on it."""
    keys = []
    for name, suite in preset.suites.items():
        for env, (dataset_name, dataset), algorithm, seed in itertools.product(
            suite.envs, suite.datasets.items(), preset.algorithms, preset.seeds
        ):
            if algorithm in dataset.algorithms:
                keys.append(RunKey(name, env, dataset_name, algorithm, seed))
    return keys
