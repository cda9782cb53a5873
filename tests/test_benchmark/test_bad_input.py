"""The bad-input corpus: every bad input of the table below, given to the real command line
(`python -m benchmark ...` in a fresh process), ends with exit status 2 and exactly one line of
output, `error: ...`, naming the file or config key; no file is written or changed. A few cases
go through Snakemake too (slow).

Inputs: presets (`check-config`), the command line itself, datasets (`train`, and MORE-3S's
`features`), checkpoints (`evaluate`) and the real-format importers (`dataset`).
"""

from __future__ import annotations

import contextlib
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
import yaml
from conftest import REPO, copy_project, snakemake, write_random_dataset

from benchmark import config, datasets, io, paths, training
from benchmark.specs import RunSpec

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
    """Record the files' current hashes on the card: data made wrong by its maker, not damaged later."""
    card = io.read_json(folder / paths.DATASET_CARD)
    card["sha256"] = {f"{field}.npy": datasets.sha256(folder / f"{field}.npy") for field in datasets.FIELDS}
    io.write_json(folder / paths.DATASET_CARD, card)


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
        bad_dataset(HOPPER_BC, lambda data: (data / paths.DATASET_CARD).write_text("{"), hashed=False),
        f"{HOPPER_DATA}/dataset.json: not valid JSON",
    ),
    Case(
        "dataset-missing",
        lambda folder: ["train", "--spec", run_spec(HOPPER_BC)],
        f"{HOPPER_DATA}/dataset.json: dataset card missing",
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
    spec["training"].update(steps=2, eval_every=2)
    with contextlib.chdir(folder):
        write_random_dataset(
            paths.dataset_dir(HOPPER_BC.suite, HOPPER_BC.env, HOPPER_BC.dataset), "mujoco", name="mixed"
        )
        training.train(RunSpec.from_dict(spec, "spec"))
    return folder


CHECKPOINTS = f"resources/checkpoints/{HOPPER_BC.id}"
STEP = f"{CHECKPOINTS}/step00000002"


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
    Case("missing", bad_checkpoint(lambda c: (c / "step00000002.pt").unlink()), f"{STEP}.pt: checkpoint file missing"),
    Case(
        "manifest-not-json",
        bad_checkpoint(lambda c: (c / "checkpoints.json").write_text('{"checkpoints": [')),
        f"{CHECKPOINTS}/checkpoints.json: not valid JSON",
    ),
    Case(
        "manifest-without-hashes", bad_checkpoint(strip_hashes), f"{CHECKPOINTS}/checkpoints.json: no sha256 recorded"
    ),
    Case(
        "manifest-missing",
        bad_checkpoint(lambda c: (c / "checkpoints.json").unlink()),
        f"{CHECKPOINTS}/checkpoints.json: No such file or directory",
    ),
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


def import_spec(source: str, mirror_path: Path) -> list[str]:
    spec = {
        "suite": "mujoco",
        "env": "hopper",
        "name": "medium",
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
    write_metadata: Callable[[Path], Any], change: Callable[[dict[str, np.ndarray]], Any] = lambda episode: None
) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        root = folder / "mirror" / "hopper-medium-v0"
        arrays = d4rl_arrays(31)
        episode = {
            "observations": arrays["observations"],
            "actions": arrays["actions"][:30],
            "rewards": arrays["rewards"][:30],
            "terminations": np.eye(1, 30, 29, dtype=bool)[0],
            "truncations": np.zeros(30, bool),
        }
        change(episode)
        write_hdf5(root / "data" / "main_data.hdf5", **{f"episode_0/{k}": v for k, v in episode.items()})
        write_metadata(root / "metadata.json")
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
        minari(
            lambda path: path.write_text("{}"),
            lambda episode: episode.update(actions=ACTION_OUTSIDE(episode["actions"])),
        ),
        "hopper-medium-v0/data/main_data.hdf5: field 'actions': holds actions outside hopper's action box [-1.0, 1.0] "
        "(first at row 7)",
    ),
    Case("minari-metadata-not-json", minari(lambda path: path.write_text("{")), "metadata.json: not valid JSON"),
    Case(
        "minari-metadata-not-an-object", minari(lambda path: path.write_text("[]")), "metadata.json: not a JSON object"
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


@pytest.mark.parametrize("case", [pytest.param(case, id=f"checkpoint-{case.id}") for case in CHECKPOINT_CASES])
def test_bad_checkpoint_is_one_line_exit_2_and_changes_nothing(case: Case, trained_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(trained_run, folder)
    assert_one_line_and_nothing_changed(case, folder)


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


def test_an_external_workdir_is_allowed_when_the_preset_says_so() -> None:
    preset = smoke_preset() | {"workdir": "/scratch/more3s", "allow_external_workdir": True}
    assert config.validate(preset)["workdir"] == "/scratch/more3s"


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
    ],
)
def test_snakemake_stops_a_bad_preset_with_one_line_before_anything(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    before = snapshot(tmp_path)
    result = snakemake(*smoke_variant(project, text), cwd=project)
    assert result.returncode != 0
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.stdout[-2000:] + result.stderr[-2000:]
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
