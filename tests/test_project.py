"""Promises of the repository itself: CI runs the README's test command; one set of pins."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import REPO


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", quick_start, re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    run_main, run_tests = readme_commands()[:2]
    assert "snakemake" in run_main and "pytest" in run_tests
    ci_lines = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert run_tests in ci_lines


def test_environment_yml_installs_the_pinned_project() -> None:
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11" and project["requires-python"] == ">=3.11,<3.12"
    pip = next(d for d in environment["dependencies"] if isinstance(d, dict))["pip"]
    assert pip == ["-e .[test]"]  # the pins come from pyproject.toml, nowhere else
    pins = project["dependencies"] + project["optional-dependencies"]["test"]
    assert all("==" in pin for pin in pins), [p for p in pins if "==" not in p]
    assert "torch==2.13.0" in pins  # the CPU wheel; a loose torch pulls a CUDA build
