"""The Snakemake workflow: lint-clean, bad presets stop before any job, new baselines plug in."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from conftest import REPO, copy_project, snakemake


def test_lint_is_clean() -> None:
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_preset_stops_before_any_job_with_one_line(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    preset = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    preset["suites"]["atari"]["envs"] = {"brekout": {"target_return": 90}}
    (project / "config" / "bad.yaml").write_text(yaml.safe_dump(preset))
    result = snakemake("--cores", "1", "all", "--configfile", "config/bad.yaml", cwd=project)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: config key 'suites.atari.envs.brekout': unknown atari env; allowed: breakout, pong, qbert, seaquest"
    ]
    assert not list(project.rglob("*.npy")) and not list(project.rglob("results"))  # no job ran


def readme_baseline_example() -> list[str]:
    """The code blocks of the README's "Adding a baseline": hyperparameters, declaration, module."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Adding a baseline", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_a_baseline_module_dropped_in_is_planned_by_the_grid(tmp_path: Path) -> None:
    """The README's IQL example, added where it says and named in a preset, is run."""
    project = copy_project(tmp_path)
    published, declaration, module = readme_baseline_example()
    for name, code in [("hyperparameters.py", published), ("__init__.py", declaration)]:
        path = project / "baselines" / name
        path.write_text(f"{path.read_text()}\n\n{code}")
    (project / "baselines" / "iql.py").write_text(module)
    preset = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    del preset["suites"]["atari"]
    preset["algorithms"] = {"bc": {}, "iql": {}}
    (project / "config" / "iql.yaml").write_text(yaml.safe_dump(preset))
    result = snakemake("-n", "all", "--configfile", "config/iql.yaml", cwd=project)
    assert result.returncode == 0, result.stderr[-2000:]
    planned = result.stdout
    for seed in (0, 1):
        assert f"results/runs/mujoco/hopper/mixed/iql/seed{seed}/metrics.json" in planned


def test_default_preset_plans_more3s_and_bc_pixels_off_medium_replay(tmp_path: Path) -> None:
    """Breakout expert x (BC, DT, MORE-3S), Hopper medium x (3 baselines + MORE-3S + its text-only
    ablation + bc-pixels), Hopper medium-replay x 3 baselines, x 3 seeds, each run diagnosed; one
    features cache per dataset and modality MORE-3S runs on and one of its held-out data, one
    frames store (bc-pixels' Hopper medium), a held-out dataset beside each dataset; no behaviour
    training (the datasets come from the scripted controller and the shipped ARS policies)."""
    result = snakemake("-n", "all", cwd=copy_project(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    assert int(counts["train"]) == (3 + 6 + 3) * 3
    assert int(counts["evaluate"]) == int(counts["diagnose"]) == int(counts["train"])
    assert int(counts["features"]) == 3 * 2 and int(counts["dataset"]) == 3 * 2 and int(counts["frames"]) == 1
    assert "behaviour" not in counts and "policy" not in counts


def test_the_policies_target_plans_one_ars_training_per_task(tmp_path: Path) -> None:
    result = snakemake("-n", "policies", cwd=copy_project(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    assert int(counts["policy"]) == 1
    assert "resources/policies/mujoco/hopper/policy.json" in result.stdout


def test_paper_preset_plans_the_full_paper_grid() -> None:
    """4 games x DQN-Replay 1% + 3 tasks x 3 D4RL datasets, x (3 baselines + MORE-3S + 8 ablations)
    x 3 seeds. Features caches per dataset: one shared by MORE-3S, rtg-token, rtg-none and memory,
    one each for image-only, text-only, random-init, paraphrases and leaky."""
    result = snakemake("-n", "all", "--configfile", "config/paper.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    assert int(counts["dataset"]) == 4 + 3 * 3
    assert int(counts["train"]) == (4 + 3 * 3) * 12 * 3
    assert int(counts["features"]) == (4 + 3 * 3) * 6
