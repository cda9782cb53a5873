"""workflow/scripts/gpu-check.sh where torch sees no GPU (one line, exit 0), and the comparison it
ends with (workflow/scripts/gpu_check.py) on made-up runs: the check itself needs a GPU, its
verdicts can be checked anywhere."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from conftest import REPO

SCRIPTS = REPO / "workflow" / "scripts"
GPU = "NVIDIA H200"
DT = "atari/breakout/mixed/dt/seed0"
CQL = "mujoco/hopper/mixed/cql/seed1"


@pytest.fixture(scope="module")
def helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPTS / "gpu_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_the_check_skips_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHON": sys.executable, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(SCRIPTS / "gpu-check.sh")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, done.stdout
    assert done.stdout.startswith("gpu-check: skipped: torch ") and "sees no CUDA device" in done.stdout
    assert not list(tmp_path.glob("gpu-check.*"))  # no project copy made


def write_run(workdir: Path, run: str, device: str, losses: dict[str, float], gpu: str | None = None) -> None:
    """A run folder as training leaves it: config.json's `execution` and a two-row train_log.csv
    (the second row far off: only the first is compared)."""
    folder = workdir / "results" / "runs" / run
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"execution": {"device": device, "gpu": gpu}}))
    rows = [
        {"train_step": 10, "wall_s": 1.5, **losses, "time_step": 0.01},
        {"train_step": 20, "wall_s": 3.0, **{name: 100 * value + 7 for name, value in losses.items()}},
    ]
    pd.DataFrame(rows).to_csv(folder / "train_log.csv", index=False)


def test_runs_on_the_gpu_with_close_losses_pass(helper: ModuleType, tmp_path: Path) -> None:
    gpu, cpu = tmp_path / "gpu", tmp_path / "cpu"
    write_run(cpu, DT, "cpu:0", {"loss": 1.386})
    write_run(gpu, DT, "cuda:0", {"loss": 1.386 * 1.05}, GPU)  # 5% off: within 10%
    write_run(cpu, CQL, "cpu:0", {"critic_loss": 40.0, "temp_loss": 0.0})
    write_run(gpu, CQL, "cuda:0", {"critic_loss": 42.0, "temp_loss": 0.015}, GPU)  # near 0: the absolute floor
    lines, failures = helper.check(gpu, cpu)
    assert failures == []
    assert [line.split(" ")[0] for line in lines] == [DT, CQL] and all(f"({GPU})" in line for line in lines)
    assert helper.main(["compare", str(gpu), str(cpu)]) == 0


def test_each_failure_is_named(helper: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gpu, cpu = tmp_path / "gpu", tmp_path / "cpu"
    write_run(cpu, DT, "cpu:0", {"loss": 1.386})
    write_run(gpu, DT, "cuda:0", {"loss": 1.386 * 1.2}, GPU)  # 20% off
    write_run(cpu, CQL, "cpu:0", {"critic_loss": 40.0})
    write_run(gpu, CQL, "cpu:0", {"critic_loss": float("nan")})  # trained on the CPU, and diverged
    write_run(cpu, "atari/breakout/mixed/bc/seed0", "cpu:0", {"loss": 0.7})  # no GPU run of it
    _, failures = helper.check(gpu, cpu)
    assert any(f.startswith("runs differ") and "bc/seed0" in f for f in failures)
    assert any(f.startswith(f"{DT}: loss 1.6632 on the GPU, 1.386 on the CPU") for f in failures)
    assert any(f.startswith(f"{CQL}: the GPU run recorded device 'cpu:0'") for f in failures)
    assert any(f.startswith(f"{CQL}: critic_loss nan on the GPU") for f in failures)
    assert len(failures) == 4
    assert helper.main(["compare", str(gpu), str(cpu)]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("gpu-check: FAIL: 2 runs")
