"""Train -> evaluate -> score on tiny data: the run's files, exact and equal budgets, and same
seed twice = same numbers."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from conftest import write_random_dataset

from benchmark import algorithms, config, datasets, envs, evaluation, io, paths, scores, seeding, training
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import Budget, Evaluation, RunSpec
from more3s import features


def _run(workdir: Path, spec: RunSpec) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    os.chdir(workdir)
    write_random_dataset(spec.dataset.folder, spec.key.suite, name=spec.dataset.name)
    training.train(spec)
    evaluation.evaluate(spec.run)
    metrics = scores.score_run(spec.run)
    run_dir = paths.run_dir(spec.run)
    return pd.read_csv(run_dir / "train_log.csv"), pd.read_csv(run_dir / "eval.csv"), metrics


@pytest.mark.parametrize(("suite", "env", "algorithm"), [("atari", "breakout", "dt"), ("mujoco", "hopper", "cql")])
def test_same_seed_twice_gives_identical_numbers(
    smoke: Preset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suite: str, env: str, algorithm: str
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = config.run_spec(smoke, config.RunKey(suite, env, "mixed", algorithm, 0))
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


def test_run_files_follow_the_results_contract(smoke: Preset, in_tmp: Path) -> None:
    spec = config.run_spec(smoke, config.RunKey("mujoco", "hopper", "mixed", "bc", 1))
    spec = dataclasses.replace(
        spec,
        budget=dataclasses.replace(spec.budget, steps=25, eval_every=10),
        evaluation=Evaluation(episodes=2, final_episodes=3),
    )
    train_log, evaluations, metrics = _run(in_tmp, spec)
    recorded = io.read_json(paths.run_dir(spec.run) / "config.json")
    assert recorded["hyperparameters"] == spec.hyperparameters
    assert recorded["training"] == {"steps": 25, "batch_size": 16, "eval_every": 10}
    assert recorded["pretrained"] == "no" and recorded["inputs"] == "state"
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
def test_every_algorithm_trains_exactly_its_steps(smoke: Preset, in_tmp: Path, algorithm: str) -> None:
    """25 steps with eval_every 10: every algorithm trains 25 steps, with checkpoints at 10, 20, 25."""
    key = config.RunKey("atari", "breakout", "mixed", algorithm, 0)
    spec = config.run_spec(smoke, key)
    spec = dataclasses.replace(spec, budget=dataclasses.replace(spec.budget, steps=25, eval_every=10))
    write_random_dataset(spec.dataset.folder, "atari", name="mixed", episodes=3, length=30)
    cache = config.features_spec(smoke, key)
    if cache is not None:  # MORE-3S trains on its encoder's outputs
        features.build(cache)
    training.train(spec)
    train_log = pd.read_csv(paths.run_dir(spec.run) / "train_log.csv")
    assert list(train_log["train_step"]) == [10, 20, 25]
    assert list(train_log.columns[:2]) == ["train_step", "wall_s"] and len(train_log.columns) > 2  # + the losses
    manifest = io.read_json(paths.checkpoint_dir(spec.run) / "checkpoints.json")
    assert [c["train_step"] for c in manifest["checkpoints"]] == [10, 20, 25]
    assert all(Path(c["path"]).exists() for c in manifest["checkpoints"])


class _Counting:
    """An algorithm outside the d3rlpy glue: it only reports metrics; training writes the files."""

    pretrained = "no"
    inputs = "state"

    def __init__(self, spec: envs.EnvSpec, hyperparameters: dict[str, Any], seed: int):
        self.step = 0

    def fit(self, data: datasets.OfflineDataset, budget: Budget, run_dir: Path, log: Any) -> None:
        log.start()
        for step in budget.checkpoints:
            self.step = step
            log.checkpoint(step, {"loss": step / 100, "action_accuracy": 0.5})

    def save(self, path: Path) -> list[Path]:
        io.write_text(path, f"step {self.step}\n")  # what training saves is the state at that checkpoint
        return [path]


@pytest.fixture
def counting() -> Iterator[str]:
    """`_Counting` declared in the algorithm registry for one test."""
    algorithms.ALGORITHMS.register(algorithms.Declaration("counting", f"{__name__}:_Counting", {}))
    yield "counting"
    algorithms.ALGORITHMS.unregister("counting")  # the registry is the package's: leave it as found


def test_training_writes_the_train_log_from_what_the_algorithm_reports(
    smoke: Preset, in_tmp: Path, counting: str
) -> None:
    spec = config.run_spec(smoke, config.RunKey("mujoco", "hopper", "mixed", "bc", 0))
    spec = dataclasses.replace(
        spec,
        key=dataclasses.replace(spec.key, algorithm=counting),
        budget=Budget(steps=25, batch_size=4, eval_every=10),
        hyperparameters={},
    )
    write_random_dataset(spec.dataset.folder, "mujoco", name="mixed")
    training.train(spec)
    train_log = pd.read_csv(paths.run_dir(spec.run) / paths.TRAIN_LOG)
    assert list(train_log.columns) == ["train_step", "wall_s", "loss", "action_accuracy"]
    assert train_log[["train_step", "loss"]].values.tolist() == [[10, 0.1], [20, 0.2], [25, 0.25]]
    assert train_log["wall_s"].is_monotonic_increasing and (train_log["wall_s"] >= 0).all()
    manifest = io.read_json(paths.checkpoint_dir(spec.run) / paths.CHECKPOINT_MANIFEST)
    saved = [Path(c["path"]).read_text() for c in manifest["checkpoints"]]
    assert saved == ["step 10\n", "step 20\n", "step 25\n"]


def _fitted(name: str, spec: RunSpec, budget: Budget) -> Any:
    seeding.seed_everything(0, 1)
    env_spec = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari"))
    algorithm = algorithms.get(name)(env_spec, spec.hyperparameters, 0)
    log_dir = Path(f"logs-{budget.eval_every}")
    log_dir.mkdir()
    log = training.TrainLog(log_dir / "train_log.csv", lambda step: None)
    algorithm.fit(datasets.load(spec.dataset.folder), budget, log_dir, log)
    return algorithm


@pytest.mark.parametrize("algorithm", ["bc", "cql", "dt"])
def test_d3rlpy_training_in_checkpoint_intervals_is_one_continuous_training(
    smoke: Preset, in_tmp: Path, algorithm: str
) -> None:
    """The d3rlpy baselines train 25 steps with eval_every 10 as 2 epochs of 10 and one of 5: the
    same weights as one epoch of 25 (optimiser, learning-rate schedule and step count carry over)."""
    spec = config.run_spec(smoke, config.RunKey("atari", "breakout", "mixed", algorithm, 0))
    write_random_dataset(spec.dataset.folder, "atari", episodes=3, length=30)
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
