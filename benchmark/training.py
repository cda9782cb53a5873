"""The train stage: one run = one algorithm on one dataset with one seed."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch

from benchmark import algorithms, datasets, device, envs, io, paths, provenance
from benchmark.algorithms import Budget
from benchmark.errors import BenchmarkError

log = logging.getLogger(__name__)
MANIFEST = "checkpoints.json"  # per run, in its checkpoint folder: every checkpoint's step, path and sha256


def seed_everything(seed: int, threads: int) -> None:
    """Same seed twice on CPU gives identical numbers (d3rlpy seeds python, numpy and torch)."""
    import d3rlpy

    torch.set_num_threads(threads)
    d3rlpy.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def environment_spec(spec: dict[str, Any]) -> envs.EnvSpec:
    suite, env = spec["key"]["suite"], spec["key"]["env"]
    return envs.EnvSpec.of(suite, env, envs.protocol_from_record(spec["protocol"]))


def budget_of(spec: dict[str, Any]) -> Budget:
    return Budget(**spec["training"])


def train(spec: dict[str, Any]) -> None:
    """Train one run; write its config.json and train_log.csv, and checkpoints + manifest."""
    key = spec["key"]
    run, seed = spec["run"], key["seed"]
    run_dir, checkpoint_dir = paths.run_dir(run), paths.checkpoint_dir(run)
    seed_everything(seed, spec["torch_threads"])
    env_spec = environment_spec(spec)
    data_spec = spec["dataset"]
    folder = paths.dataset_dir(data_spec["suite"], data_spec["env"], data_spec["name"])
    data = datasets.load(folder, env=env_spec, name=data_spec["name"])
    log.info("run %s: %d transitions, dataset sha256 %s", run, len(data.rewards), data.sha256)

    budget = budget_of(spec)
    algorithm = algorithms.get(key["algorithm"])(env_spec, spec["hyperparameters"], budget, seed)

    checkpoints: list[dict[str, Any]] = []
    started = time.time()

    def keep(step: int, trained: Any) -> None:
        path = checkpoint_dir / f"step{step:08d}.pt"
        files = trained.save(path)
        checkpoints.append(
            {
                "train_step": step,
                "path": str(path),
                "sha256": {file.name: datasets.sha256(file) for file in files},
                "wall_s": round(time.time() - started, 2),
            }
        )
        log.info("run %s: checkpoint at step %d (%.0f s)", run, step, time.time() - started)

    algorithm.fit(data, budget, run_dir, keep)
    # after fit: `pretrained` is only known once the algorithm has found (or not) its weights
    io.write_json(
        run_dir / "config.json",
        {
            **spec,
            "pretrained": algorithm.pretrained,
            "dataset_sha256": data.sha256,
            "dataset_transitions": data.card["transitions"],
            # the data's own quality, so that reports (made from results/ alone) can show it as a reference;
            # no normalised return where the card has none (DQN-Replay's clipped rewards are no game score)
            "behaviour": {
                "description": data.card.get("behaviour"),
                "episode_return_mean": data.card["episode_return"]["mean"],
                "normalized_return": data.card.get("behaviour_normalized_return"),
            },
            "provenance": provenance.record(),
            "execution": device.record(),
        },
    )
    io.write_json(checkpoint_dir / MANIFEST, {"run": run, "checkpoints": checkpoints})


def load_checkpoint(spec: dict[str, Any], path: Path, env_spec: envs.EnvSpec) -> Any:
    """The algorithm saved at `path`, once each of its files has the sha256 the run's checkpoint
    manifest recorded (one line naming the file otherwise)."""
    key = spec["key"]
    verify_checkpoint(paths.checkpoint_dir(spec["run"]) / MANIFEST, path)
    cls = algorithms.get(key["algorithm"])
    return cls.load(path, env_spec, spec["hyperparameters"], budget_of(spec), key["seed"])


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
