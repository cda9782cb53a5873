"""Presets: valid ones expand into the grid; every mistake is one line naming the key."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from snakemake.utils import validate as snakemake_validate

from benchmark import config
from benchmark.__main__ import main
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import Budget, Evaluation

PRESETS = sorted([*(REPO / "config").glob("*.yaml"), *(REPO / "experiments").glob("*.yaml")])


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_shipped_presets_are_valid(preset) -> None:
    loaded = config.load(preset)
    assert config.grid(loaded)


def test_grid_is_suites_envs_datasets_algorithms_seeds(smoke: Preset) -> None:
    keys = config.grid(smoke)
    # (breakout, hopper) x mixed x (cql, bc, dt, more3s, more3s-rtg-none) x 2 seeds
    assert len(keys) == 2 * 1 * 1 * 5 * 2
    assert len({key.id for key in keys}) == len(keys)


def test_run_spec_merges_published_hyperparameters_with_overrides(smoke: Preset) -> None:
    key = config.RunKey("atari", "breakout", "mixed", "dt", 0)
    spec = config.run_spec(smoke, key)
    assert spec.hyperparameters["context_size"] == 4  # smoke override
    assert spec.hyperparameters["learning_rate"] == 6e-4  # published default kept
    assert spec.protocol.name == "atari-dt-v2[max_episode_frames=4000]"
    assert spec.budget == Budget(steps=20, batch_size=8, eval_every=10)
    assert spec.evaluation == Evaluation(episodes=1, final_episodes=2)


def _broken(smoke_config: dict[str, Any], edit) -> dict[str, Any]:
    broken = copy.deepcopy(smoke_config)
    edit(broken)
    return broken


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c.update(sedes=[0]), "config key 'sedes': unknown key; allowed: preset,"),
        (
            lambda c: c["suites"]["atari"]["envs"].update(brekout={"target_return": 1}),
            "config key 'suites.atari.envs.brekout': unknown atari env; allowed: breakout, pong, qbert, seaquest",
        ),
        (
            lambda c: c["algorithms"].update(iqll={}),
            "config key 'algorithms.iqll': unknown algorithm; registered: bc, bc-pixels, cql, dt",
        ),
        (  # a MuJoCo-only algorithm on the Atari dataset (no `algorithms` list: every algorithm runs there)
            lambda c: c["algorithms"].update({"bc-pixels": {}}),
            "config key 'suites.atari.datasets.mixed.algorithms': bc-pixels runs on mujoco only; list this "
            "dataset's algorithms without it",
        ),
        (
            lambda c: c["algorithms"].update({"bc-pixels": {"atari": {"frames": 4}}}),
            "config key 'algorithms.bc-pixels.atari': bc-pixels runs on mujoco only",
        ),
        (
            lambda c: c["algorithms"]["dt"]["atari"].update(context=3),
            "config key 'algorithms.dt.atari.context': unknown hyperparameter; allowed:",
        ),
        (  # an ablation is its switch: a preset that flips it would run MORE-3S under the ablation's name
            lambda c: c["algorithms"].update({"more3s-text-only": {"atari": {"modality": "image+text"}}}),
            "config key 'algorithms.more3s-text-only.atari.modality': more3s-text-only sets it to 'text'; "
            "a preset may not change an ablation's own switch",
        ),
        (
            lambda c: c["suites"]["atari"]["training"].update(steps="many"),
            "config key 'suites.atari.training.steps': 'many' is not of type 'integer'",
        ),
        (lambda c: c["suites"].update(procgen={}), "config key 'suites.procgen': unknown key; allowed: atari, mujoco"),
        (
            lambda c: c["suites"]["mujoco"]["datasets"]["mixed"].update(generator="scripted"),
            "config key 'suites.mujoco.datasets.mixed.generator': 'scripted' generates atari data, not mujoco",
        ),
    ],
)
def test_bad_preset_fails_with_one_line_naming_the_key(smoke_config: dict[str, Any], edit, expected: str) -> None:
    with pytest.raises(BenchmarkError) as raised:
        config.validate(_broken(smoke_config, edit))
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_a_preset_without_its_optional_blocks_validates_and_plans_with_the_schemas_defaults(tmp_path: Path) -> None:
    """Defaults come from the schema alone, filled in once: a preset giving only the required keys
    is checked and planned (without `report:` planning was a KeyError), and typed with those defaults."""
    schema = yaml.safe_load(config.SCHEMA_PATH.read_text())
    smoke = config.read(REPO / "config" / "smoke.yaml")
    minimal = {key: value for key, value in smoke.items() if key in schema["required"]}
    for suite in minimal["suites"].values():  # the optional keys with defaults, left out
        suite.pop("protocol", None)
        suite["training"].pop("per_algorithm", None)
        for dataset in suite["datasets"].values():
            dataset.pop("seed", None)
    path = tmp_path / "minimal.yaml"
    path.write_text(yaml.safe_dump(minimal))
    assert main(["check-config", str(path)]) == 0
    assert main(["plan", str(path), "--out", str(tmp_path / "plan.md")]) == 0
    preset = config.load(path)
    top = schema["properties"]
    for key in ("workdir", "allow_external_workdir", "torch_threads", "gpus_per_job", "mirror"):
        assert getattr(preset, key) == top[key]["default"], key
    assert dataclasses.asdict(preset.report) == {k: v["default"] for k, v in top["report"]["properties"].items()}
    suite_schema, dataset_schema = schema["$defs"]["suite"]["properties"], schema["$defs"]["dataset"]["properties"]
    for suite in preset.suites.values():
        assert suite.protocol == suite_schema["protocol"]["default"]
        assert suite.training.per_algorithm == suite_schema["training"]["properties"]["per_algorithm"]["default"]
        assert {dataset.seed for dataset in suite.datasets.values()} == {dataset_schema["seed"]["default"]}


def test_a_validated_config_without_the_default_focus_validates_again(smoke_config: dict[str, Any]) -> None:
    """Validation fills the default focus (MORE-3S) in: a filled config without MORE-3S (the plan
    job's JSON of a baselines-only preset, a test's edit) validates again; a focus it names does not."""
    baselines = copy.deepcopy(smoke_config)
    baselines["algorithms"] = {"bc": baselines["algorithms"]["bc"]}
    assert baselines["report"]["focus"] == "more3s"  # filled in
    config.validate(copy.deepcopy(baselines))
    baselines["report"]["focus"] = "dt"
    with pytest.raises(BenchmarkError, match=r"^config key 'report.focus': 'dt' is not in the preset's algorithms"):
        config.validate(baselines)


@pytest.mark.parametrize("name", ["smoke", "config", "paper"])
def test_validation_fills_the_config_as_snakemakes_validate_did(name: str) -> None:
    """The workflow's config (whose JSON is the plan job's parameter) is filled exactly as
    snakemake.utils.validate filled it before validation did: same keys, same values, same order."""
    ours = config.read(REPO / "config" / f"{name}.yaml")
    theirs = copy.deepcopy(ours)
    config.validate(ours)
    snakemake_validate(theirs, str(config.SCHEMA_PATH))
    assert json.dumps(ours) == json.dumps(theirs)
