"""experiments/budget_curve.py: its held-out error is the diagnose stage's, its fit finds a power
law and refuses an unreachable target, its report reads the baselines from the diagnostics table."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from more3s_helpers import random_dataset, spec_of, trained

from benchmark import datasets, diagnostics, envs, paths
from more3s import features

REPO = Path(__file__).resolve().parents[2]


def _study() -> ModuleType:
    spec = importlib.util.spec_from_file_location("budget_curve", REPO / "experiments" / "budget_curve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["budget_curve"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


budget_curve = _study()


@pytest.mark.parametrize("suite", ["atari", "mujoco"])
def test_held_out_error_is_the_diagnose_stages(in_tmp: Path, suite: str) -> None:
    """Measured on the held-out episodes' steps as the diagnose stage measures MORE-3S (the
    stage's own cached teacher forcing: tests/test_more3s/test_heldout.py)."""
    data = random_dataset(suite, episodes=3, length=12)
    algorithm, _ = trained("more3s", suite, steps=20)
    env_spec = envs.EnvSpec.of(suite, data.card["env"], envs.protocol_for(suite))
    held_out = datasets.load(paths.dataset_dir(suite, data.card["env"], "random"), env=env_spec, name="random")
    measured = budget_curve.HeldOutError(
        held_out, features.load(spec_of("more3s", suite).folder, held_out), context=algorithm.hp.context_size, seed=0
    )(algorithm)
    stage = diagnostics.action_error(*algorithm.teacher_forced(held_out)[:1], held_out.actions)
    if suite == "mujoco":
        assert measured["held_out_mse"] == pytest.approx(stage["mse_per_dim"], rel=1e-9)
    else:  # the same draws: the stage samples with the run's seed, 0 here
        assert measured["held_out_accuracy"] == pytest.approx(stage["accuracy"], rel=1e-9)


def test_the_fit_recovers_a_power_law_and_refuses_a_target_below_its_floor() -> None:
    steps = np.array([250, 500, 1000, 2000, 4000, 8000, 16000], float)
    curve = pd.DataFrame({"train_step": steps, "error": budget_curve.power_law(steps, 0.01, 0.5, 0.6)})
    found = budget_curve.fit(curve, "error")
    assert found is not None
    np.testing.assert_allclose(found, (0.01, 0.5, 0.6), rtol=0.05)
    reach = budget_curve.crossing(found, 0.012)
    assert reach == pytest.approx((0.5 / 0.002) ** (1 / 0.6), rel=0.1)
    assert budget_curve.crossing(found, 0.009) is None  # below the floor: never, by this fit


def _diagnostics_table(path: Path) -> Path:
    rows = [
        ("mujoco", "hopper", "medium", "bc", 0.011, np.nan),
        ("mujoco", "hopper", "medium", "bc-pixels", 0.014, np.nan),
        ("mujoco", "hopper", "medium", "more3s", 0.016, np.nan),
        ("mujoco", "hopper", "medium", "reference: noise_floor", 0.0095, np.nan),
        ("atari", "breakout", "expert", "bc", np.nan, 0.7),
        ("atari", "breakout", "expert", "more3s", np.nan, 0.5),
    ]
    columns = ["suite", "env", "dataset", "algorithm", "held_out_mse_mean", "held_out_accuracy_mean"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_targets_are_the_best_pixel_control_and_state_baseline_not_more3s_or_references(tmp_path: Path) -> None:
    table = pd.read_csv(_diagnostics_table(tmp_path / "diagnostics.csv"))
    assert budget_curve.targets(table, "mujoco/hopper/medium", "held_out_mse") == {
        "best pixel control": 0.014,
        "best state baseline": 0.011,
    }
    assert budget_curve.targets(table, "atari/breakout/expert", "held_out_accuracy") == {
        "best pixel control": pytest.approx(0.3)  # an error rate: 1 - BC's accuracy
    }


def test_the_report_estimates_from_the_curves_and_the_diagnostics_table_alone(tmp_path: Path) -> None:
    (tmp_path / budget_curve.CURVES_DIR).mkdir()
    steps = np.arange(1, 9) * 1000
    error = budget_curve.power_law(steps.astype(float), 0.012, 1.0, 0.7)
    pd.DataFrame(
        {
            "curve": "mujoco/hopper/medium:standardized:8",
            "task": "mujoco/hopper/medium",
            "standardize": True,
            "sequences": 8,
            "train_step": steps,
            "sequences_seen": steps * 8,
            "held_out_mse": error,
            "wall_s": steps / 10,
            "device": "cpu",
        }
    ).to_csv(budget_curve.curve_file(tmp_path, "mujoco/hopper/medium:standardized:8"), index=False)
    study = budget_curve.Study(out=tmp_path, diagnostics=_diagnostics_table(tmp_path / "diagnostics.csv"))
    budget_curve.report(study)
    summary = (tmp_path / "summary.md").read_text()
    pixel_row = next(line for line in summary.splitlines() if "best pixel control" in line)
    state_row = next(line for line in summary.splitlines() if "best state baseline" in line)
    assert "~" in pixel_row  # 0.014 lies above the floor 0.012: reached, an estimate
    # the law reaches 0.014 at (1 / 0.002) ** (1 / 0.7) ~ 7179 steps: within the 8000 measured
    assert "~7,1" in pixel_row and "sequences; 0.9x the last step measured)" in pixel_row
    assert state_row.endswith("| not reached |")  # 0.011 lies below it
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_an_unknown_curve_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert budget_curve.main(["--curve", "mujoco/hopper/medium:raw:7", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_plan_prices_each_curve_and_more_sequences_cost_more() -> None:
    study = budget_curve.Study(preset=REPO / "config" / "config.yaml")
    few, many = (budget_curve.Curve("mujoco/hopper/medium", True, sequences, 1000, 500) for sequences in (8, 64))
    (few_cpu, few_gpu), (many_cpu, many_gpu) = budget_curve.planned(study, few), budget_curve.planned(study, many)
    assert 0 < few_gpu < few_cpu and 0 < many_gpu < many_cpu and many_cpu > 4 * few_cpu
    table = budget_curve.plan_table(study, [few, many])
    assert table.count("\n") == 4 and "**total**" in table


def test_without_a_gpu_the_gpu_script_skips_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(REPO / "workflow" / "scripts" / "budget-curve-gpu.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("budget-curve-gpu: skipped: torch ") and done.stdout.count("\n") == 1
    assert not (REPO / "experiments" / "budget-curve-gpu").exists()
