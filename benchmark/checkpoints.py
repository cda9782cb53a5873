"""A run's checkpoint folder and the folders it reads: checkpoints.json (written by training, read
by evaluation and diagnostics), its verification against the manifests the run's config.json
recorded, and loading one checkpoint. Training, evaluation and diagnostics share it; none of them
imports another for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark import algorithms, compat, envs, io, manifest, paths
from benchmark.errors import BenchmarkError
from benchmark.specs import RunRecord, RunSpec

# checkpoints.json; its checkpoints' steps must be the run's budget's (benchmark.specs.Budget.checkpoints)
SCHEMA = {
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


def write(run: str, checkpoints: list[dict[str, Any]]) -> str:
    """checkpoints.json of the run's checkpoint folder, then the folder's manifest (its sha256)."""
    checkpoint_dir = paths.checkpoint_dir(run)
    io.write_json(checkpoint_dir / paths.CHECKPOINT_MANIFEST, {"run": run, "checkpoints": checkpoints})
    return manifest.write(checkpoint_dir)


def load_checkpoint(spec: RunSpec, path: Path, env_spec: envs.EnvSpec) -> Any:
    """The algorithm saved at `path` (its folder's manifest verified: `verified_checkpoints`)."""
    cls = algorithms.get(spec.key.algorithm)
    return cls.load(path, env_spec, spec.hyperparameters, spec.key.seed)


def verified_checkpoints(record: RunRecord) -> list[dict[str, Any]]:
    """Every checkpoint of the run, once every file the evaluation reads (the checkpoint folder,
    and an algorithm's cache) matches its manifest and each manifest is the one the run's
    config.json recorded; one line naming the file otherwise. Nothing is loaded before all are."""
    spec = record.spec
    checkpoint_dir = paths.checkpoint_dir(spec.run)
    reads = {"checkpoints": [paths.CHECKPOINT_MANIFEST], "features": [paths.FEATURES_CARD]}
    folders = {kind: folder for kind, folder in inputs(spec).items() if kind in reads}
    recorded = compat.manifests(record.manifests)
    for kind, folder in {"checkpoints": checkpoint_dir, **folders}.items():
        manifest.verify(folder, reads=reads[kind], recorded=recorded.get(kind))
    path = checkpoint_dir / paths.CHECKPOINT_MANIFEST
    listing = io.read_json(path)
    io.check_schema(path, listing, SCHEMA)
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
