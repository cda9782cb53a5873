"""Train -> evaluate -> score on tiny data: the run's files, exact and equal budgets, and same
seed twice = same numbers."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from conftest import dataset_folder, write_random_dataset

from benchmark import algorithms, config, datasets, envs, evaluation, io, paths, scores, training
from benchmark.algorithms import Budget
from benchmark.errors import BenchmarkError
from more3s import features


def _run(workdir: Path, spec: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    os.chdir(workdir)
    write_random_dataset(dataset_folder(spec["dataset"]), spec["key"]["suite"], name=spec["dataset"]["name"])
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
    spec["training"].update(steps=25, eval_every=10)
    spec["evaluation"].update(episodes=2, final_episodes=3)
    train_log, evaluations, metrics = _run(in_tmp, spec)
    recorded = io.read_json(paths.run_dir(spec["run"]) / "config.json")
    assert recorded["hyperparameters"] == spec["hyperparameters"]
    assert recorded["pretrained"] == "no"
    assert recorded["execution"]["device"] == "cpu:0"  # no GPU given to the job
    assert recorded["dataset_sha256"] == metrics["dataset_sha256"]
    card = io.read_json(paths.dataset_dir("mujoco", "hopper", "mixed") / "dataset.json")
    assert recorded["dataset_transitions"] == card["transitions"] > 0
    assert list(evaluations.columns[:4]) == ["train_step", "episode", "return", "length"]
    assert list(train_log["train_step"]) == [10, 20, 25]  # eval_every 10, 25 steps: the last one too
    # episodes at every checkpoint, final_episodes at the last; scores see each checkpoint's own mean
    assert evaluations.groupby("train_step").size().to_dict() == {10: 2, 20: 2, 25: 3}
    means = evaluations.groupby("train_step")["return"].mean()
    assert (metrics["train_steps"], metrics["final_step"], metrics["episodes"]) == (25, 25, 3)
    assert metrics["raw_final"] == pytest.approx(means[25])
    assert metrics["raw_best"] == pytest.approx(means.max()) and metrics["best_step"] == means.idxmax()
    assert metrics["norm_final"] == pytest.approx(scores.normalizer("mujoco", "hopper")(metrics["raw_final"]))
    assert not Path("d3rlpy_logs").exists()  # d3rlpy logs into the run folder only


@pytest.mark.parametrize("algorithm", ["bc", "cql", "dt", "more3s"])
def test_every_algorithm_trains_exactly_its_steps(smoke_config: dict[str, Any], in_tmp: Path, algorithm: str) -> None:
    """25 steps with eval_every 10: every algorithm trains 25 steps, with checkpoints at 10, 20, 25."""
    key = config.RunKey("atari", "breakout", "mixed", algorithm, 0)
    spec = config.run_spec(smoke_config, key)
    spec["training"].update(steps=25, eval_every=10)
    write_random_dataset(dataset_folder(spec["dataset"]), "atari", name="mixed", episodes=3, length=30)
    cache = config.features_spec(smoke_config, key)
    if cache is not None:  # MORE-3S trains on its encoder's outputs
        features.build(cache)
    training.train(spec)
    train_log = pd.read_csv(paths.run_dir(spec["run"]) / "train_log.csv")
    assert list(train_log["train_step"]) == [10, 20, 25]
    manifest = io.read_json(paths.checkpoint_dir(spec["run"]) / "checkpoints.json")
    assert [c["train_step"] for c in manifest["checkpoints"]] == [10, 20, 25]
    assert all(Path(c["path"]).exists() for c in manifest["checkpoints"])


def _fitted(name: str, spec: dict[str, Any], budget: Budget) -> Any:
    training.seed_everything(0, 1)
    env_spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    algorithm = algorithms.get(name)(env_spec, spec["hyperparameters"], budget, 0)
    log_dir = Path(f"logs-{budget.eval_every}")
    log_dir.mkdir()
    algorithm.fit(datasets.load(dataset_folder(spec["dataset"])), budget, log_dir, lambda step, _: None)
    return algorithm


@pytest.mark.parametrize("algorithm", ["bc", "cql", "dt"])
def test_d3rlpy_training_in_checkpoint_intervals_is_one_continuous_training(
    smoke_config: dict[str, Any], in_tmp: Path, algorithm: str
) -> None:
    """The d3rlpy baselines train 25 steps with eval_every 10 as 2 epochs of 10 and one of 5: the
    same weights as one epoch of 25 (optimiser, learning-rate schedule and step count carry over)."""
    spec = config.run_spec(smoke_config, config.RunKey("atari", "breakout", "mixed", algorithm, 0))
    write_random_dataset(dataset_folder(spec["dataset"]), "atari", episodes=3, length=30)
    pieces = _fitted(algorithm, spec, Budget(steps=25, batch_size=8, eval_every=10))
    whole = _fitted(algorithm, spec, Budget(steps=25, batch_size=8, eval_every=25))
    assert pieces.algo.grad_step == whole.algo.grad_step == 25
    weights = [a.algo.impl.modules.get_torch_modules() for a in (pieces, whole)]
    assert weights[0].keys() == weights[1].keys()
    for name, module in weights[0].items():
        for (param, ours), theirs in zip(
            module.state_dict().items(), weights[1][name].state_dict().values(), strict=True
        ):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=0, msg=f"{name}.{param}")


def _invalid(smoke_config: dict[str, Any], change: Callable[[dict[str, Any]], None], match: str) -> None:
    preset = copy.deepcopy(smoke_config)
    change(preset["suites"]["atari"])
    with pytest.raises(BenchmarkError, match=match):
        config.validate(preset)


def test_the_validator_relates_checkpoints_to_steps(smoke_config: dict[str, Any]) -> None:
    config.validate(copy.deepcopy(smoke_config))
    _invalid(
        smoke_config,
        lambda suite: suite["training"].update(steps=25, eval_every=30),
        r"^config key 'suites\.atari\.training\.eval_every': 30 must be a positive integer <= steps \(25\)",
    )
    _invalid(
        smoke_config,
        lambda suite: suite["training"].update(eval_every=0),
        r"^config key 'suites\.atari\.training\.eval_every': 0 is less than the minimum of 1$",
    )
    _invalid(
        smoke_config,
        lambda suite: suite["training"].update(steps=20, eval_every=10, per_algorithm={"cql": {"steps": 5}}),
        r"^config key 'suites\.atari\.training\.per_algorithm\.cql\.eval_every': 10 must be .* <= steps \(5\)",
    )
    _invalid(
        smoke_config,
        lambda suite: suite["evaluation"].update(episodes=5, final_episodes=3),
        r"^config key 'suites\.atari\.evaluation\.final_episodes': 3 must be at least episodes \(5\)$",
    )
