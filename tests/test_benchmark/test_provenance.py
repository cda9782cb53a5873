import subprocess
from pathlib import Path

import pytest

from benchmark import provenance


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
