"""The train stage: one run = one algorithm on one dataset with one seed.

Training owns the run's files: config.json (the spec and what training found, written last),
train_log.csv (one row per checkpoint, from what the algorithm reports to its `TrainLog`), and in
the run's checkpoint folder the checkpoints, checkpoints.json and the folder's manifest. It first
verifies the manifest of every folder it reads (benchmark.manifest); config.json records them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from benchmark import algorithms, datasets, device, envs, io, manifest, paths, provenance
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


def inputs(spec: RunSpec) -> dict[str, Path]:
    """The artefact folders a run's training reads, by kind: its dataset and, for an algorithm with
    a cache (MORE-3S), the features folder and the frames store live encoding reads."""
    folders = {"dataset": spec.dataset.folder}
    features_spec = algorithms.declared(spec.key.algorithm).features
    if features_spec is not None:
        features = features_spec(spec.key.suite, spec.key.env, spec.key.dataset, spec.hyperparameters)
        folders["features"] = features.folder
        if features.frames is not None:
            folders["frames"] = features.frames.folder
    return folders


def train(spec: RunSpec) -> None:
    """Train one run; write its checkpoints, checkpoints.json and their manifest, train_log.csv and,
    last, config.json."""
    run, seed = spec.run, spec.key.seed
    run_dir, checkpoint_dir = paths.run_dir(run), paths.checkpoint_dir(run)
    # every file read, checked before any is read: a changed card or encoder is one line naming it
    manifests = {kind: manifest.verify(folder) for kind, folder in inputs(spec).items()}
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
    io.write_json(checkpoint_dir / paths.CHECKPOINT_MANIFEST, {"run": run, "checkpoints": checkpoints})
    manifests["checkpoints"] = manifest.write(checkpoint_dir)
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
        manifests=manifests,
    ).write(run_dir)


def load_checkpoint(spec: RunSpec, path: Path, env_spec: envs.EnvSpec) -> Any:
    """The algorithm saved at `path` (its folder's manifest verified: `verified_checkpoints`)."""
    cls = algorithms.get(spec.key.algorithm)
    return cls.load(path, env_spec, spec.hyperparameters, spec.key.seed)


# checkpoints.json; its checkpoints' steps must be the run's budget's (benchmark.specs.Budget.checkpoints)
CHECKPOINTS_SCHEMA = {
    "type": "object",
    "required": ["run", "checkpoints"],
    "properties": {
        "run": {"type": "string"},
        "checkpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["train_step", "path", "sha256", "wall_s"],
                "properties": {
                    "train_step": {"type": "integer", "minimum": 1},
                    "path": {"type": "string"},
                    "sha256": {"type": "object", "minProperties": 1},
                    "wall_s": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


def verified_checkpoints(record: RunRecord) -> list[dict[str, Any]]:
    """Every checkpoint of the run, once every file the evaluation reads (the checkpoint folder,
    and an algorithm's cache) matches its manifest and each manifest is the one the run's
    config.json recorded; one line naming the file otherwise. Nothing is loaded before all are."""
    spec = record.spec
    checkpoint_dir = paths.checkpoint_dir(spec.run)
    reads = {"checkpoints": [paths.CHECKPOINT_MANIFEST], "features": [paths.FEATURES_CARD]}
    folders = {kind: folder for kind, folder in inputs(spec).items() if kind in reads}
    recorded = record.manifests or {}
    for kind, folder in {"checkpoints": checkpoint_dir, **folders}.items():
        manifest.verify(folder, reads=reads[kind], recorded=recorded.get(kind))
    path = checkpoint_dir / paths.CHECKPOINT_MANIFEST
    listing = io.read_json(path)
    io.check_schema(path, listing, CHECKPOINTS_SCHEMA)
    checkpoints = listing["checkpoints"]
    steps = [checkpoint["train_step"] for checkpoint in checkpoints]
    if listing["run"] != spec.run or steps != spec.budget.checkpoints:
        raise BenchmarkError(
            f"{path}: checkpoints of {listing['run']} at steps {steps}, not of the run's budget "
            f"({spec.run} at {spec.budget.checkpoints})"
        )
    for i, checkpoint in enumerate(checkpoints):
        if Path(checkpoint["path"]).parent != checkpoint_dir:
            raise BenchmarkError(
                f"{path}: key 'checkpoints.{i}.path': {checkpoint['path']!r} is not in {checkpoint_dir}"
            )
        # each file of a checkpoint is one its folder's manifest lists (and verified above)
        manifest.verify(checkpoint_dir, reads=list(checkpoint["sha256"]))
    return checkpoints
