"""The train stage: one run = one algorithm on one dataset with one seed.

Training owns the run's files: config.json (the spec and what training found), train_log.csv
(one row per checkpoint, from what the algorithm reports to its `TrainLog`), and in the run's
checkpoint folder the checkpoints and their manifest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from benchmark import algorithms, datasets, device, envs, io, paths, provenance
from benchmark.errors import BenchmarkError
from benchmark.specs import RunRecord, RunSpec

log = logging.getLogger(__name__)


def seed_everything(seed: int, threads: int) -> None:
    """Same seed twice on CPU gives identical numbers (d3rlpy seeds python, numpy and torch)."""
    import d3rlpy

    torch.set_num_threads(threads)
    d3rlpy.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


class TrainLog:
    """The run's train_log.csv (benchmark.algorithms.TrainLog): at each checkpoint a row of the
    step, the wall time since training began and the algorithm's metrics, then `save(step)`."""

    def __init__(self, path: Path, save: Callable[[int], None]):
        self.path = path
        self.save = save
        self.rows: list[dict[str, Any]] = []
        self.started = time.time()

    def start(self) -> None:
        self.started = time.time()

    def checkpoint(self, step: int, metrics: Mapping[str, float]) -> None:
        self.rows.append({"train_step": step, "wall_s": round(time.time() - self.started, 2), **metrics})
        io.write_csv(self.path, pd.DataFrame(self.rows))  # whole at every checkpoint: a killed run keeps its rows
        self.save(step)


def train(spec: RunSpec) -> None:
    """Train one run; write its config.json and train_log.csv, and checkpoints + manifest."""
    run, seed = spec.run, spec.key.seed
    run_dir, checkpoint_dir = paths.run_dir(run), paths.checkpoint_dir(run)
    seed_everything(seed, spec.torch_threads)
    env_spec = spec.env_spec()
    data = datasets.load(spec.dataset.folder, env=env_spec, name=spec.dataset.name)
    log.info("run %s: %d transitions, dataset sha256 %s", run, len(data.rewards), data.sha256)

    algorithm = algorithms.get(spec.key.algorithm)(env_spec, spec.hyperparameters, seed)

    checkpoints: list[dict[str, Any]] = []
    started = time.time()

    def keep(step: int) -> None:
        path = checkpoint_dir / f"step{step:08d}.pt"
        files = algorithm.save(path)
        checkpoints.append(
            {
                "train_step": step,
                "path": str(path),
                "sha256": {file.name: datasets.sha256(file) for file in files},
                "wall_s": round(time.time() - started, 2),
            }
        )
        log.info("run %s: checkpoint at step %d (%.0f s)", run, step, time.time() - started)

    algorithm.fit(data, spec.budget, run_dir, TrainLog(run_dir / paths.TRAIN_LOG, keep))
    # after fit: `pretrained` is only known once the algorithm has found (or not) its weights
    RunRecord(
        spec=spec,
        pretrained=algorithm.pretrained,
        dataset_sha256=data.sha256,
        dataset_transitions=data.card["transitions"],
        # no normalised return where the card has none (DQN-Replay's clipped rewards are no game score)
        behaviour={
            "description": data.card.get("behaviour"),
            "episode_return_mean": data.card["episode_return"]["mean"],
            "normalized_return": data.card.get("behaviour_normalized_return"),
        },
        provenance=provenance.record(),
        execution=device.record(),
        inputs=algorithm.inputs,
    ).write(run_dir)
    io.write_json(checkpoint_dir / paths.CHECKPOINT_MANIFEST, {"run": run, "checkpoints": checkpoints})


def load_checkpoint(spec: RunSpec, path: Path, env_spec: envs.EnvSpec) -> Any:
    """The algorithm saved at `path`, once each of its files has the sha256 the run's checkpoint
    manifest recorded (one line naming the file otherwise)."""
    verify_checkpoint(paths.checkpoint_dir(spec.run) / paths.CHECKPOINT_MANIFEST, path)
    cls = algorithms.get(spec.key.algorithm)
    return cls.load(path, env_spec, spec.hyperparameters, spec.key.seed)


def verify_checkpoint(manifest_path: Path, path: Path) -> None:
    manifest = io.read_json(manifest_path)
    entries = [c for c in manifest.get("checkpoints", []) if Path(c.get("path", "")) == path]
    if not entries or not isinstance(entries[0].get("sha256"), dict):
        raise BenchmarkError(
            f"{manifest_path}: no sha256 recorded for {path} (a manifest from before checkpoints were hashed, "
            "or a damaged one); train the run again"
        )
    for name, expected in entries[0]["sha256"].items():
        file = path.parent / name
        if not file.is_file():
            raise BenchmarkError(f"{file}: checkpoint file missing")
        datasets.verify_sha256(file, expected, what="checkpoint manifest")
