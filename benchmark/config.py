"""Presets: load, validate (schema + catalogues), and expand into the grid of runs.

A preset is a YAML file under `config/`. Its structure is checked against
`workflow/schemas/config.schema.yaml`; names of games, tasks, algorithms and hyperparameters are
checked against the code. Every failure is one line naming the config key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from benchmark import algorithms, envs, paths
from benchmark.ars import POLICY_CARD, RECIPES
from benchmark.behaviour import BEHAVIOUR_CARD
from benchmark.errors import BenchmarkError
from benchmark.generators import GENERATORS

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def load_schema() -> dict[str, Any]:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _key(path: Iterable) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def _schema_error_line(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.schema.get("properties"), dict):
        extra = sorted(set(error.instance) - set(error.schema["properties"]))
        allowed = ", ".join(error.schema["properties"])
        prefix = f"{key}." if error.absolute_path else ""
        return f"config key '{prefix}{extra[0]}': unknown key; allowed: {allowed}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{key}': {error.instance!r} is not allowed; allowed: {allowed}"
    return f"config key '{key}': {error.message}"


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Raise BenchmarkError (one line) unless the preset is valid; return it with defaults."""
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise BenchmarkError(_schema_error_line(errors[0]))
    for suite, suite_config in config["suites"].items():
        allowed = envs.SUITES[suite]
        for env in suite_config["envs"]:
            if env not in allowed:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.envs.{env}': unknown {suite} env; allowed: {', '.join(allowed)}"
                )
        for name, dataset in suite_config["datasets"].items():
            _validate_dataset(suite, name, dataset, config.get("mirror"))
            without_recipe = sorted(set(suite_config["envs"]) - set(RECIPES))
            if dataset.get("generator", "").startswith("ars-") and without_recipe:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.datasets.{name}.generator': no ARS policy for {without_recipe[0]}; "
                    f"recipes (benchmark/ars.py): {', '.join(RECIPES)}"
                )
            unknown = sorted(set(dataset.get("algorithms", [])) - set(config["algorithms"]))
            if unknown:
                raise BenchmarkError(
                    f"config key 'suites.{suite}.datasets.{name}.algorithms': {unknown[0]!r} is not in the preset's "
                    f"algorithms: {', '.join(config['algorithms'])}"
                )
        _validate_checkpoints(suite, suite_config)
    registered = algorithms.registry()
    for name, overrides in config["algorithms"].items():
        if name not in registered:
            raise BenchmarkError(
                f"config key 'algorithms.{name}': unknown algorithm; registered: {', '.join(sorted(registered))}"
            )
        for suite, hyper in (overrides or {}).items():
            algorithms.hyperparameters(name, suite, hyper)  # raises on unknown hyperparameters
    return config


def _validate_checkpoints(suite: str, suite_config: dict[str, Any]) -> None:
    """Every budget keeps checkpoints within its steps (at each multiple of eval_every and at the
    last step, so eval_every <= steps), and the final checkpoint gets at least `episodes`."""
    training = suite_config["training"]
    key = f"suites.{suite}.training"
    budgets = [(key, training)] + [
        (f"{key}.per_algorithm.{name}", {**training, **override})
        for name, override in training.get("per_algorithm", {}).items()
    ]
    for budget_key, budget in budgets:
        if budget["eval_every"] > budget["steps"]:
            raise BenchmarkError(
                f"config key '{budget_key}.eval_every': {budget['eval_every']} must be a positive integer "
                f"<= steps ({budget['steps']}): a checkpoint is kept at each of its multiples and at the last step"
            )
    evaluation = suite_config["evaluation"]
    if evaluation.get("final_episodes", evaluation["episodes"]) < evaluation["episodes"]:
        raise BenchmarkError(
            f"config key 'suites.{suite}.evaluation.final_episodes': {evaluation['final_episodes']} must be at "
            f"least episodes ({evaluation['episodes']})"
        )


def _validate_dataset(suite: str, name: str, dataset: dict[str, Any], mirror: str | None) -> None:
    key = f"suites.{suite}.datasets.{name}"
    if dataset["source"] == "generated":
        generator = dataset.get("generator")
        if generator is None:
            raise BenchmarkError(
                f"config key '{key}.generator': required for generated datasets; allowed: {', '.join(GENERATORS)}"
            )
        registered = GENERATORS[generator]
        if registered.suite != suite:
            raise BenchmarkError(
                f"config key '{key}.generator': {generator!r} generates {registered.suite} data, not {suite}"
            )
        missing = sorted(registered.required - set(dataset))
        if missing:
            raise BenchmarkError(f"config key '{key}.{missing[0]}': required by generator {generator!r}")
        allowed = {"source", "seed", "generator", "algorithms"} | registered.required | registered.optional
        unused = sorted(set(dataset) - allowed)
        if unused:
            raise BenchmarkError(
                f"config key '{key}.{unused[0]}': not used by generator {generator!r}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        sac = dataset.get("sac")
        if sac and sac["medium_step"] >= sac["steps"]:
            raise BenchmarkError(
                f"config key '{key}.sac.medium_step': {sac['medium_step']} must be below sac.steps ({sac['steps']}), "
                "whose end gives the expert policy"
            )
    else:
        # Mirror sources (benchmark.importers): the suite each feeds and the keys each reads.
        source = dataset["source"]
        source_suite = {"dqn-replay": "atari", "d4rl": "mujoco", "minari": "mujoco"}[source]
        keys = {"source", "seed", "path", "algorithms"}
        if source == "dqn-replay":
            keys |= {"transitions", "run", "num_buffers", "last_checkpoint", "trajectories_per_buffer"}
        if source_suite != suite:
            raise BenchmarkError(f"config key '{key}.source': {source!r} holds {source_suite} data, not {suite}")
        unused = sorted(set(dataset) - keys)
        if unused:
            raise BenchmarkError(
                f"config key '{key}.{unused[0]}': not used by source {source!r}; allowed: {', '.join(sorted(keys))}"
            )
        if "path" not in dataset:
            raise BenchmarkError(f"config key '{key}.path': required for source {source!r}")
        try:
            dataset["path"].format(env="env")
        except (KeyError, IndexError, ValueError) as error:
            raise BenchmarkError(
                f"config key '{key}.path': {dataset['path']!r}: only {{env}} is substituted ({error!r})"
            ) from error
        if not mirror:
            raise BenchmarkError(f"config key 'mirror': required by dataset '{key}' (source {source!r})")
        last = dataset.get("last_checkpoint", 49)  # benchmark.importers.DT_1PCT_DEFAULTS
        if dataset.get("num_buffers", 50) > last + 1:
            raise BenchmarkError(
                f"config key '{key}.num_buffers': {dataset.get('num_buffers', 50)} is more than the "
                f"{last + 1} checkpoints 0..{last} (last_checkpoint)"
            )


def load(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"{path}: preset file not found")
    with open(path) as f:
        config = yaml.safe_load(f)
    if not isinstance(config, dict):
        raise BenchmarkError(f"{path}: a preset must be a YAML mapping")
    return validate(config)


@dataclass(frozen=True)
class RunKey:
    suite: str
    env: str
    dataset: str
    algorithm: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.env}/{self.dataset}/{self.algorithm}/seed{self.seed}"


def dataset_spec(config: dict[str, Any], suite: str, env: str, name: str) -> dict[str, Any]:
    """What the dataset stage needs to make (or import) one dataset."""
    dataset = dict(config["suites"][suite]["datasets"][name])
    source = dataset.pop("source")
    seed = dataset.pop("seed", 0)
    path = dataset.pop("path", None)
    dataset.pop("algorithms", None)  # which runs use the dataset, not how it is made
    if source == "generated" and suite == "atari":
        dataset.setdefault("max_episode_frames", envs.AtariProtocol().max_episode_frames)
    behaviour = None
    if "sac" in dataset:
        # One SAC training per (task, sac settings, seed), shared by every dataset naming the same.
        sac = dataset["sac"]
        behaviour_id = f"sac-{sac['steps']}-m{sac['medium_step']}-u{sac['update_interval']}-seed{seed}"
        behaviour = {"id": behaviour_id, "dir": str(paths.behaviour_dir(suite, env, behaviour_id))}
    return {
        "suite": suite,
        "env": env,
        "name": name,
        "source": source,
        "seed": seed,
        "mirror_path": None if path is None else str(Path(config["mirror"]) / path.format(env=env)),
        "behaviour": behaviour,
        "options": dataset,
    }


def behaviour_spec(config: dict[str, Any], suite: str, env: str, behaviour_id: str) -> dict[str, Any]:
    """What the behaviour stage needs to train the shared behaviour `behaviour_id` of one env."""
    for name in config["suites"][suite]["datasets"]:
        spec = dataset_spec(config, suite, env, name)
        if spec["behaviour"] and spec["behaviour"]["id"] == behaviour_id:
            return {
                "suite": suite,
                "env": env,
                "seed": spec["seed"],
                "sac": spec["options"]["sac"],
                "torch_threads": config.get("torch_threads", 1),
                **spec["behaviour"],
            }
    raise BenchmarkError(f"behaviour {behaviour_id!r}: no dataset of suites.{suite} is made from it")


def behaviour_inputs(config: dict[str, Any], suite: str, env: str, name: str) -> list[str]:
    """What a dataset job waits for: the card of the shared SAC behaviour it is made from, or of
    the ARS policies the `policy` rule trains (`policy: trained`), if any."""
    spec = dataset_spec(config, suite, env, name)
    if spec["behaviour"]:
        return [str(Path(spec["behaviour"]["dir"]) / BEHAVIOUR_CARD)]
    if spec["options"].get("policy") == "trained":
        return [str(paths.policy_dir(suite, env) / POLICY_CARD)]
    return []


def policy_envs(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(suite, env) of every env whose datasets come from ARS policies: what `snakemake policies`
    trains again from the recipe (benchmark.ars.RECIPES[env]), shipped or not."""
    return sorted(
        {
            (suite, env)
            for suite, suite_config in config["suites"].items()
            for env in suite_config["envs"]
            for dataset in suite_config["datasets"].values()
            if dataset.get("generator", "").startswith("ars-")
        }
    )


def run_spec(config: dict[str, Any], key: RunKey) -> dict[str, Any]:
    """Everything one run uses: written as the run's config.json, read by every later stage."""
    suite = config["suites"][key.suite]
    training = {k: v for k, v in suite["training"].items() if k != "per_algorithm"}
    training.update(suite["training"].get("per_algorithm", {}).get(key.algorithm, {}))
    overrides = (config["algorithms"][key.algorithm] or {}).get(key.suite, {})
    protocol = envs.protocol_for(key.suite, suite.get("protocol"))
    return {
        "run": key.id,
        "key": dataclasses.asdict(key),
        "preset": config["preset"],
        "dataset": dataset_spec(config, key.suite, key.env, key.dataset),
        "protocol": dataclasses.asdict(protocol),
        "target_return": suite["envs"][key.env]["target_return"],
        "training": training,
        "evaluation": dict(suite["evaluation"]),
        "hyperparameters": algorithms.hyperparameters(key.algorithm, key.suite, overrides),
        "torch_threads": config.get("torch_threads", 1),
    }


def features_spec(config: dict[str, Any], key: RunKey) -> Any | None:
    """The frozen-encoder cache a run reads (MORE-3S and its ablations), or None."""
    cls = algorithms.get(key.algorithm)
    if not hasattr(cls, "features_spec"):
        return None
    return cls.features_spec(key.suite, key.env, key.dataset, run_spec(config, key)["hyperparameters"])


def features_grid(config: dict[str, Any]) -> dict[str, Any]:
    """Every cache the grid needs, by folder: runs that encode alike share one."""
    specs = (features_spec(config, key) for key in grid(config))
    return {str(spec.folder): spec for spec in specs if spec is not None}


def grid(config: dict[str, Any]) -> list[RunKey]:
    """suites x envs x datasets x algorithms x seeds; a dataset's `algorithms` list, if it has
    one, keeps only those algorithms on it."""
    keys = []
    for suite, suite_config in config["suites"].items():
        for env, (name, dataset), algorithm, seed in itertools.product(
            suite_config["envs"], suite_config["datasets"].items(), config["algorithms"], config["seeds"]
        ):
            if algorithm in dataset.get("algorithms", config["algorithms"]):
                keys.append(RunKey(suite, env, name, algorithm, seed))
    return keys
