"""Train -> evaluate -> score on tiny data: the run's files, and same seed twice = same numbers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import dataset_folder, write_random_dataset

from benchmark import config, evaluation, io, paths, scores, training


def _run(workdir: Path, spec: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    os.chdir(workdir)
    write_random_dataset(dataset_folder(spec["dataset"]), spec["key"]["suite"])
    training.train(spec)
    evaluation.evaluate(spec["run"])
    metrics = scores.score_run(spec["run"])
    run_dir = paths.run_dir(spec["run"])
    return pd.read_csv(run_dir / "train_log.csv"), pd.read_csv(run_dir / "eval.csv"), metrics


@pytest.mark.parametrize(("suite", "env", "algorithm"), [("atari", "breakout", "dt"), ("mujoco", "hopper", "cql")])
def test_same_seed_twice_gives_identical_numbers(
    smoke_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suite: str, env: str, algorithm: str
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = config.run_spec(smoke_config, config.RunKey(suite, env, "mixed", algorithm, 0))
    runs = []
    for attempt in ("first", "second"):
        (tmp_path / attempt).mkdir()
        runs.append(_run(tmp_path / attempt, spec))
    (log_a, eval_a, metrics_a), (log_b, eval_b, metrics_b) = runs
    losses = [c for c in log_a.columns if c == "loss" or c.endswith("_loss")]
    assert losses, log_a.columns
    pd.testing.assert_frame_equal(log_a[["train_step", *losses]], log_b[["train_step", *losses]])
    pd.testing.assert_frame_equal(
        eval_a[["train_step", "episode", "return", "length"]], eval_b[["train_step", "episode", "return", "length"]]
    )
    assert metrics_a["raw_final"] == metrics_b["raw_final"]


def test_run_files_follow_the_results_contract(smoke_config: dict[str, Any], in_tmp: Path) -> None:
    spec = config.run_spec(smoke_config, config.RunKey("mujoco", "hopper", "mixed", "bc", 1))
    train_log, evaluations, metrics = _run(in_tmp, spec)
    recorded = io.read_json(paths.run_dir(spec["run"]) / "config.json")
    assert recorded["hyperparameters"] == spec["hyperparameters"]
    assert recorded["pretrained"] == "no"
    assert recorded["execution"]["device"] == "cpu:0"  # no GPU given to the job
    assert recorded["dataset_sha256"] == metrics["dataset_sha256"]
    card = io.read_json(paths.dataset_dir("mujoco", "hopper", "mixed") / "dataset.json")
    assert recorded["dataset_transitions"] == card["transitions"] > 0
    assert list(evaluations.columns[:4]) == ["train_step", "episode", "return", "length"]
    assert sorted(evaluations["train_step"].unique()) == [10, 20]  # eval_every 10, 20 steps
    assert list(train_log["train_step"]) == [10, 20]
    assert metrics["raw_best"] >= metrics["raw_final"]
    assert metrics["norm_final"] == pytest.approx(scores.normalizer("mujoco", "hopper")(metrics["raw_final"]))
    assert not Path("d3rlpy_logs").exists()  # d3rlpy logs into the run folder only
