"""A tiny MORE-3S on random data: small enough for unit tests, same code paths as the grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from conftest import write_random_dataset

from benchmark import datasets, envs, paths
from benchmark.algorithms import Budget, get, hyperparameters
from benchmark.training import TrainLog
from more3s import features
from more3s.encoder import FrozenEncoder
from more3s.hyperparameters import features_spec
from more3s.model import ModelConfig

TINY = {
    "context_size": 4,
    "num_layers": 1,
    "num_heads": 2,
    "embed_size": 32,
    "gpt2_weights": "",
    "warmup_steps": 5,
    "dropout": 0.0,
    "encoder_hidden_size": 384,
    "encoder_language_layers": 1,
    "encoder_cross_layers": 1,
    "encoder_visual_layers": 1,
    "encoder_weights": "",
    "encoder_language_init": "minilm",
}

# a small model configuration for model-level tests
CONFIG = ModelConfig(
    encoded_tokens=56,
    encoded_width=8,
    embed_size=32,
    num_layers=2,
    num_heads=2,
    max_timestep=100,
    dropout=0.0,
    action_size=4,
    discrete=True,
    rtg_mode="attention",
    memory=False,
    memory_batches=20,
    memory_width=8,
    gpt2_weights="",
)


def spec_of(name: str = "more3s", suite: str = "atari", **overrides: Any) -> features.FeaturesSpec:
    """The features spec of `name` on the random dataset, TINY hyperparameters + `overrides`."""
    env = "breakout" if suite == "atari" else "hopper"
    return features_spec(suite, env, "random", hyperparameters(name, suite, {**TINY, **overrides}))


def random_dataset(suite: str = "atari", **kwargs: Any) -> datasets.OfflineDataset:
    """A random dataset where the features stage looks for it (run inside `in_tmp`)."""
    env = "breakout" if suite == "atari" else "hopper"
    return write_random_dataset(paths.dataset_dir(suite, env, "random"), suite, name="random", **kwargs)


def trained(
    name: str, suite: str = "atari", steps: int = 10, batch: int = 4, seed: int = 0, **overrides: Any
) -> tuple[Any, dict[str, Any]]:
    """Encode the random dataset (once per spec), then train `name` on it; checkpoints in ./ck/."""
    env = "breakout" if suite == "atari" else "hopper"
    hp = hyperparameters(name, suite, {**TINY, **overrides})
    cls = get(name)
    spec = features_spec(suite, env, "random", hp)
    if spec.frames is not None and not (spec.frames.folder / features.FRAMES_CARD).exists():
        features.build_frames(spec.frames)  # live MuJoCo features read drawn frames
    if not (spec.folder / features.CARD).exists():
        features.build(spec)
    budget = Budget(steps=steps, batch_size=batch, eval_every=steps)
    algorithm = cls(envs.EnvSpec.of(suite, env, envs.protocol_for(suite)), hp, seed)
    log_dir = Path("logs") / name
    log_dir.mkdir(parents=True, exist_ok=True)
    data = datasets.load(paths.dataset_dir(suite, env, "random"))
    log = TrainLog(log_dir / paths.TRAIN_LOG, lambda step: algorithm.save(Path("ck") / name / f"step{step}.pt"))
    algorithm.fit(data, budget, log_dir, log)
    return algorithm, hp


def lxmert_forward(encoder: FrozenEncoder, frames: np.ndarray, ids: np.ndarray, masks: np.ndarray) -> torch.Tensor:
    """`LxmertModel`'s own forward pass over the encoder's regions, nothing cached: the reference
    the encoder's per-text language cache must reproduce, (B, 56, H)."""
    regions, boxes = encoder.regions(frames)
    with torch.no_grad():
        out = encoder.model(
            input_ids=torch.as_tensor(ids),
            attention_mask=torch.as_tensor(masks),
            visual_feats=torch.as_tensor(regions),
            visual_pos=torch.as_tensor(boxes),
        )
    return torch.cat([out.language_output, out.vision_output], dim=1)
