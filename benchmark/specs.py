"""Typed job specs: what a run is (`RunSpec`), a dataset (`DatasetSpec`) and a shared behaviour
training (`BehaviourSpec`) are, each built once from the preset (benchmark.config), and what a
run's `config.json` records (`RunRecord`: the spec and what training found).

A spec travels as JSON (Snakemake's `--spec`, the run's `config.json`). `to_dict` (or, where the
fields are the record, `dataclasses.asdict`) writes the format the suite has always written, key
for key and in that order; `from_dict` reads it back and refuses a record with a missing or
mistyped key in one line naming the file and the key. Every stage reads a run's config.json
through `RunRecord.read`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmark import compat, envs, io, paths
from benchmark.errors import BenchmarkError

# Inside the package (package data), so an installed package finds it; the workflow validates with it too.
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "config.schema.yaml"


@functools.cache
def name_pattern() -> str:
    """What env, dataset and algorithm names match (the schema's `name`): they become folder names."""
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)["$defs"]["name"]["pattern"]


def check_names(where: str, **names: Any) -> None:
    """`suite` one of the suites, every other name as a preset's names are (a spec's names become
    folder names, so a spec never trusted to come from the workflow cannot leave the workdir)."""
    for key, value in names.items():
        suite = key.rsplit(".", 1)[-1] == "suite"
        if suite and value not in envs.SUITES:
            raise BenchmarkError(f"{where}: key {key!r}: {value!r} is not one of {', '.join(envs.SUITES)}")
        if not suite and not (isinstance(value, str) and re.fullmatch(name_pattern(), value)):
            raise BenchmarkError(
                f"{where}: key {key!r}: {value!r} is not a valid name (lower-case letters, digits, '-' and '_')"
            )


def _check_behaviour_dir(where: str, key: str, suite: str, env: str, behaviour: BehaviourRef) -> None:
    """A behaviour's folder is the one its id names (paths.behaviour_dir), never another."""
    check_names(where, **{key.replace("dir", "id"): behaviour.id})
    expected = paths.behaviour_dir(suite, env, behaviour.id)
    if Path(behaviour.dir) != expected:
        raise BenchmarkError(f"{where}: key {key!r}: {behaviour.dir!r} is not the behaviour's folder {str(expected)!r}")


@dataclass(frozen=True)
class RunKey:
    suite: str
    env: str
    dataset: str
    algorithm: str
    seed: int

    @property
    def id(self) -> str:
        return paths.RUN.format(**dataclasses.asdict(self))


@dataclass(frozen=True)
class Budget:
    """What every algorithm in a preset gets alike (DESIGN: fair comparison)."""

    steps: int  # gradient steps, exactly this many for every algorithm
    batch_size: int  # transitions (or sequences, for sequence models) per step
    eval_every: int  # a checkpoint is kept, and later evaluated, every this many steps and at the last

    @property
    def checkpoints(self) -> list[int]:
        """The steps that end with a checkpoint: every multiple of eval_every, and `steps` (e.g. 10, 20, 25)."""
        return [*range(self.eval_every, self.steps, self.eval_every), self.steps]


@dataclass(frozen=True)
class Evaluation:
    episodes: int  # at each checkpoint but the last
    final_episodes: int | None = None  # at the last one (the final score); `episodes` when None

    @property
    def final(self) -> int:
        return self.episodes if self.final_episodes is None else self.final_episodes


@dataclass(frozen=True)
class BehaviourRef:
    """The shared SAC behaviour training a dataset is made from (the workflow's `behaviour` rule)."""

    id: str  # sac-<steps>-m<medium_step>-u<update_interval>-seed<seed>: one per (task, sac settings, seed)
    dir: str  # the folder its policies, replay buffer and card are in

    @classmethod
    def _read(cls, record: _Record) -> BehaviourRef:
        return cls(**record.fields(cls))


@dataclass(frozen=True)
class DatasetSpec:
    """The dataset a run trains on, as the dataset stage makes it (benchmark.config.dataset_spec).
    `dataclasses.asdict` of it is the record (config.json's `dataset`, the dataset stage's `--spec`)."""

    suite: str
    env: str
    name: str
    source: str  # generated, or a mirror's format (dqn-replay, d4rl, minari)
    seed: int
    mirror_path: str | None  # where an imported dataset's files are; None for generated ones
    behaviour: BehaviourRef | None  # the shared SAC behaviour it is made from; None for the others
    options: dict[str, Any]  # the generator's or importer's own keys

    @property
    def folder(self) -> Path:
        return paths.dataset_dir(self.suite, self.env, self.name)

    @classmethod
    def from_dict(cls, record: Any, where: str) -> DatasetSpec:
        """The spec `record` holds; `where` (a command-line argument) prefixes every error."""
        return cls._read(_Record(record, where))

    @classmethod
    def _read(cls, record: _Record) -> DatasetSpec:
        behaviour = record.get("behaviour", "dict | None")
        spec = cls(
            **record.fields(cls, behaviour=None if behaviour is None else BehaviourRef._read(record.at("behaviour")))
        )
        prefix = f"{record.path}." if record.path else ""
        # a held-out dataset is named after its dataset (benchmark.config.heldout_spec)
        names = {"suite": spec.suite, "env": spec.env, "name": spec.name.removesuffix(paths.HELDOUT)}
        check_names(record.where, **{f"{prefix}{k}": v for k, v in names.items()})
        if spec.behaviour is not None:
            _check_behaviour_dir(record.where, f"{prefix}behaviour.dir", spec.suite, spec.env, spec.behaviour)
        return spec


@dataclass(frozen=True)
class BehaviourSpec:
    """One shared SAC behaviour training, as the behaviour stage runs it (benchmark.config.behaviour_spec).
    `dataclasses.asdict` of it is the behaviour stage's `--spec` (the fields in the record's order)."""

    suite: str  # mujoco: the only suite with SAC behaviours
    env: str  # the task it learns
    seed: int  # the training's seed: the seed of the datasets made from it
    sac: dict[str, Any]  # the preset's `sac` settings (steps, medium_step, update_interval): train_sac's keywords
    torch_threads: int  # the preset's torch_threads
    id: str  # the training's name, as in BehaviourRef (the datasets made from it name it)
    dir: str  # the folder it writes its policies, replay buffer and card to

    @classmethod
    def from_dict(cls, record: Any, where: str) -> BehaviourSpec:
        """The spec `record` holds; `where` (a command-line argument) prefixes every error."""
        spec = cls(**_Record(record, where).fields(cls))
        check_names(where, suite=spec.suite, env=spec.env)
        _check_behaviour_dir(where, "dir", spec.suite, spec.env, BehaviourRef(spec.id, spec.dir))
        return spec


@dataclass(frozen=True)
class RunSpec:
    """Everything one run uses: one algorithm on one dataset with one seed, under a protocol."""

    key: RunKey
    preset: str
    dataset: DatasetSpec
    protocol: envs.Protocol
    target_return: float  # what sequence models are conditioned on at evaluation
    budget: Budget  # config.json: `training`
    evaluation: Evaluation
    hyperparameters: dict[str, Any]  # the algorithm's published values with the preset's overrides
    torch_threads: int

    @property
    def run(self) -> str:
        return self.key.id

    def env_spec(self) -> envs.EnvSpec:
        """The env's spaces under the run's protocol (makes the env once: not free)."""
        return envs.EnvSpec.of(self.key.suite, self.key.env, self.protocol)

    def to_dict(self) -> dict[str, Any]:
        """The record config.json and `--spec` hold. `training` and `evaluation` keep the schema's
        key order (the preset's own order before specs were typed: the same in every preset here)."""
        evaluation = {k: v for k, v in dataclasses.asdict(self.evaluation).items() if v is not None}
        return {
            "run": self.run,
            "key": dataclasses.asdict(self.key),
            "preset": self.preset,
            "dataset": dataclasses.asdict(self.dataset),
            "protocol": dataclasses.asdict(self.protocol),
            "target_return": self.target_return,
            "training": dataclasses.asdict(self.budget),
            "evaluation": evaluation,
            "hyperparameters": self.hyperparameters,
            "torch_threads": self.torch_threads,
        }

    @classmethod
    def from_dict(cls, record: Any, where: str) -> RunSpec:
        """The spec `record` holds; `where` (a file, a command-line argument) prefixes every error."""
        top = _Record(record, where)
        # f.type is the annotation's text ("str", "int"): the module's annotations are postponed
        key = RunKey(**top.at("key").fields(RunKey))
        check_names(where, **{f"key.{k}": getattr(key, k) for k in ("suite", "env", "dataset", "algorithm")})
        if top.get("run", "str") != key.id:
            raise BenchmarkError(f"{where}: key 'run': {record['run']!r} is not the id of its key ({key.id!r})")
        return cls(
            key=key,
            preset=top.get("preset", "str"),
            dataset=DatasetSpec._read(top.at("dataset")),
            protocol=_protocol(top.at("protocol")),
            target_return=top.get("target_return", "float"),
            budget=Budget(**{f.name: top.at("training").get(f.name, "int") for f in dataclasses.fields(Budget)}),
            evaluation=Evaluation(
                episodes=top.at("evaluation").get("episodes", "int"),
                final_episodes=top.at("evaluation").get("final_episodes", "int", optional=True),
            ),
            hyperparameters=top.get("hyperparameters", "dict"),
            torch_threads=top.get("torch_threads", "int"),
        )


@dataclass(frozen=True)
class RunRecord:
    """A run's config.json: its spec and what training found, for the later stages and reports."""

    spec: RunSpec
    pretrained: str  # "no", or which components started from pretrained weights
    dataset_sha256: str
    # The data's own quality, so that reports (made from results/ alone) can show it as a reference.
    # None in runs made before they were recorded.
    dataset_transitions: int | None
    behaviour: dict[str, Any] | None  # description, episode_return_mean, normalized_return
    provenance: dict[str, Any]  # benchmark.provenance.record()
    execution: dict[str, Any] | None  # benchmark.device.record()
    # What the algorithm reads (state, pixels, pixels+text, text); None in runs made before it was
    # recorded, whose config.json keeps no such key.
    inputs: str | None = None
    # The sha256 of each manifest of the folders the run read and wrote (benchmark.manifest), by
    # kind: dataset, features, frames, checkpoints. None in runs made before manifests (and then
    # not written back: old records stay byte for byte).
    manifests: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        manifests = {} if self.manifests is None else {"manifests": self.manifests}
        return {
            **self.spec.to_dict(),
            **({} if self.inputs is None else {"inputs": self.inputs}),
            "pretrained": self.pretrained,
            "dataset_sha256": self.dataset_sha256,
            "dataset_transitions": self.dataset_transitions,
            "behaviour": self.behaviour,
            "provenance": self.provenance,
            "execution": self.execution,
            **manifests,
        }

    def write(self, run_dir: Path) -> None:
        io.write_json(run_dir / paths.RUN_CONFIG, self.to_dict())

    @classmethod
    def read(cls, run_dir: Path) -> RunRecord:
        """The config.json of the run in `run_dir`: one line naming the file when it is missing,
        not JSON, or a key is missing or of the wrong type."""
        path = Path(run_dir) / paths.RUN_CONFIG
        if not path.is_file():
            raise BenchmarkError(f"{path}: missing; the train stage writes it")
        return cls.from_dict(io.read_json(path), str(path))

    @classmethod
    def from_dict(cls, record: Any, where: str) -> RunRecord:
        top = _Record(record, where)
        return cls(
            spec=RunSpec.from_dict(record, where),
            pretrained=top.get("pretrained", "str"),
            dataset_sha256=top.get("dataset_sha256", "str"),
            dataset_transitions=top.get("dataset_transitions", "int | None", optional=True),
            behaviour=top.get("behaviour", "dict | None", optional=True),
            provenance=top.get("provenance", "dict"),
            execution=top.get("execution", "dict | None", optional=True),
            inputs=top.get("inputs", "str", optional=True),
            manifests=_manifests(top),
        )


_KINDS: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "dict": (dict,),
}
_NAMES = {"bool": "true or false", "str": "a string", "int": "an integer", "float": "a number", "dict": "a JSON object"}


class _Record:
    """A JSON object read key by key: each missing or mistyped key is one line naming it."""

    def __init__(self, value: Any, where: str, path: str = ""):
        if not isinstance(value, dict):
            raise BenchmarkError(f"{where}: {f'key {path!r}' if path else 'the record'}: expected a JSON object")
        self.value, self.where, self.path = value, where, path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def at(self, key: str) -> _Record:
        if key not in self.value:
            raise BenchmarkError(f"{self.where}: key {self._name(key)!r}: missing")
        return _Record(self.value[key], self.where, self._name(key))

    def fields(self, spec: type, **read: Any) -> dict[str, Any]:
        """The keyword arguments of dataclass `spec`: each field read in declaration order, of the
        kind its annotation names (a `dict[...]` is a JSON object), except those given in `read`."""
        return {
            field.name: read[field.name]
            if field.name in read
            else self.get(field.name, str(field.type).replace("dict[str, Any]", "dict"))
            for field in dataclasses.fields(spec)
        }

    def get(self, key: str, kind: str, optional: bool = False) -> Any:
        """The value at `key`, of `kind` ("int", "str | None", ...); a missing optional key is None."""
        name = self._name(key)
        if key not in self.value:
            if optional:
                return None
            raise BenchmarkError(f"{self.where}: key {name!r}: missing")
        value = self.value[key]
        nullable = kind.endswith(" | None")
        base = kind.removesuffix(" | None")
        if value is None and nullable:
            return None
        # JSON's true is a Python int: refused where a number is expected
        if (isinstance(value, bool) and base != "bool") or not isinstance(value, _KINDS[base]):
            expected = _NAMES[base] + (" or null" if nullable else "")
            raise BenchmarkError(f"{self.where}: key {name!r}: {value!r} is not {expected}")
        return value


def _manifests(record: _Record) -> dict[str, str] | None:
    manifests = record.get("manifests", "dict | None", optional=True)
    for kind, sha in (manifests or {}).items():
        if not isinstance(sha, str) or len(sha) != 64:
            raise BenchmarkError(f"{record.where}: key 'manifests.{kind}': {sha!r} is not a sha256")
    return manifests


def _protocol(record: _Record) -> envs.Protocol:
    """The recorded protocol (envs.protocol_from_record), every field there and of its default's type."""
    name = record.get("name", "str")
    default = envs.AtariProtocol() if name.startswith("atari") else envs.MujocoProtocol()
    allowed = [f.name for f in dataclasses.fields(default)]
    unknown = sorted(set(record.value) - set(allowed))
    if unknown:
        raise BenchmarkError(f"{record.where}: key 'protocol.{unknown[0]}': unknown; allowed: {', '.join(allowed)}")
    for field in allowed:
        kind = {bool: "bool", int: "int", float: "float", str: "str"}[type(getattr(default, field))]
        # a field added after the record's version may be absent: compat.protocol fills it
        record.get(field, kind, optional=field in compat.ATARI_PROTOCOL_ADDED)
    return envs.protocol_from_record(record.value)
