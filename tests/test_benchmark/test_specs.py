"""Typed run specs: the config.json format is unchanged (committed runs load and write back byte
for byte), a spec survives JSON, and a damaged record is one line naming the file and the key."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from benchmark import config, io, paths
from benchmark.__main__ import main
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import BehaviourRef, BehaviourSpec, DatasetSpec, Evaluation, RunKey, RunRecord, RunSpec

COMMITTED = sorted((REPO / paths.RESULTS / "runs").glob(f"**/{paths.RUN_CONFIG}"))


def test_committed_runs_load_and_write_back_byte_for_byte(tmp_path: Path) -> None:
    assert len({path.parent.parent.name for path in COMMITTED}) >= 3, "bc, cql, dt, more3s runs are committed"
    for path in COMMITTED:
        record = RunRecord.read(path.parent)
        assert paths.run_dir(record.spec.run) == path.parent.relative_to(REPO)
        record.write(tmp_path)
        assert (tmp_path / paths.RUN_CONFIG).read_bytes() == path.read_bytes(), path


def test_inputs_are_optional_on_read_and_written_only_when_recorded(tmp_path: Path) -> None:
    before = io.read_json(COMMITTED[0])
    del before["inputs"]  # as config.json was before the record
    io.write_json(tmp_path / "old" / paths.RUN_CONFIG, before)
    old = RunRecord.read(tmp_path / "old")
    assert old.inputs is None and "inputs" not in old.to_dict()
    recorded = dataclasses.replace(old, inputs="pixels")
    recorded.write(tmp_path)
    assert io.read_json(tmp_path / paths.RUN_CONFIG)["inputs"] == "pixels"
    assert RunRecord.read(tmp_path) == recorded
    broken = {**recorded.to_dict(), "inputs": 3}
    with pytest.raises(BenchmarkError, match="key 'inputs': 3 is not a string"):
        RunRecord.from_dict(broken, "config.json")


def test_every_run_of_the_smoke_preset_survives_json(smoke: Preset) -> None:
    for key in config.grid(smoke):
        spec = config.run_spec(smoke, key)
        record = json.loads(json.dumps(spec.to_dict()))
        assert RunSpec.from_dict(record, "spec").to_dict() == record
        assert record["run"] == key.id == paths.RUN.format(**record["key"])


def test_a_spec_without_final_episodes_survives_json(smoke: Preset) -> None:
    """`final_episodes` is optional in a preset: absent, it is absent from the record too."""
    spec = config.run_spec(smoke, RunKey("mujoco", "hopper", "mixed", "bc", 0))
    spec = dataclasses.replace(spec, evaluation=Evaluation(episodes=3))
    record = json.loads(json.dumps(spec.to_dict()))
    assert record["evaluation"] == {"episodes": 3}
    assert RunSpec.from_dict(record, "spec") == spec
    assert spec.evaluation.final == 3


def test_run_key_id_is_the_run_folder() -> None:
    key = RunKey("mujoco", "hopper", "medium", "more3s", 2)
    assert paths.run_dir(key.id) == paths.RESULTS / "runs" / "mujoco" / "hopper" / "medium" / "more3s" / "seed2"


def _without(record: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        record = record[part]
    del record[last]


def _set(value: Any) -> Any:
    def change(record: dict[str, Any], dotted: str) -> None:
        *parents, last = dotted.split(".")
        for part in parents:
            record = record[part]
        record[last] = value

    return change


@pytest.mark.parametrize(
    ("key", "damage", "message"),
    [
        ("training.steps", _without, "key 'training.steps': missing"),
        ("key.seed", _set("0"), "key 'key.seed': '0' is not an integer"),
        ("torch_threads", _set(True), "key 'torch_threads': True is not an integer"),
        ("target_return", _set(None), "key 'target_return': None is not a number"),
        ("protocol.eval_epsilon", _set("low"), "key 'protocol.eval_epsilon': 'low' is not a number"),
        ("protocol.max_episode_frames", _without, "key 'protocol.max_episode_frames': missing"),
        ("protocol.frames", _set(1), "key 'protocol.frames': unknown"),
        ("dataset.options", _set([]), "key 'dataset.options': [] is not a JSON object"),
        ("evaluation", _set(3), "key 'evaluation': expected a JSON object"),
        ("pretrained", _without, "key 'pretrained': missing"),
        ("run", _set("atari/pong/expert/bc/seed0"), "key 'run': 'atari/pong/expert/bc/seed0' is not the id"),
    ],
)
def test_a_damaged_config_json_is_one_line_naming_the_file_and_the_key(
    in_tmp: Path, key: str, damage: Any, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = next(path for path in COMMITTED if "/atari/" in str(path))
    record = io.read_json(committed)
    damage(record, key)
    run = record["key"] if key != "key.seed" else json.loads(committed.read_text())["key"]
    run_id = paths.RUN.format(**run)
    target = paths.run_dir(run_id) / paths.RUN_CONFIG
    io.write_json(target, record)
    with pytest.raises(BenchmarkError, match=f"^{target}: {message}".replace("[", r"\[").replace("]", r"\]")):
        RunRecord.read(target.parent)
    assert main(["score", "--run", run_id]) == 2  # every stage reads it through RunRecord
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: {message}") and err.count("\n") == 1, err


def test_a_spec_argument_with_a_missing_key_is_one_line(
    smoke: Preset, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = config.run_spec(smoke, RunKey("mujoco", "hopper", "mixed", "bc", 0)).to_dict()
    del record["evaluation"]["episodes"]
    assert main(["train", "--spec", json.dumps(record)]) == 2
    err = capsys.readouterr().err
    assert err == "error: argument --spec: key 'evaluation.episodes': missing\n"
    assert not Path("results").exists()  # nothing written


def _with_a_sac_dataset(smoke_config: dict[str, Any]) -> Preset:
    preset = copy.deepcopy(smoke_config)
    sac = {"steps": 300, "medium_step": 150, "update_interval": 4}
    preset["suites"]["mujoco"]["datasets"]["medium"] = {
        "source": "generated",
        "generator": "sac-medium",
        "transitions": 400,
        "sac": sac,
    }
    return config.validate(preset)


def test_dataset_and_behaviour_specs_survive_json_in_the_order_the_command_line_had(
    smoke_config: dict[str, Any],
) -> None:
    """The `--spec` of the dataset and behaviour jobs is `dataclasses.asdict` of the spec: the
    keys (and so the Snakemake params) of the dicts these jobs had before specs were typed."""
    preset = _with_a_sac_dataset(smoke_config)
    made_from_sac = None
    for suite, suite_preset in preset.suites.items():
        for env, name in ((env, name) for env in suite_preset.envs for name in suite_preset.datasets):
            spec = config.dataset_spec(preset, suite, env, name)
            record = json.loads(json.dumps(dataclasses.asdict(spec)))
            assert list(record) == ["suite", "env", "name", "source", "seed", "mirror_path", "behaviour", "options"]
            assert DatasetSpec.from_dict(record, "spec") == spec
            if spec.behaviour is not None:
                made_from_sac = spec
    assert made_from_sac is not None and made_from_sac.behaviour is not None
    assert made_from_sac.behaviour == BehaviourRef(
        "sac-300-m150-u4-seed0", str(paths.behaviour_dir("mujoco", "hopper", "sac-300-m150-u4-seed0"))
    )
    assert dataclasses.asdict(made_from_sac)["behaviour"] == {
        "id": made_from_sac.behaviour.id,
        "dir": made_from_sac.behaviour.dir,
    }
    behaviour = config.behaviour_spec(preset, "mujoco", "hopper", made_from_sac.behaviour.id)
    record = json.loads(json.dumps(dataclasses.asdict(behaviour)))
    assert record == {
        "suite": "mujoco",
        "env": "hopper",
        "seed": 0,
        "sac": {"steps": 300, "medium_step": 150, "update_interval": 4},
        "torch_threads": 1,
        "id": made_from_sac.behaviour.id,
        "dir": made_from_sac.behaviour.dir,
    }
    assert list(record) == ["suite", "env", "seed", "sac", "torch_threads", "id", "dir"]
    assert BehaviourSpec.from_dict(record, "spec") == behaviour


def test_a_run_made_from_a_sac_behaviour_survives_json(smoke_config: dict[str, Any]) -> None:
    preset = _with_a_sac_dataset(smoke_config)
    spec = config.run_spec(preset, RunKey("mujoco", "hopper", "medium", "bc", 0))
    record = json.loads(json.dumps(spec.to_dict()))
    assert record["dataset"]["behaviour"] == dataclasses.asdict(spec.dataset.behaviour)
    assert RunSpec.from_dict(record, "spec") == spec


@pytest.mark.parametrize(
    ("stage", "damage", "message"),
    [
        ("dataset", lambda record: record.pop("name"), "key 'name': missing"),
        ("dataset", lambda record: record.update(behaviour={"id": 3, "dir": "x"}), "key 'behaviour.id': 3 is not"),
        ("dataset", lambda record: record.update(options=None), "key 'options': None is not a JSON object"),
        ("behaviour", lambda record: record.pop("sac"), "key 'sac': missing"),
        ("behaviour", lambda record: record.update(seed="0"), "key 'seed': '0' is not an integer"),
    ],
)
def test_a_dataset_or_behaviour_spec_argument_with_a_bad_key_is_one_line(
    smoke_config: dict[str, Any],
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    stage: str,
    damage: Any,
    message: str,
) -> None:
    preset = _with_a_sac_dataset(smoke_config)
    dataset = config.dataset_spec(preset, "mujoco", "hopper", "medium")
    assert dataset.behaviour is not None
    spec = dataset if stage == "dataset" else config.behaviour_spec(preset, "mujoco", "hopper", dataset.behaviour.id)
    record = dataclasses.asdict(spec)
    damage(record)
    assert main([stage, "--spec", json.dumps(record)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: argument --spec: {message}") and err.count("\n") == 1, err
    assert not Path("resources").exists()  # nothing written
