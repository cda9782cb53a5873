"""Promises of the repository itself: CI runs the README's test command; one set of pins; no import
cycle among the project's modules; checking, planning and reporting import no torch or gymnasium."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

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


# --- the import graph ----------------------------------------------------------------------------

PACKAGES = ("benchmark", "baselines", "more3s")


def project_modules() -> dict[str, Path]:
    """Module name -> file, for every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports anywhere in its code: inside functions and under
    TYPE_CHECKING too, since an import there is how a cycle hides."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"  # the project imports absolutely
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in modules else node.module for name in names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # `import a.b.c` of a package's attribute: its module
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first module repeated at its end), or None."""
    done: set[str] = set()
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in stack:
            return [*stack[stack.index(module) :], module]
        if module in done:
            return None
        stack.append(module)
        for target in sorted(graph[module]):
            cycle = visit(target)
            if cycle:
                return cycle
        stack.pop()
        done.add(module)
        return None

    return next((cycle for module in sorted(graph) if (cycle := visit(module))), None)


def test_the_import_graph_of_the_project_has_no_cycle() -> None:
    modules = project_modules()
    graph = {name: imported_modules(path, modules) - {name} for name, path in modules.items()}
    # the walker sees the edges that matter: the registries, the storage format's users
    assert "benchmark.sources" in graph["benchmark.dataset_stage"] and "benchmark.sources" in graph["benchmark.config"]
    assert "benchmark.datasets" in graph["benchmark.importers"] and "benchmark.sources" in graph["benchmark.importers"]
    assert import_cycle(graph) is None, " -> ".join(import_cycle(graph) or [])
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # and would see one
    # the storage format stands alone: no stage, source or behaviour behind it (its manifest neither)
    standalone = {"benchmark.io", "benchmark.paths", "benchmark.envs", "benchmark.errors", "benchmark.manifest"}
    assert graph["benchmark.datasets"] <= standalone
    assert graph["benchmark.manifest"] <= standalone


# --- light entry points --------------------------------------------------------------------------

HEAVY = ("torch", "gymnasium", "d3rlpy", "mujoco", "transformers")
LIGHT_ENTRY_POINTS = """
import json, sys
from benchmark.__main__ import main
from benchmark import algorithms, ars, behaviour, config, sources  # ars, behaviour: what the rules import
from benchmark.report import compare, published, stage

assert main(["check-config", "config/paper.yaml"]) == 0
assert main(["plan", "config/config.yaml", "--out", sys.argv[1]]) == 0
published.load()
heavy = lambda: sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:]))
found = {"registered": sorted(algorithms.ALGORITHMS), "heavy": heavy()}
sources.SOURCES.load("generated")  # a generator's implementation: the heavy part, loaded on use
found["after_loading"] = heavy()
print(json.dumps(found))
"""


def test_checking_planning_and_reporting_import_no_torch_or_gymnasium(tmp_path: Path) -> None:
    """The registries declare names and metadata; implementations (torch, gymnasium, d3rlpy) load
    only when a stage runs one. Snakemake's planning imports the same modules."""
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_ENTRY_POINTS, str(tmp_path / "plan.md"), *HEAVY],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert {"bc", "bc-pixels", "cql", "dt", "more3s", "more3s-text-only"} <= set(found["registered"])
    assert found["heavy"] == []
    assert "torch" in found["after_loading"]  # the check sees them once loaded
    assert (tmp_path / "plan.md").read_text().startswith("# Capacity plan: preset `default`")
