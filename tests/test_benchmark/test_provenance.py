import subprocess
from pathlib import Path

import pandas as pd
import pytest

from benchmark import provenance, specs


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "scores.csv").write_text("a\n1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # the check covers the whole tree, wherever it runs from
    return tmp_path


def test_rewritten_results_leave_the_sha_clean(repo: Path) -> None:
    (repo / "results" / "scores.csv").write_text("a\n2\n")
    assert provenance.git_sha() == git(repo, "rev-parse", "HEAD")


def test_changed_code_marks_the_sha_dirty(repo: Path) -> None:
    (repo / "code.py").write_text("x = 2\n")
    assert provenance.git_sha() == git(repo, "rev-parse", "HEAD") + "-dirty"


def test_outside_git_the_sha_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_sha() == "unknown"


def test_results_readme_lists_every_hyperparameter_off_its_published_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the committed default run: DT on Breakout at the preset's size, BC at published values
    (on Hopper its hidden_units come back from config.json as a list, published as a tuple)."""
    committed = Path.cwd() / "results"
    runs = ["atari/breakout/expert/dt/seed0", "atari/breakout/expert/bc/seed0", "mujoco/hopper/medium/bc/seed0"]
    for run in runs:
        (tmp_path / "results/runs" / run).mkdir(parents=True)
        (tmp_path / "results/runs" / run / "config.json").write_bytes(
            (committed / "runs" / run / "config.json").read_bytes()
        )
    scores = pd.read_csv(committed / "scores.csv")
    keys = scores[["suite", "env", "dataset", "algorithm", "seed"]].itertuples(index=False)
    scores = scores[[specs.RunKey(*key).id in runs for key in keys]]
    assert len(scores) == 3
    scores.to_csv(tmp_path / "results/scores.csv", index=False)
    monkeypatch.chdir(tmp_path)

    text = provenance.results_readme("cmd", 60.0, Path("results/scores.csv"), tmp_path / "none", tmp_path / "none")

    rows = [line for line in text.splitlines() if line.startswith("| dt | atari |") or line.startswith("| bc |")]
    assert "| dt | atari | context_size | 8 | 30 |" in rows
    assert "| dt | atari | warmup_tokens | 2560 | 10240 |" in rows
    assert "| dt | atari | learning_rate | 0.0006 | 0.0006 |" not in rows  # published: not listed
    assert not any(row.startswith("| bc |") for row in rows)
