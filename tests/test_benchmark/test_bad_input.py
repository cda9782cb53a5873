"""The bad-input corpus: every bad input of the table below, given to the real command line
(`python -m benchmark ...` in a fresh process), ends with exit status 2 and exactly one line of
output, `error: ...`, naming the file or config key; no file is written or changed. A few cases
go through Snakemake too (slow).

Inputs: presets (`check-config`), the command line itself, datasets (`train`, and MORE-3S's
`features`), checkpoints (`evaluate`) and the real-format importers (`dataset`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, copy_project, snakemake, write_random_dataset
from test_benchmark.test_importers import write_minari_episodes

from benchmark import algorithms, config, datasets, io, manifest, paths, training
from benchmark.errors import BenchmarkError
from benchmark.scores import COLUMNS
from benchmark.specs import RunSpec
from more3s import features

SMOKE = (REPO / "config" / "smoke.yaml").read_text()
HOPPER_BC = config.RunKey("mujoco", "hopper", "mixed", "bc", 0)
BREAKOUT_BC = config.RunKey("atari", "breakout", "mixed", "bc", 0)


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path], list[str]]  # makes the bad input in the working folder; returns the arguments
    expected: str  # a fragment of the one line (the file or key it names, and what is wrong)


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`: content hash, or 'dir'."""
    return {
        str(path.relative_to(folder)): "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
    }


# --- presets ------------------------------------------------------------------------------------


def smoke_preset() -> dict[str, Any]:
    return yaml.safe_load(SMOKE)


def preset_text(text: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / "bad.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return ["check-config", "bad.yaml"]

    return make


def preset_edit(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], list[str]]:
    preset = smoke_preset()
    edit(preset)
    return preset_text(yaml.safe_dump(preset, sort_keys=False))


def _datasets(preset: dict[str, Any]) -> dict[str, Any]:
    return preset["suites"]["mujoco"]["datasets"]


def _folder_preset(folder: Path) -> list[str]:
    (folder / "bad.yaml").mkdir()
    return ["check-config", "bad.yaml"]


PRESET_CASES = [
    Case("yaml-syntax", preset_text("preset: smoke\nseeds: [0, 1\nsuites: {}\n"), "bad.yaml:3:7: not valid YAML"),
    Case("yaml-tab", preset_text("preset: smoke\n\tseeds: [0]\n"), "bad.yaml:2:1: not valid YAML: found character"),
    Case(
        "duplicate-key",
        preset_text(SMOKE.replace("seeds: [0, 1]", "seeds: [0, 1]\nseeds: [2]")),
        "not valid YAML: duplicate key 'seeds' (first on line",
    ),
    Case(
        "not-utf8", preset_text(SMOKE.encode().replace(b"smoke", b"sm\xf6ke", 1)), "bad.yaml: not UTF-8 text (byte 0xf6"
    ),
    Case("folder", _folder_preset, "bad.yaml: is a folder; expected a preset file"),
    Case("missing", lambda folder: ["check-config", "nothing.yaml"], "nothing.yaml: preset file not found"),
    Case("not-a-mapping", preset_text("- 1\n- 2\n"), "bad.yaml: a preset must be a YAML mapping"),
    Case(
        "yte-template",
        preset_text("__use_yte__: true\n" + SMOKE),
        "bad.yaml: config key '__use_yte__': YTE templates are refused",
    ),
    Case(
        "yte-nested",
        preset_edit(lambda p: p["suites"]["atari"].update(__use_yte__=False)),
        "config key 'suites.atari.__use_yte__': YTE templates are refused",
    ),
    Case(
        "dataset-named-dotdot",
        preset_edit(lambda p: _datasets(p).update({"..": _datasets(p).pop("mixed")})),
        "config key 'suites.mujoco.datasets...': not a valid name",
    ),
    Case(
        "dataset-name-with-slash",
        preset_edit(lambda p: _datasets(p).update({"a/b": _datasets(p).pop("mixed")})),
        "config key 'suites.mujoco.datasets.a/b': not a valid name",
    ),
    Case(
        "env-name-with-dotdot",
        preset_edit(lambda p: p["suites"]["mujoco"].update(envs={"../hopper": {"target_return": 1}})),
        "config key 'suites.mujoco.envs.../hopper': not a valid name",
    ),
    Case(
        "algorithm-name-upper-case",
        preset_edit(lambda p: p["algorithms"].update(BC=None)),
        "config key 'algorithms.BC': not a valid name",
    ),
    Case(
        "workdir-absolute",
        preset_edit(lambda p: p.update(workdir="/tmp/elsewhere")),
        "config key 'workdir': '/tmp/elsewhere' is outside the repository",
    ),
    Case(
        "workdir-dotdot",
        preset_edit(lambda p: p.update(workdir="resources/../../elsewhere")),
        "config key 'workdir': 'resources/../../elsewhere' is outside the repository",
    ),
    Case(
        "seed-float",
        preset_edit(lambda p: p.update(seeds=[0, 1.0])),
        "config key 'seeds.1': 1.0 is not of type 'integer'",
    ),
    Case(
        "seed-negative",
        preset_edit(lambda p: p.update(seeds=[-1])),
        "config key 'seeds.0': -1 is less than the minimum",
    ),
    Case(
        "seed-2-32", preset_edit(lambda p: p.update(seeds=[2**32])), "config key 'seeds.0': 4294967296 is greater than"
    ),
    Case(
        "dataset-seed-float",
        preset_edit(lambda p: _datasets(p)["mixed"].update(seed=0.5)),
        "config key 'suites.mujoco.datasets.mixed.seed': 0.5 is not of type 'integer'",
    ),
    Case(
        "target-return-nan",
        preset_text(SMOKE.replace("hopper: {target_return: 3600}", "hopper: {target_return: .nan}")),
        "config key 'suites.mujoco.envs.hopper.target_return': nan is not a finite number",
    ),
    Case(
        "steps-as-string",
        preset_text(SMOKE.replace("training: {steps: 20, batch_size: 16", "training: {steps: 2e3, batch_size: 16")),
        "config key 'suites.mujoco.training.steps': '2e3' is not of type 'integer'",
    ),
    Case(
        "hyperparameter-string-for-int",
        preset_edit(lambda p: p["algorithms"]["dt"]["atari"].update(context_size="4")),
        "config key 'algorithms.dt.atari.context_size': '4' is not an integer",
    ),
    Case(
        "hyperparameter-float-for-int",
        preset_edit(lambda p: p["algorithms"]["dt"]["atari"].update(num_layers=1.5)),
        "config key 'algorithms.dt.atari.num_layers': 1.5 is not an integer",
    ),
    Case(
        "hyperparameter-bool-for-int",
        preset_edit(lambda p: p["algorithms"]["dt"]["atari"].update(num_heads=True)),
        "config key 'algorithms.dt.atari.num_heads': True is not an integer",
    ),
    Case(
        "hyperparameter-negative",
        preset_edit(lambda p: p["algorithms"]["bc"]["mujoco"].update(learning_rate=-0.001)),
        "config key 'algorithms.bc.mujoco.learning_rate': -0.001 is negative",
    ),
    Case(
        "steps-10-to-the-12",
        preset_edit(lambda p: p["suites"]["mujoco"]["training"].update(steps=10**12)),
        "config key 'suites.mujoco.training.steps': 1000000000000 is greater than the maximum of 1000000000",
    ),
    Case(
        "steps-10-to-the-20",
        preset_edit(lambda p: p["suites"]["mujoco"]["training"].update(steps=10**20)),
        "config key 'suites.mujoco.training.steps': 100000000000000000000 is greater than the maximum",
    ),
    Case(
        "steps-over-the-plan",
        preset_edit(lambda p: p["suites"]["mujoco"]["training"].update(steps=10**8, eval_every=10**6)),
        "config key 'suites.mujoco.training.steps': the plan's train job mujoco/hopper/mixed/cql/seed0 needs ",
    ),
    Case(
        "checkpoints-over-the-limit",
        preset_edit(lambda p: p["suites"]["mujoco"]["training"].update(steps=10**6, eval_every=1)),
        "config key 'suites.mujoco.training.eval_every': 1 keeps 1000000 checkpoints of 1000000 steps, over the limit",
    ),
    Case(
        "episodes-over-the-limit",
        preset_edit(lambda p: p["suites"]["mujoco"]["evaluation"].update(episodes=10**6)),
        "config key 'suites.mujoco.evaluation.episodes': 1000000 is greater than the maximum of 10000",
    ),
    Case(
        "transitions-over-the-limit",
        preset_edit(lambda p: _datasets(p)["mixed"].update(transitions=10**10)),
        "config key 'suites.mujoco.datasets.mixed.transitions': 10000000000 is greater than the maximum",
    ),
    Case(
        "report-focus-typo",
        preset_edit(lambda p: p["report"].update(focus="more3")),
        "config key 'report.focus': 'more3' is not in the preset's algorithms: cql, bc, dt, more3s",
    ),
    Case(
        "hyperparameter-not-a-list",
        preset_edit(lambda p: p["algorithms"]["bc"]["mujoco"].update(hidden_units=64)),
        "config key 'algorithms.bc.mujoco.hidden_units': 64 is not a list of integers",
    ),
]


# --- the command line itself --------------------------------------------------------------------


def two_results(folder: Path, drop: str | None = None, b_env: str = "hopper") -> list[str]:
    """Results folders a/ and b/ (one committed Hopper run each, b's renamed to `b_env`), a's
    scores.csv without column `drop`; the compare command on them."""
    committed = pd.read_csv(REPO / paths.SCORES).head(13).tail(1)
    for name, frame in (("a", committed.drop(columns=[drop] if drop else [])), ("b", committed.assign(env=b_env))):
        io.write_csv(folder / name / paths.SCORES.name, frame)
    return ["compare", "a", "b", "--out", "out"]


BEHAVIOUR_SPEC = {
    "suite": "mujoco",
    "env": "hopper",
    "seed": 0,
    "sac": {"steps": 20, "medium_step": 10, "update_interval": 1},
    "torch_threads": 1,
    "id": "sac-20-m10-u1-seed0",
    "dir": "resources/behaviours/mujoco/hopper/sac-20-m10-u1-seed0",
}
CLI_CASES = [
    Case("no-stage", lambda folder: [], "python -m benchmark: the following arguments are required: stage"),
    Case("unknown-stage", lambda folder: ["trian"], "argument stage: invalid choice: 'trian'"),
    Case(
        "missing-spec",
        lambda folder: ["train"],
        "python -m benchmark train: the following arguments are required: --spec",
    ),
    Case("missing-run", lambda folder: ["evaluate"], "the following arguments are required: --run"),
    Case("spec-not-json", lambda folder: ["train", "--spec", "{run: 1}"], "argument --spec: not JSON (Expecting"),
    Case(
        "spec-not-an-object", lambda folder: ["dataset", "--spec", "[1]"], "argument --spec: a JSON object is expected"
    ),
    Case("settings-not-json", lambda folder: ["report", "--settings", "{"], "argument --settings: not JSON"),
    Case("run-with-dotdot", lambda folder: ["score", "--run", "../../etc/x/y/seed0"], "is not a run id"),
    Case(
        "run-never-trained",
        lambda folder: ["evaluate", "--run", HOPPER_BC.id],
        f"results/runs/{HOPPER_BC.id}/config.json: missing; the train stage writes it",
    ),
    Case(
        "spec-missing-key",
        lambda folder: ["train", "--spec", run_spec(HOPPER_BC, drop="training.steps")],
        "argument --spec: key 'training.steps': missing",
    ),
    Case(
        "spec-mistyped-key",
        lambda folder: ["train", "--spec", run_spec(HOPPER_BC, seed="0")],
        "argument --spec: key 'key.seed': '0' is not an integer",
    ),
    Case(
        "compare-no-such-folder",
        lambda folder: ["compare", "nowhere", "published", "--out", "out"],
        "nowhere/scores.csv: not found",
    ),
    Case(
        "compare-threshold-not-above-0",
        lambda folder: ["compare", "a", "b", "--out", "out", "--threshold", "-1"],
        "argument --threshold: '-1' is not a number above 0",
    ),
    Case("compare-scores-missing-a-column", lambda f: two_results(f, drop="protocol"), "missing column 'protocol'"),
    Case(
        "compare-nothing-in-common",
        lambda f: two_results(f, b_env="walker2d"),
        "b: no (suite, env, dataset, algorithm) in common with the other side",
    ),
    Case(
        "dataset-spec-name-escapes",
        lambda folder: import_spec("d4rl", folder / "mirror.hdf5", name="../../../../../escape"),
        "argument --spec: key 'name': '../../../../../escape' is not a valid name",
    ),
    Case(
        "dataset-spec-unknown-suite",
        lambda folder: ["dataset", "--spec", json.dumps(json.loads(import_spec("d4rl", folder)[2]) | {"suite": ".."})],
        "argument --spec: key 'suite': '..' is not one of atari, mujoco",
    ),
    Case(
        "run-spec-dataset-escapes",
        lambda folder: ["train", "--spec", run_spec(HOPPER_BC).replace('"mixed"', '"../mixed"')],
        "argument --spec: key 'key.dataset': '../mixed' is not a valid name",
    ),
    Case(
        "behaviour-spec-folder-elsewhere",
        lambda folder: ["behaviour", "--spec", json.dumps(BEHAVIOUR_SPEC | {"dir": "/tmp/elsewhere"})],
        "argument --spec: key 'dir': '/tmp/elsewhere' is not the behaviour's folder "
        "'resources/behaviours/mujoco/hopper/sac-20-m10-u1-seed0'",
    ),
    Case("features-spec-empty", lambda folder: ["features", "--spec", "{}"], "argument --spec: key 'suite': None"),
    Case(
        "features-spec-without-encoder",
        lambda folder: ["features", "--spec", '{"suite": "mujoco", "env": "hopper", "dataset": "mixed"}'],
        "argument --spec: not a FeaturesSpec (key 'render_size': missing)",
    ),
    Case(  # a held-out dataset's cache passes the name check (the diagnose stage's); another suffix does not
        "features-spec-of-held-out-data",
        lambda folder: ["features", "--spec", '{"suite": "mujoco", "env": "hopper", "dataset": "mixed.heldout"}'],
        "argument --spec: not a FeaturesSpec (key 'render_size': missing)",
    ),
    Case(
        "features-spec-dotted-name",
        lambda folder: ["features", "--spec", '{"suite": "mujoco", "env": "hopper", "dataset": "mixed.other"}'],
        "argument --spec: key 'dataset': 'mixed.other' is not a valid name",
    ),
    Case(
        "frames-spec-escapes",
        lambda folder: ["frames", "--spec", '{"env": "hopper", "dataset": "../x"}'],
        "argument --spec: key 'dataset': '../x' is not a valid name",
    ),
]


# --- datasets, as the train stage loads them ----------------------------------------------------


def run_spec(key: config.RunKey, drop: str | None = None, seed: Any = None) -> str:
    """The run's --spec; with `drop` ("training.steps") a key removed, with `seed` its key's seed replaced."""
    spec = config.run_spec(config.validate(smoke_preset()), key).to_dict()
    if drop is not None:
        section, name = drop.split(".")
        del spec[section][name]
    if seed is not None:
        spec["key"]["seed"] = seed
    return json.dumps(spec)


def rehash(folder: Path) -> None:
    """Record the files' current hashes on the card and in the manifest: data made wrong by its
    maker, not damaged later."""
    card = io.read_json(folder / paths.DATASET_CARD)
    card["sha256"] = {f"{field}.npy": manifest.sha256(folder / f"{field}.npy") for field in datasets.FIELDS}
    io.write_json(folder / paths.DATASET_CARD, card)
    manifest.write(folder)


def bad_dataset(key: config.RunKey, damage: Callable[[Path], Any], hashed: bool = True) -> Callable[[Path], list[str]]:
    """The run's dataset, made valid, then `damage`d (and its card's hashes recorded again if `hashed`)."""

    def make(folder: Path) -> list[str]:
        data = folder / paths.dataset_dir(key.suite, key.env, key.dataset)
        write_random_dataset(data, key.suite, name=key.dataset)
        damage(data)
        if hashed:
            rehash(data)
        return ["train", "--spec", run_spec(key)]

    return make


def replace_field(field: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / f"{field}.npy"
        np.save(path, change(np.load(path)), allow_pickle=False)

    return damage


def set_at(index: Any, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array[index] = value
        return array

    return change


def edit_card(**fields: Any) -> Callable[[Path], None]:
    return lambda data: io.write_json(data / paths.DATASET_CARD, io.read_json(data / paths.DATASET_CARD) | fields)


def unlist(folder: Path, name: str) -> None:
    """`name` left out of `folder`'s manifest."""
    listed = io.read_json(folder / "manifest.json")["files"]
    io.write_json(folder / "manifest.json", {"files": {k: v for k, v in listed.items() if k != name}})


def flip_last_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))


HOPPER_DATA = f"resources/datasets/{HOPPER_BC.suite}/{HOPPER_BC.env}/{HOPPER_BC.dataset}"
BREAKOUT_DATA = f"resources/datasets/{BREAKOUT_BC.suite}/{BREAKOUT_BC.env}/{BREAKOUT_BC.dataset}"

DATASET_CASES = [
    Case(
        "observation-nan",
        bad_dataset(HOPPER_BC, replace_field("observations", set_at((5, 2), np.nan))),
        f"{HOPPER_DATA}/observations.npy: contains NaN or inf (first at row 5)",
    ),
    Case(
        "reward-inf",
        bad_dataset(HOPPER_BC, replace_field("rewards", set_at(7, np.inf))),
        f"{HOPPER_DATA}/rewards.npy: contains NaN or inf (first at row 7)",
    ),
    Case(
        "rewards-integers",
        bad_dataset(HOPPER_BC, replace_field("rewards", lambda a: a.astype(np.int64))),
        f"{HOPPER_DATA}/rewards.npy: dtype int64, expected float32",
    ),
    Case(
        "observation-shape",
        bad_dataset(HOPPER_BC, replace_field("observations", lambda a: np.concatenate([a, a[:, :1]], axis=1))),
        f"{HOPPER_DATA}/observations.npy: rows of shape (12,) float32, hopper observes (11,) float32",
    ),
    Case(
        "observation-dtype",
        bad_dataset(HOPPER_BC, replace_field("observations", lambda a: a.astype(np.float64))),
        f"{HOPPER_DATA}/observations.npy: dtype float64, expected uint8 or float32",
    ),
    Case(
        "continuous-action-nan",
        bad_dataset(HOPPER_BC, replace_field("actions", set_at((3, 1), np.nan))),
        f"{HOPPER_DATA}/actions.npy: contains NaN or inf (first at row 3)",
    ),
    Case(
        "continuous-action-outside-the-box",
        bad_dataset(HOPPER_BC, replace_field("actions", set_at((9, 0), 1.5))),
        f"{HOPPER_DATA}/actions.npy: holds actions outside hopper's action box [-1.0, 1.0] (first at row 9)",
    ),
    Case(
        "continuous-action-width",
        bad_dataset(HOPPER_BC, replace_field("actions", lambda a: a[:, :2].copy())),
        f"{HOPPER_DATA}/actions.npy: shape (160, 2), hopper takes (N, 3) actions",
    ),
    Case(
        "discrete-action-out-of-range",
        bad_dataset(BREAKOUT_BC, replace_field("actions", set_at(11, 4))),
        f"{BREAKOUT_DATA}/actions.npy: holds actions outside 0..3 (first at row 11)",
    ),
    Case(
        "discrete-action-beyond-the-game",
        bad_dataset(
            BREAKOUT_BC,
            lambda data: (replace_field("actions", set_at(11, 17))(data), edit_card(action_size=18)(data)),
        ),
        f"{BREAKOUT_DATA}/actions.npy: holds actions outside breakout's 0..3 (first at row 11)",
    ),
    Case(
        "discrete-action-float",
        bad_dataset(BREAKOUT_BC, replace_field("actions", lambda a: a.astype(np.float32))),
        f"{BREAKOUT_DATA}/actions.npy: dtype float32, expected integers",
    ),
    Case(
        "card-of-another-env",
        bad_dataset(BREAKOUT_BC, edit_card(env="pong")),
        f"{BREAKOUT_DATA}/dataset.json: the card is of dataset atari/pong/mixed, not of the run's atari/breakout/mixed",
    ),
    Case(
        "card-of-another-dataset",
        bad_dataset(HOPPER_BC, edit_card(name="medium")),
        "not of the run's mujoco/hopper/mixed",
    ),
    Case(
        "flipped-byte",
        bad_dataset(HOPPER_BC, lambda data: flip_last_byte(data / "rewards.npy"), hashed=False),
        f"{HOPPER_DATA}/rewards.npy: sha256 ",
    ),
    Case(
        "card-not-json",
        bad_dataset(
            HOPPER_BC, lambda data: ((data / paths.DATASET_CARD).write_text("{"), manifest.write(data)), hashed=False
        ),
        f"{HOPPER_DATA}/dataset.json: not valid JSON",
    ),
    Case(
        "dataset-missing",
        lambda folder: ["train", "--spec", run_spec(HOPPER_BC)],
        f"{HOPPER_DATA}/manifest.json: missing; the folder is not whole",
    ),
    Case(
        "card-edited-by-hand",
        bad_dataset(
            HOPPER_BC,
            edit_card(episode_return={"min": 0, "mean": 3000, "max": 3000}, behaviour_normalized_return=95),
            hashed=False,
        ),
        f"{HOPPER_DATA}/dataset.json: sha256 ",
    ),
    Case(
        "manifest-missing",
        bad_dataset(HOPPER_BC, lambda data: (data / "manifest.json").unlink(), hashed=False),
        f"{HOPPER_DATA}/manifest.json: missing; the folder is not whole",
    ),
    Case(
        "manifest-without-the-card",
        bad_dataset(HOPPER_BC, lambda data: unlist(data, "dataset.json"), hashed=False),
        f"{HOPPER_DATA}/manifest.json: does not list dataset.json",
    ),
    Case(
        "empty",
        bad_dataset(HOPPER_BC, lambda data: [replace_field(f, lambda a: a[:0])(data) for f in datasets.FIELDS]),
        f"{HOPPER_DATA}/rewards.npy: no transitions (the dataset is empty)",
    ),
]


# --- datasets, as MORE-3S's features stage loads them --------------------------------------------

HOPPER_MORE3S = config.RunKey("mujoco", "hopper", "mixed", "more3s", 0)


def features_of(damage: Callable[[Path], Any]) -> Callable[[Path], list[str]]:
    """The features stage of the MORE-3S run on the run's dataset, made valid, then `damage`d."""

    def make(folder: Path) -> list[str]:
        bad_dataset(HOPPER_MORE3S, damage)(folder)
        spec = config.features_spec(config.validate(smoke_preset()), HOPPER_MORE3S)
        return ["features", "--spec", json.dumps(asdict(spec))]

    return make


ANOTHER_DATASET = f"{HOPPER_DATA}/dataset.json: the card is of dataset"
FEATURES_CASES = [
    Case(
        "card-of-another-env",
        features_of(edit_card(env="walker2d")),
        f"{ANOTHER_DATASET} mujoco/walker2d/mixed, not of the run's mujoco/hopper/mixed",
    ),
    Case(
        "card-of-another-dataset",
        features_of(edit_card(name="medium")),
        f"{ANOTHER_DATASET} mujoco/hopper/medium, not of the run's mujoco/hopper/mixed",
    ),
]


# --- checkpoints, as the evaluate stage loads them ----------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a trained 2-step BC run on Hopper (dataset, run files, checkpoint)."""
    folder = tmp_path_factory.mktemp("trained")
    spec = json.loads(run_spec(HOPPER_BC))
    spec["training"].update(steps=2, eval_every=1)  # two checkpoints: the last one is damaged below
    with contextlib.chdir(folder):
        write_random_dataset(
            paths.dataset_dir(HOPPER_BC.suite, HOPPER_BC.env, HOPPER_BC.dataset), "mujoco", name="mixed"
        )
        training.train(RunSpec.from_dict(spec, "spec"))
    return folder


CHECKPOINTS = f"resources/checkpoints/{HOPPER_BC.id}"
STEP = f"{CHECKPOINTS}/step00000002"
RUN_DIR = f"results/runs/{HOPPER_BC.id}"


def reseal(root: Path, folder: Path, kind: str, run: config.RunKey) -> None:
    """The manifest of `folder` written again and recorded in the config.json of `run` (under
    `root`): a folder its maker wrote wrong (or a forger who rewrote every record), not one damaged
    later."""
    config_path = root / paths.run_dir(run.id) / "config.json"
    record = io.read_json(config_path)
    record["manifests"][kind] = manifest.write(folder)
    io.write_json(config_path, record)


def listing(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """checkpoints.json changed by `change` (returning the new listing, or text), the folder resealed."""

    def damage(checkpoints: Path) -> None:
        changed = change(io.read_json(checkpoints / "checkpoints.json"))
        if isinstance(changed, str):  # the file's text
            (checkpoints / "checkpoints.json").write_text(changed)
        else:
            io.write_json(checkpoints / "checkpoints.json", changed)
        reseal(checkpoints.parents[len(Path(CHECKPOINTS).parts) - 1], checkpoints, "checkpoints", HOPPER_BC)

    return damage


def without_path(listed: dict[str, Any]) -> dict[str, Any]:
    del listed["checkpoints"][0]["path"]
    return listed


def bad_checkpoint(damage: Callable[[Path], Any]) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        damage(folder / CHECKPOINTS)
        return ["evaluate", "--run", HOPPER_BC.id]

    return make


def strip_hashes(checkpoints: Path) -> None:
    manifest = io.read_json(checkpoints / "checkpoints.json")
    for entry in manifest["checkpoints"]:
        del entry["sha256"]
    io.write_json(checkpoints / "checkpoints.json", manifest)


CHECKPOINT_CASES = [
    Case("flipped-byte", bad_checkpoint(lambda c: flip_last_byte(c / "step00000002.pt")), f"{STEP}.pt: sha256 "),
    Case(
        "truncated",
        bad_checkpoint(lambda c: (c / "step00000002.pt").write_bytes((c / "step00000002.pt").read_bytes()[:100])),
        f"{STEP}.pt: sha256 ",
    ),
    Case("empty", bad_checkpoint(lambda c: (c / "step00000002.pt").write_bytes(b"")), f"{STEP}.pt: sha256 "),
    Case(
        "config-flipped-byte",
        bad_checkpoint(lambda c: flip_last_byte(c / "step00000002.json")),
        f"{STEP}.json: sha256 ",
    ),
    Case(
        "missing",
        bad_checkpoint(lambda c: (c / "step00000002.pt").unlink()),
        f"{STEP}.pt: missing; {CHECKPOINTS}/manifest.json lists it",
    ),
    Case(
        "manifest-not-json",
        bad_checkpoint(lambda c: (c / "checkpoints.json").write_text('{"checkpoints": [')),
        f"{CHECKPOINTS}/checkpoints.json: sha256 ",
    ),
    Case(
        "manifest-not-json-as-made",
        bad_checkpoint(listing(lambda listed: '{"checkpoints": [')),
        f"{CHECKPOINTS}/checkpoints.json: not valid JSON",
    ),
    Case("manifest-without-hashes", bad_checkpoint(strip_hashes), f"{CHECKPOINTS}/checkpoints.json: sha256 "),
    Case(
        "manifest-missing",
        bad_checkpoint(lambda c: (c / "checkpoints.json").unlink()),
        f"{CHECKPOINTS}/checkpoints.json: missing; {CHECKPOINTS}/manifest.json lists it",
    ),
    Case("folder-manifest-missing", bad_checkpoint(lambda c: (c / "manifest.json").unlink()), "manifest.json: missing"),
    Case(
        "resealed-not-as-recorded",
        bad_checkpoint(lambda c: (flip_last_byte(c / "step00000001.pt"), manifest.write(c))),
        f"{CHECKPOINTS}/manifest.json: sha256 ",
    ),
    Case(
        "listing-empty-object",
        bad_checkpoint(listing(lambda listed: {})),
        f"{CHECKPOINTS}/checkpoints.json: the record: 'run' is a required property",
    ),
    Case(
        "listing-a-list",
        bad_checkpoint(listing(lambda listed: [])),
        f"{CHECKPOINTS}/checkpoints.json: the record: [] is not of type 'object'",
    ),
    Case(
        "listing-entry-without-path",
        bad_checkpoint(listing(without_path)),
        f"{CHECKPOINTS}/checkpoints.json: key 'checkpoints.0': 'path' is a required property",
    ),
    Case(
        "listing-path-elsewhere",
        bad_checkpoint(listing(lambda listed: listed["checkpoints"][0].update(path="/etc/passwd") or listed)),
        f"{CHECKPOINTS}/checkpoints.json: key 'checkpoints.0.path': '/etc/passwd' is not in {CHECKPOINTS}",
    ),
    Case(
        "listing-a-step-short",
        bad_checkpoint(listing(lambda listed: listed.update(checkpoints=listed["checkpoints"][1:]) or listed)),
        f"{CHECKPOINTS}/checkpoints.json: checkpoints of {HOPPER_BC.id} at steps [2], not of the run's budget",
    ),
]


# --- a MORE-3S run's features folder and checkpoints, as the evaluate and train stages read them ---

MORE3S_FEATURES = config.features_spec(config.validate(smoke_preset()), HOPPER_MORE3S).folder
MORE3S_CHECKPOINTS = paths.checkpoint_dir(HOPPER_MORE3S.id)


@pytest.fixture(scope="module")
def trained_more3s_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the smoke preset's MORE-3S run on Hopper trained 2 steps: dataset, features
    folder (encoder outputs cached), run files, checkpoint."""
    folder = tmp_path_factory.mktemp("more3s")
    smoke = config.validate(smoke_preset())
    spec = config.run_spec(smoke, HOPPER_MORE3S).to_dict()
    spec["training"].update(steps=2, eval_every=2)
    with contextlib.chdir(folder):
        data = paths.dataset_dir(HOPPER_MORE3S.suite, HOPPER_MORE3S.env, HOPPER_MORE3S.dataset)
        write_random_dataset(data, "mujoco", name="mixed")
        features.build(config.features_spec(smoke, HOPPER_MORE3S))
        training.train(RunSpec.from_dict(spec, "spec"))
    return folder


class RunsCode:
    """Unpickled without weights_only, it would run a command (leaving a file: the snapshot sees it)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch ran-code",))


def times_three(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    torch.save({name: value * 3 if value.is_floating_point() else value for name, value in state.items()}, path)


def flip_header_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[8] ^= 0xFF  # the .npy header's length
    path.write_bytes(bytes(raw))


def more3s_case(damage: Callable[[Path], Any], kind: str | None = None) -> Callable[[Path], list[str]]:
    """`damage` the folder of `kind` (features, checkpoints) of the trained MORE-3S run, then
    evaluate it; with `kind` the folder is resealed and the run's config.json made to record it
    (see `reseal`)."""

    def make(root: Path) -> list[str]:
        folder = root / (MORE3S_CHECKPOINTS if kind == "checkpoints" else MORE3S_FEATURES)
        damage(folder)
        if kind is not None:
            reseal(root, folder, kind, HOPPER_MORE3S)
        return ["evaluate", "--run", HOPPER_MORE3S.id]

    return make


MORE3S_CASES = [
    Case(
        "encoder-times-three",
        more3s_case(lambda f: times_three(f / "encoder.pt")),
        f"{MORE3S_FEATURES}/encoder.pt: sha256 ",
    ),
    Case(
        "encoder-times-three-resealed",
        more3s_case(lambda f: (times_three(f / "encoder.pt"), manifest.write(f))),
        f"{MORE3S_FEATURES}/manifest.json: sha256 ",
    ),
    Case(
        "texts-changed",
        more3s_case(lambda f: io.write_json(f / "texts.json", ["jump"])),
        f"{MORE3S_FEATURES}/texts.json: sha256 ",
    ),
    Case(
        "text-index-header",
        more3s_case(lambda f: flip_header_byte(f / "text_index.npy")),
        f"{MORE3S_FEATURES}/text_index.npy: sha256 ",
    ),
    Case(
        "card-edited",
        more3s_case(
            lambda f: io.write_json(f / "features.json", io.read_json(f / "features.json") | {"dataset_sha256": "0"})
        ),
        f"{MORE3S_FEATURES}/features.json: sha256 ",
    ),
    Case(
        "crafted-encoder",
        more3s_case(lambda f: torch.save(RunsCode(), f / "encoder.pt"), kind="features"),
        f"{MORE3S_FEATURES}/encoder.pt: not a loadable checkpoint of this model",
    ),
    Case(
        "crafted-checkpoint",
        more3s_case(lambda c: torch.save(RunsCode(), c / "step00000002.pt"), kind="checkpoints"),
        f"{MORE3S_CHECKPOINTS}/step00000002.pt: not a loadable checkpoint of this model",
    ),
]


# --- a run's results, as the score and aggregate stages read them -------------------------------


def eval_csv(text: str) -> Callable[[Path], list[str]]:
    """The trained run's eval.csv is `text` (its protocol: 1 episode at step 1, 2 at step 2)."""

    def make(folder: Path) -> list[str]:
        (folder / RUN_DIR / "eval.csv").write_text(text)
        return ["score", "--run", HOPPER_BC.id]

    return make


HEADER = "train_step,episode,return,length,eval_wall_s\n"
GOOD_ROWS = ["1,0,10.5,20,1.0", "2,0,88.9,20,1.0", "2,1,90.1,20,1.0"]
SCORE_CASES = [
    Case("empty", eval_csv(""), f"{RUN_DIR}/eval.csv: empty; no header, no rows"),
    Case("header-only", eval_csv(HEADER), f"{RUN_DIR}/eval.csv: no rows (a header only)"),
    Case(
        "nan-return",
        eval_csv(HEADER + "\n".join([*GOOD_ROWS[:2], "2,1,nan,20,1.0"]) + "\n"),
        f"{RUN_DIR}/eval.csv: column 'return': row 3 is nan, not a finite number",
    ),
    Case(
        "episode-missing",
        eval_csv(HEADER + "\n".join(GOOD_ROWS[:2]) + "\n"),
        f"{RUN_DIR}/eval.csv: train_step 2: episodes [0]..., the run's protocol promises episodes 0..1",
    ),
    Case(
        "checkpoint-missing",
        eval_csv(HEADER + "\n".join(GOOD_ROWS[1:]) + "\n"),
        f"{RUN_DIR}/eval.csv: column 'train_step': no evaluation at checkpoint 1",
    ),
    Case(
        "column-missing",
        eval_csv("train_step,episode,length,eval_wall_s\n1,0,20,1.0\n"),
        f"{RUN_DIR}/eval.csv: column 'return' missing",
    ),
]


def metrics(text: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        (folder / "metrics.json").write_text(text)
        return ["aggregate", "metrics.json"]

    return make


def scores_csv(**fields: Any) -> Callable[[Path], list[str]]:
    """A one-run scores.csv (the trained run's) with `fields` set, then the report stage."""

    def make(folder: Path) -> list[str]:
        row = {column: 1 for column in COLUMNS} | dataclasses.asdict(HOPPER_BC) | fields
        io.write_csv(folder / "results" / "scores.csv", pd.DataFrame([row]))
        settings = {"focus": "bc", "bootstrap_reps": 100, "profile_bootstrap_reps": 100, "seed": 0}
        return ["report", "--settings", json.dumps(settings)]

    return make


REPORT_CASES = [
    Case(
        "scores-nan",
        scores_csv(raw_final=float("nan")),
        "results/scores.csv: column 'raw_final': row 1 is nan, not a finite number",
    ),
]
AGGREGATE_CASES = [
    Case("empty-object", metrics("{}"), "metrics.json: the record: 'suite' is a required property"),
    Case("list", metrics("[]"), "metrics.json: the record: [] is not of type 'object'"),
    Case("string", metrics('"x"'), "metrics.json: the record: 'x' is not of type 'object'"),
]


# --- the real-format importers (the dataset stage) ----------------------------------------------


def write_hdf5(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array)


def d4rl_arrays(n: int = 120, obs_dim: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    ends = np.zeros(n, bool)
    ends[59::60] = True
    return {
        "observations": rng.normal(size=(n, obs_dim)).astype(np.float32),
        "actions": rng.uniform(-1, 1, size=(n, 3)).astype(np.float32),
        "rewards": rng.normal(size=n).astype(np.float32),
        "terminals": ends,
        "timeouts": np.zeros(n, bool),
    }


def import_spec(source: str, mirror_path: Path, name: str = "medium") -> list[str]:
    spec = {
        "suite": "mujoco",
        "env": "hopper",
        "name": name,
        "source": source,
        "seed": 0,
        "mirror_path": str(mirror_path),
        "behaviour": None,
        "options": {},
    }
    return ["dataset", "--spec", json.dumps(spec)]


def d4rl(write: Callable[[Path], Any]) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / "mirror" / "hopper_medium-v2.hdf5"
        write(path)
        return import_spec("d4rl", path)

    return make


def minari(
    change_data: Callable[[Path], Any] = lambda data: None,
    change: Callable[[dict[str, np.ndarray]], Any] = lambda episode: None,
    data_format: str = "hdf5",
) -> Callable[[Path], list[str]]:
    """A one-episode local Minari dataset, the episode changed by `change` before `minari` writes
    it and its data/ folder (metadata.json, the episodes) by `change_data` after."""

    def make(folder: Path) -> list[str]:
        arrays = d4rl_arrays(31)
        episode = {
            "observations": arrays["observations"],
            "actions": arrays["actions"][:30],
            "rewards": arrays["rewards"][:30],
            "terminations": np.eye(1, 30, 29, dtype=bool)[0],
            "truncations": np.zeros(30, bool),
        }
        change(episode)
        root = write_minari_episodes(folder / "mirror", "hopper-medium-v0", [episode], data_format)
        change_data(root / "data")
        return import_spec("minari", root)

    return make


ACTION_OUTSIDE = set_at((7, 2), 3.0)  # hopper's action box is [-1, 1]
IMPORTER_CASES = [
    Case("d4rl-missing", d4rl(lambda path: None), "mirror/hopper_medium-v2.hdf5"),
    Case(
        "d4rl-not-hdf5", d4rl(lambda path: path.parent.mkdir() or path.write_bytes(b"not hdf5")), "not a readable HDF5"
    ),
    Case(
        "d4rl-another-task",
        d4rl(lambda path: write_hdf5(path, **d4rl_arrays(obs_dim=17))),
        "hopper_medium-v2.hdf5: field 'observations': 17 values per row, hopper observes 11",
    ),
    Case(
        "d4rl-observations-a-group",
        d4rl(
            lambda path: write_hdf5(
                path,
                **{k: v for k, v in d4rl_arrays().items() if k != "observations"},
                **{"observations/x": np.zeros(3)},
            )
        ),
        "hopper_medium-v2.hdf5: field 'observations' a Group, not an array",
    ),
    Case(
        "d4rl-reward-nan",
        d4rl(lambda path: write_hdf5(path, **(d4rl_arrays() | {"rewards": np.full(120, np.nan, np.float32)}))),
        "hopper_medium-v2.hdf5: field 'rewards'",
    ),
    Case(
        "d4rl-action-outside-the-box",
        d4rl(lambda path: write_hdf5(path, **(d4rl_arrays() | {"actions": ACTION_OUTSIDE(d4rl_arrays()["actions"])}))),
        "hopper_medium-v2.hdf5: field 'actions': holds actions outside hopper's action box [-1.0, 1.0] "
        "(first at row 7)",
    ),
    Case(
        "minari-action-outside-the-box",
        minari(change=lambda episode: episode.update(actions=ACTION_OUTSIDE(episode["actions"]))),
        "hopper-medium-v0/data/main_data.hdf5: field 'actions': holds actions outside hopper's action box [-1.0, 1.0] "
        "(first at row 7)",
    ),
    Case(
        "minari-arrow-action-outside-the-box",
        minari(change=lambda episode: episode.update(actions=ACTION_OUTSIDE(episode["actions"])), data_format="arrow"),
        "hopper-medium-v0/data: field 'actions': holds actions outside hopper's action box [-1.0, 1.0] "
        "(first at row 7)",
    ),
    Case(
        "minari-not-hdf5",
        minari(lambda data: (data / "main_data.hdf5").write_bytes(b"not hdf5")),
        "hopper-medium-v0/data/main_data.hdf5: not a readable HDF5 file",
    ),
    Case(
        "minari-metadata-not-json",
        minari(lambda data: (data / "metadata.json").write_text("{")),
        "data/metadata.json: not valid JSON",
    ),
    Case(
        "minari-metadata-not-an-object",
        minari(lambda data: (data / "metadata.json").write_text("[]")),
        "data/metadata.json: not a JSON object",
    ),
]


CORPUS = [
    *(pytest.param(case, id=f"preset-{case.id}") for case in PRESET_CASES),
    *(pytest.param(case, id=f"cli-{case.id}") for case in CLI_CASES),
    *(pytest.param(case, id=f"dataset-{case.id}") for case in DATASET_CASES),
    *(pytest.param(case, id=f"importer-{case.id}") for case in IMPORTER_CASES),
    *(pytest.param(case, id=f"features-{case.id}") for case in FEATURES_CASES),
]


def assert_one_line_and_nothing_changed(case: Case, folder: Path) -> None:
    args = case.make(folder)
    before = snapshot(folder)
    result = run_cli(args, folder)
    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 2, (result.returncode, lines[-20:])
    assert len(lines) == 1, lines[-20:]
    assert lines[0].startswith("error: ") and case.expected in lines[0], lines[0]
    assert snapshot(folder) == before, "the command wrote or changed files"


@pytest.mark.parametrize("case", CORPUS)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case: Case, tmp_path: Path) -> None:
    assert_one_line_and_nothing_changed(case, tmp_path)


@pytest.mark.parametrize(
    "case",
    [
        *(pytest.param(case, id=f"checkpoint-{case.id}") for case in CHECKPOINT_CASES),
        *(pytest.param(case, id=f"score-{case.id}") for case in SCORE_CASES),
        *(pytest.param(case, id=f"aggregate-{case.id}") for case in AGGREGATE_CASES),
        *(pytest.param(case, id=f"report-{case.id}") for case in REPORT_CASES),
    ],
)
def test_bad_checkpoint_or_result_is_one_line_exit_2_and_changes_nothing(
    case: Case, trained_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    assert_one_line_and_nothing_changed(case, folder)


@pytest.mark.parametrize("case", [pytest.param(case, id=f"more3s-{case.id}") for case in MORE3S_CASES])
def test_bad_more3s_file_is_one_line_exit_2_and_changes_nothing(
    case: Case, trained_more3s_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(trained_more3s_run, folder)
    assert_one_line_and_nothing_changed(case, folder)


def test_a_text_index_written_wrong_is_one_line_naming_it(
    trained_more3s_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its header damaged by its maker (the manifest agrees): the loader's line names the file."""
    shutil.copytree(trained_more3s_run, tmp_path / "run")
    monkeypatch.chdir(tmp_path / "run")
    flip_header_byte(MORE3S_FEATURES / "text_index.npy")
    manifest.write(MORE3S_FEATURES)
    data = datasets.load(paths.dataset_dir(HOPPER_MORE3S.suite, HOPPER_MORE3S.env, HOPPER_MORE3S.dataset))
    with pytest.raises(BenchmarkError) as refused:
        features.load(MORE3S_FEATURES, data)
    assert str(refused.value).startswith(f"{MORE3S_FEATURES}/text_index.npy: not a readable .npy array (")
    assert "\n" not in str(refused.value)


def test_the_trained_run_scores_from_a_good_eval_csv(trained_run: Path, tmp_path: Path) -> None:
    """The control of the score cases: the rows they damage, undamaged, are scored."""
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    (folder / RUN_DIR / "eval.csv").write_text(HEADER + "\n".join(GOOD_ROWS) + "\n")
    result = run_cli(["score", "--run", HOPPER_BC.id], folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert io.read_json(folder / RUN_DIR / "metrics.json")["raw_final"] == pytest.approx(89.5)


def test_the_trained_run_itself_evaluates(trained_run: Path, tmp_path: Path) -> None:
    """The control: undamaged, the same checkpoint passes its checks and is evaluated."""
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    spec = io.read_json(folder / paths.run_dir(HOPPER_BC.id) / "config.json")
    spec["evaluation"].update(episodes=1, final_episodes=1)
    spec["protocol"]["max_episode_steps"] = 5
    io.write_json(folder / paths.run_dir(HOPPER_BC.id) / "config.json", spec)
    result = run_cli(["evaluate", "--run", HOPPER_BC.id], folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (folder / paths.run_dir(HOPPER_BC.id) / "eval.csv").exists()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_artefacts_get_the_mode_the_umask_gives(umask: int, tmp_path: Path) -> None:
    previous = os.umask(umask)
    try:
        io.write_json(tmp_path / "card.json", {})
        with io.temporary_npy(tmp_path / "array.npy", np.float32, (2,)):
            pass
    finally:
        os.umask(previous)
    for name in ("card.json", "array.npy"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_algorithm_without_a_suite_of_the_preset_is_refused() -> None:
    """A MuJoCo-only algorithm in a preset with Atari: refused at validation, naming the key (it
    was a KeyError while Snakemake planned)."""

    @dataclass(frozen=True)
    class Settings:
        learning_rate: float = 1e-3

    algorithms.ALGORITHMS.register(algorithms.Declaration("mujoco-only", "nowhere:MujocoOnly", {"mujoco": Settings()}))
    preset = smoke_preset()
    preset["algorithms"]["mujoco-only"] = None
    try:
        with pytest.raises(BenchmarkError) as refused:
            config.validate(preset)
    finally:
        algorithms.ALGORITHMS.unregister("mujoco-only")  # the registry is the package's: leave it as found
    assert str(refused.value) == "config key 'algorithms.mujoco-only': mujoco-only has no settings for suite 'atari'"


def test_an_external_workdir_is_allowed_when_the_preset_says_so() -> None:
    preset = smoke_preset() | {"workdir": "/scratch/more3s", "allow_external_workdir": True}
    assert config.validate(preset).workdir == "/scratch/more3s"


# --- through Snakemake --------------------------------------------------------------------------


def smoke_variant(project: Path, text: str) -> list[str]:
    (project / "config" / "bad.yaml").write_text(text)
    return ["--cores", "1", "all", "--configfile", "config/bad.yaml"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "__use_yte__: true\n" + SMOKE, "config key '__use_yte__': YTE templates are refused", id="yte-template"
        ),
        pytest.param(
            SMOKE.replace("seeds: [0, 1]", "seeds: [0, 1]\nseeds: [2]"), "duplicate key 'seeds'", id="duplicate-key"
        ),
        pytest.param(
            SMOKE.replace("workdir: resources/smoke", "workdir: ../outside"),
            "config key 'workdir': '../outside' is outside the repository",
            id="workdir-outside",
        ),
        pytest.param(
            SMOKE.replace("      mixed:  # D4RL", "      ..:  # D4RL"),
            "config key 'suites.mujoco.datasets...': not a valid name",
            id="dataset-named-dotdot",
        ),
        pytest.param(
            SMOKE.replace("steps: 20, batch_size: 16", "steps: 1000000000000, batch_size: 16"),
            "config key 'suites.mujoco.training.steps': 1000000000000 is greater than the maximum",
            id="steps-10-to-the-12",
        ),
        pytest.param(
            SMOKE.replace("report: {", "report: {focus: more3, "),
            "config key 'report.focus': 'more3' is not in the preset's algorithms",
            id="focus-typo",
        ),
    ],
)
def test_snakemake_stops_a_bad_preset_with_one_line_before_anything(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    before = snapshot(tmp_path)
    result = snakemake(*smoke_variant(project, text), cwd=project)
    assert result.returncode == 2, result.stderr[-2000:]  # the project's refusals exit 2 on every path
    lines = [line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("Using workflow")]
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], lines[-20:]
    after = snapshot(tmp_path)
    made = {path for path in after if path not in before and not path.startswith("project/.snakemake")}
    made = {path for path in made if "__pycache__" not in path}
    assert made == {"project/config/bad.yaml"}, sorted(made)


@pytest.mark.slow
def test_snakemake_train_job_on_a_bad_dataset_fails_in_one_logged_line(tmp_path: Path) -> None:
    """A dataset whose observations hold NaN (rehashed, as its maker wrote it): the train job's log
    holds one line naming the file, and the run has no outputs."""
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    workdir = project / "resources" / "smoke"
    data = workdir / paths.dataset_dir(HOPPER_BC.suite, HOPPER_BC.env, HOPPER_BC.dataset)
    write_random_dataset(data, "mujoco", name="mixed")
    replace_field("observations", set_at((5, 2), np.nan))(data)
    rehash(data)
    target = str(paths.run_dir(HOPPER_BC.id) / "config.json")
    result = snakemake("--cores", "1", target, "--configfile", "config/smoke.yaml", cwd=project)
    assert result.returncode != 0
    log = workdir / "results" / "logs" / "train" / f"{HOPPER_BC.id}.log"
    assert log.read_text().splitlines() == [
        f"error: {HOPPER_DATA}/observations.npy: contains NaN or inf (first at row 5)"
    ], result.stderr[-3000:]
    for folder in (paths.run_dir(HOPPER_BC.id), paths.checkpoint_dir(HOPPER_BC.id)):
        assert not [path for path in (workdir / folder).rglob("*") if path.is_file()], (
            folder
        )  # Snakemake makes the folders
