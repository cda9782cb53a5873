"""The train stage: one run = one algorithm on one dataset with one seed.

Training owns the run's files: config.json (the spec and what training found, written last),
train_log.csv (one row per checkpoint, from what the algorithm reports to its `TrainLog`), and in
the run's checkpoint folder the checkpoints, checkpoints.json and the folder's manifest
(benchmark.checkpoints). It first verifies the manifest of every folder it reads
(benchmark.manifest); config.json records them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark import algorithms, checkpoints, datasets, device, io, manifest, paths, provenance
from benchmark.seeding import seed_everything
from benchmark.specs import RunRecord, RunSpec

log = logging.getLogger(__name__)


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
    """Train one run; write its checkpoints, checkpoints.json and their manifest, train_log.csv and,
    last, config.json."""
    run, seed = spec.run, spec.key.seed
    run_dir, checkpoint_dir = paths.run_dir(run), paths.checkpoint_dir(run)
    # every file read, checked before any is read: a changed card or encoder is one line naming it
    manifests = {kind: manifest.verify(folder) for kind, folder in checkpoints.inputs(spec).items()}
    seed_everything(seed, spec.torch_threads)
    env_spec = spec.env_spec()
    data = datasets.load(spec.dataset.folder, env=env_spec, name=spec.dataset.name)
    log.info("run %s: %d transitions, dataset sha256 %s", run, len(data.rewards), data.sha256)

    algorithm = algorithms.get(spec.key.algorithm)(env_spec, spec.hyperparameters, seed)

    kept: list[dict[str, Any]] = []
    started = time.time()

    def keep(step: int) -> None:
        path = checkpoint_dir / f"step{step:08d}.pt"
        files = algorithm.save(path)
        kept.append(
            {
                "train_step": step,
                "path": str(path),
                "sha256": {file.name: manifest.sha256(file) for file in files},
                "wall_s": round(time.time() - started, 2),
            }
        )
        log.info("run %s: checkpoint at step %d (%.0f s)", run, step, time.time() - started)

    algorithm.fit(data, spec.budget, run_dir, TrainLog(run_dir / paths.TRAIN_LOG, keep))
    manifests["checkpoints"] = checkpoints.write(run, kept)
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
