"""The capacity plan: arithmetic on a preset's grid and the measured per-unit costs."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import REPO

from baselines.hyperparameters import BCMujoco
from benchmark import algorithms, config, plan
from benchmark.errors import BenchmarkError
from more3s.cost import encoder_parameters


def read(name: str) -> dict[str, Any]:
    """A committed preset as validation leaves it (the schema's defaults filled in): a test edits it."""
    preset = config.read(REPO / "config" / f"{name}.yaml")
    config.validate(preset)
    return preset


def planned(preset: dict[str, Any]) -> plan.Plan:
    return plan.make(config.validate(copy.deepcopy(preset)))


@pytest.fixture(scope="module")
def paper() -> dict[str, Any]:
    return read("paper")


def more3s_disk_tb(preset: dict[str, Any]) -> float:
    stages = planned(preset).stages()
    return sum(stages.get(stage, {}).get("disk_gb", 0.0) for stage in ("frames", "features")) / 1000


def test_the_default_plan_prices_the_reference_run_it_was_measured_on() -> None:
    """Training seconds per job, planned from the per-unit table, against what each training job of
    the committed reference run took (results/benchmarks/train): the table and the arithmetic agree."""
    default = plan.make(config.load(REPO / "config" / "config.yaml"))
    measured = {}
    for tsv in (REPO / "results" / "benchmarks" / "train").rglob("seed*.tsv"):
        run = str(tsv.relative_to(REPO / "results" / "benchmarks" / "train").with_suffix(""))
        measured[run] = float(pd.read_csv(tsv, sep="\t")["s"].iloc[0])
    jobs = {job.name: job.cpu_s for job in default.jobs if job.stage == "train"}
    assert set(jobs) == set(measured)  # the grid the reference run made
    ratio = sum(jobs[name] for name in measured) / sum(measured.values())
    assert 0.6 < ratio < 1.1, ratio  # the job's wall also holds set-up and checkpoints, the plan steps only


def test_bc_pixels_is_priced_as_its_measured_cnn_with_the_frames_store_it_adds() -> None:
    preset = read("config")
    jobs = {(job.stage, job.name): job for job in planned(preset).jobs}
    pixels = jobs["train", "mujoco/hopper/medium/bc-pixels/seed0"]
    state = jobs["train", "mujoco/hopper/medium/bc/seed0"]
    measured = plan.MEASURED["train/mujoco/bc-pixels"]
    batch = preset["suites"]["mujoco"]["training"]["per_algorithm"]["bc-pixels"]["batch_size"]
    assert pixels.cpu_s == pytest.approx(5000 * measured.value * batch / measured.at["batch"])  # scaled by batch
    assert pixels.cpu_s > 10 * state.cpu_s  # a CNN on 6 x 84 x 84 at half the batch, not BC's MLP on 11 numbers
    assert pixels.mem_mb - state.mem_mb > 20_000 * 84 * 84 * 3 / 1e6  # + the frames store it reads
    frames = [name for stage, name in jobs if stage == "frames"]
    assert len(frames) == 1 and "/hopper/medium/" in frames[0]
    assert jobs["evaluate", "mujoco/hopper/medium/bc-pixels/seed0"].cpu_s > 10 * jobs["evaluate", state.name].cpu_s
    wider = copy.deepcopy(preset)
    wider["algorithms"]["bc-pixels"] = {"mujoco": {"frames": 4}}
    wider_jobs = {(job.stage, job.name): job for job in planned(wider).jobs}
    assert wider_jobs["train", pixels.name].cpu_s > pixels.cpu_s  # scaled by the first convolution's FLOPs
    without = copy.deepcopy(preset)
    del without["algorithms"]["bc-pixels"]
    assert not [job for job in planned(without).jobs if job.stage == "frames"]  # MORE-3S caches its features


def test_paper_features_fit_the_budget_live_and_would_not_as_caches(paper: dict[str, Any]) -> None:
    assert all(
        overrides[suite]["features"] == "live"
        for name, overrides in paper["algorithms"].items()
        if name.startswith("more3s")
        for suite in ("atari", "mujoco")
    )
    assert more3s_disk_tb(paper) <= 1.0
    cached = copy.deepcopy(paper)
    for name in cached["algorithms"]:
        if name.startswith("more3s"):
            cached["algorithms"][name] = {}
    # the arithmetic: 56 x 768 fp16 = 86 kB a pair, ~12M pairs, 6 distinct caches a dataset
    assert more3s_disk_tb(cached) > 5.0


def test_a_cache_is_86_kB_a_pair_at_the_paper_width(paper: dict[str, Any]) -> None:
    cached = copy.deepcopy(paper)
    cached["algorithms"] = {"more3s": {}}
    jobs = [job for job in planned(cached).jobs if job.stage == "features"]
    breakout = next(job for job in jobs if "/breakout/" in job.name)
    encoder = config.features_grid(config.validate(copy.deepcopy(cached)))[breakout.name].encoder
    assert (encoder.hidden_size, encoder.language_layers, encoder.cross_layers, encoder.visual_layers) == (768, 9, 5, 5)
    per_pair = (breakout.disk_bytes - 4 * encoder_parameters(encoder)) / 500_000
    assert per_pair == 56 * 768 * 2


def test_live_encoding_moves_cost_from_disk_to_gpu_hours(paper: dict[str, Any]) -> None:
    live = planned(paper).stages()["train"]["gpu_h"]
    cached = copy.deepcopy(paper)
    for name in cached["algorithms"]:
        if name.startswith("more3s"):
            cached["algorithms"][name] = {}
    assert planned(cached).stages()["train"]["gpu_h"] < live / 5


def test_rule_resources_are_the_plan_with_headroom(paper: dict[str, Any]) -> None:
    paper_plan = planned(paper)
    job = next(j for j in paper_plan.jobs if j.stage == "train" and j.name.endswith("hopper/medium/more3s/seed123"))
    resources = paper_plan.resources("train", job.name)
    assert resources["runtime"] >= job.gpu_s / 60 * plan.SAFETY
    assert resources["mem_mb"] >= job.mem_mb * plan.SAFETY
    assert paper_plan.resources("train", "not/a/run/in/the/grid") == paper_plan.resources(
        "train", max((j for j in paper_plan.jobs if j.stage == "train"), key=lambda j: j.cpu_s + j.gpu_s).name
    )


def test_every_measured_cost_names_its_command() -> None:
    for key, measured in plan.MEASURED.items():
        assert measured.value > 0 and measured.unit and measured.command, key


def test_a_dataset_of_unknown_size_is_one_line_naming_its_key(paper: dict[str, Any]) -> None:
    odd = copy.deepcopy(paper)
    odd["suites"]["mujoco"]["datasets"]["random-v9"] = {"source": "d4rl", "path": "d4rl/x.hdf5"}
    with pytest.raises(BenchmarkError, match=r"suites\.mujoco\.datasets\.random-v9"):
        planned(odd)


def test_the_cli_prints_the_plan_from_a_file_or_from_json(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "benchmark", "plan"]
    from_file, from_json = tmp_path / "file.md", tmp_path / "json.md"
    printed = subprocess.run(
        [*run, "config/smoke.yaml", "--out", str(from_file)], cwd=REPO, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    assert "| **total** |" in from_file.read_text() and from_file.read_text() in printed.stdout
    preset = json.dumps(config.read(REPO / "config" / "smoke.yaml"))  # as a preset file has it
    subprocess.run([*run, "--config", preset, "--out", str(from_json)], cwd=REPO, capture_output=True, check=True)
    assert from_json.read_text() == from_file.read_text()


def test_every_committed_preset_is_within_the_plans_limits_and_a_preset_without_report_is_checked(
    paper: dict[str, Any],
) -> None:
    plan.check(config.validate(copy.deepcopy(paper)))  # the largest preset: its longest job ~15 CPU hours
    smoke = config.read(REPO / "config" / "smoke.yaml")
    del smoke["report"]  # the schema's defaults fill it in
    plan.check(config.validate(smoke))
    assert max(job.cpu_s + job.gpu_s for job in planned(paper).jobs) * plan.SAFETY / 3600 < plan.LIMITS["hours"]


@pytest.mark.parametrize("preset", ["config", "paper", "more3s-ablations"])
def test_the_stores_the_plan_prices_are_those_the_workflow_makes(preset: str) -> None:
    """What the algorithms' cost hooks ask to precompute is what the workflow's frames and features
    rules make, one job a store."""
    loaded = config.load(REPO / "config" / f"{preset}.yaml")
    jobs = plan.make(loaded).jobs
    for stage, grid in (("frames", config.frames_grid(loaded)), ("features", config.features_grid(loaded))):
        names = [job.name for job in jobs if job.stage == stage]
        assert sorted(names) == sorted(grid), stage


def test_the_plan_expands_the_grid_once(monkeypatch: pytest.MonkeyPatch) -> None:
    preset = config.load(REPO / "config" / "config.yaml")
    calls = []
    grid = config.grid
    monkeypatch.setattr(config, "grid", lambda *args: calls.append(args) or grid(*args))
    plan.make(preset)
    assert len(calls) == 1


def test_plan_py_prices_no_algorithm_by_its_name() -> None:
    """Outside the table of what was measured (keyed by the measured runs), plan.py names no
    algorithm: each declares its own cost (benchmark.cost)."""
    tree = ast.parse((REPO / "benchmark" / "plan.py").read_text())
    names = set(algorithms.ALGORITHMS)
    for node in tree.body:
        assigned = getattr(node, "targets", [getattr(node, "target", None)])
        targets = [target.id for target in assigned if isinstance(target, ast.Name)]
        if any(target in ("MEASURED", "ENV_STEP") or target.startswith("_") for target in targets):
            continue  # the measured entries and the sizes they were measured at
        strings = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not names & strings, (getattr(node, "name", targets), names & strings)


def test_every_shipped_algorithm_declares_its_cost_without_importing_its_class() -> None:
    """Each declaration names a light cost function (planning never imports torch: test_project)."""
    for name, declaration in algorithms.ALGORITHMS.items():
        assert declaration.cost is not None, name
        assert not declaration.cost.__module__.startswith(declaration.implementation.partition(":")[0]), name


@pytest.fixture
def declared() -> Iterator[Callable[[algorithms.Declaration], None]]:
    """Declare an algorithm for one test (the registry is the package's: left as found)."""
    names: list[str] = []

    def declare(declaration: algorithms.Declaration) -> None:
        algorithms.ALGORITHMS.register(declaration)
        names.append(declaration.name)

    yield declare
    for name in names:
        algorithms.ALGORITHMS.unregister(name)


def test_an_algorithm_without_a_cost_hook_is_priced_by_the_fallback_and_the_plan_says_so(
    declared: Callable[[algorithms.Declaration], None],
) -> None:
    # no `cost` declared; its class is never imported: planning reads the declaration only
    declared(algorithms.Declaration("uncosted", "nowhere:Uncosted", {"mujoco": BCMujoco()}))
    preset = read("config")
    preset["algorithms"]["uncosted"] = {}
    priced = planned(preset)
    jobs = {(job.stage, job.name): job for job in priced.jobs}
    uncosted, bc = (jobs["train", f"mujoco/hopper/medium/{name}/seed0"] for name in ("uncosted", "bc"))
    assert uncosted.cpu_s == bc.cpu_s and uncosted.mem_mb == bc.mem_mb  # the fallback: BC's network and costs
    assert priced.fallback == ["uncosted"]
    assert "Priced as fallback" in priced.markdown() and "uncosted" in priced.markdown().splitlines()[-1]
    assert "fallback" not in plan.make(config.load(REPO / "config" / "config.yaml")).markdown()


def test_a_cost_hook_naming_an_unmeasured_cost_is_one_line(declared: Callable[[algorithms.Declaration], None]) -> None:
    bc = algorithms.declared("bc")
    assert bc.cost is not None

    def unmeasured(env: Any, dataset: str, hyperparameters: Any, batch: int) -> Any:
        return dataclasses.replace(bc.cost(env, dataset, hyperparameters, batch), measured="never-measured")

    declared(dataclasses.replace(bc, name="unmeasured", cost=unmeasured))
    preset = read("config")
    preset["algorithms"]["unmeasured"] = {}
    with pytest.raises(
        BenchmarkError, match=r"algorithm unmeasured: its cost hook scales from 'train/\w+/never-measured'"
    ):
        planned(preset)
