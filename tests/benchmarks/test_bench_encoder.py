"""Live encoding speed: MORE-3S's frozen encoder as evaluation calls it (one batch of BATCH
(frame, action text) pairs per step, Hopper texts of random actions, 84x84 frames), with the
language layers run once per distinct text (`FrozenEncoder.encode`, its per-text cache warm as
it gets during an episode) against `LxmertModel`'s own forward pass on the same inputs (every
text through the language layers at every call, as before the cache). The default preset's
encoder: 384 wide, MiniLM's embeddings and first 2 text layers, 1 cross-modal, 1 visual layer."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from more3s_helpers import lxmert_forward

from benchmark import config
from more3s import prompts
from more3s.encoder import FrozenEncoder
from more3s.hyperparameters import features_spec

pytestmark = pytest.mark.benchmark(group="encoder")

PRESET = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
BATCH = 10  # the default preset's final evaluation: 10 episodes side by side
CALLS = 40
ROUNDS = 3  # the fastest counts, for both


def test_live_encoder_pairs_per_s(benchmark: Any, record: Callable[..., None]) -> None:
    preset = config.load(PRESET)
    hp = config.run_spec(preset, config.RunKey("mujoco", "hopper", "medium", "more3s", 0)).hyperparameters
    encoder = FrozenEncoder.build(features_spec("mujoco", "hopper", "medium", hp).encoder, (84, 84, 3))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(CALLS, BATCH, 84, 84, 3), dtype=np.uint8)
    actions = rng.uniform(-1, 1, (CALLS, BATCH, 3))
    tokens = [prompts.tokenize([prompts.describe_continuous("hopper", a, 0) for a in batch]) for batch in actions]

    def uncached() -> list[torch.Tensor]:
        return [
            lxmert_forward(encoder, pixels, ids, masks) for pixels, (ids, masks) in zip(frames, tokens, strict=True)
        ]

    def cached() -> list[torch.Tensor]:
        return [encoder.encode(pixels, ids, masks) for pixels, (ids, masks) in zip(frames, tokens, strict=True)]

    reference = uncached()  # also warms both paths' kernels up
    cached()  # the per-text cache as warm as late in an episode
    seconds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        uncached()
        seconds.append(time.perf_counter() - started)
    outputs = benchmark.pedantic(cached, rounds=ROUNDS, iterations=1)
    assert all(torch.equal(a, b) for a, b in zip(outputs, reference, strict=True))  # one thread: no bit changes
    pairs = CALLS * BATCH
    with_cache, without = pairs / benchmark.stats.stats.min, pairs / min(seconds)
    record("pairs_per_s_with_text_cache", with_cache, "pairs/s")
    record("pairs_per_s_without_text_cache", without, "pairs/s")
    record("speedup_text_cache", with_cache / without, "x")
    record("distinct_texts", len(encoder.language_cache))
