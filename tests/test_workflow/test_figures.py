"""`snakemake figures` on a fresh copy holding results/ but no datasets, checkpoints or Snakemake
metadata: every table and figure rebuilt from results/ alone, byte-identical to the committed
tables, no other job; then `snakemake --report` with every caption and the provenance."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, copy_project, snakemake

from benchmark import paths

TEXT = (".csv", ".md", ".tex")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    project = copy_project(tmp_path_factory.mktemp("clone"))
    shutil.copytree(REPO / "results", project / "results")
    for folder in (paths.TABLES, paths.FIGURES):
        shutil.rmtree(project / folder)
    return project, snakemake("--cores", "1", "figures", cwd=project, timeout=900)


def test_figures_rebuilds_every_table_and_figure_from_results_alone(
    rebuilt: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    project, result = rebuilt
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stderr, re.M))
    assert jobs == {"figures": "1", "total": "1"}  # no dataset, train, evaluate, score or aggregate job
    assert not (project / paths.RESOURCES).exists()
    for path in paths.report_outputs():
        assert (project / path).stat().st_size > 0, path
        if path.suffix in TEXT:
            assert (project / path).read_bytes() == (REPO / path).read_bytes(), f"{path} differs from the committed one"


def test_html_report_captions_every_figure_and_table_and_carries_provenance(
    rebuilt: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    project, _ = rebuilt
    result = snakemake("--report", "results/report.html", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    html = (project / "results" / "report.html").read_text()
    captions = sorted((REPO / "workflow" / "report").glob("*/*.rst"))
    assert {c.stem for c in captions if c.parent.name == "figures"} == set(paths.Figure)
    assert {c.stem for c in captions if c.parent.name == "tables"} == set(paths.Table)
    for caption in captions:
        assert caption.read_text().splitlines()[0] in html, caption
    embedded = re.search(r"provenance\.csv;base64,([A-Za-z0-9+/=]+)", html).group(1)
    provenance = base64.b64decode(embedded).decode()
    for sha in pd.read_csv(project / paths.SCORES)["dataset_sha256"].unique():
        assert sha in provenance
    assert "torch 2.13.0" in provenance
    assert "&quot;bootstrap_reps&quot;" in html  # the preset's configuration (workflow/report/workflow.rst)
