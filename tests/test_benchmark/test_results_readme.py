"""The results README of a reference run (benchmark.results_readme)."""

from pathlib import Path

import pandas as pd
import pytest

from benchmark import results_readme, specs


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

    text = results_readme.make("cmd", 60.0, Path("results/scores.csv"), tmp_path / "none", tmp_path / "none")

    rows = [line for line in text.splitlines() if line.startswith("| dt | atari |") or line.startswith("| bc |")]
    assert "| dt | atari | context_size | 8 | 30 |" in rows
    assert "| dt | atari | warmup_tokens | 2560 | 10240 |" in rows
    assert "| dt | atari | learning_rate | 0.0006 | 0.0006 |" not in rows  # published: not listed
    assert not any(row.startswith("| bc |") for row in rows)
