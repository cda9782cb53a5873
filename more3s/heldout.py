"""MORE-3S teacher-forced on held-out data from a features cache of that data.

The diagnose stage (benchmark.diagnostics) plays every policy step by step on the held-out episodes;
MORE-3S's policy would encode each held-out frame live, as many times as there are runs. The
workflow instead encodes the held-out data once per encoder (`FeaturesSpec.held_out`: a cache beside
the training cache, by the same frozen encoder), and the prediction at each held-out step is the
model's on the window of K steps ending there (left-padded at the episode's start) with the
logged actions' texts and the true returns-to-go: what the step-by-step play feeds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark import io, paths
from benchmark.datasets import OfflineDataset
from benchmark.errors import BenchmarkError
from more3s import features
from more3s.encoder import FrozenEncoder
from more3s.windows import Windows

BATCH = 256  # held-out windows per forward pass


def same_encoder(train: Path, held_out: Path) -> None:
    """The held-out pairs must be encoded by the encoder the training pairs were."""
    ours, theirs = (FrozenEncoder.load(folder).model.state_dict() for folder in (train, held_out))
    if ours.keys() != theirs.keys() or any(not ours[k].equal(theirs[k]) for k in ours):
        raise BenchmarkError(f"{held_out}: its frozen encoder differs from the training features' ({train})")


def cached(train_folder: Path, held_out: OfflineDataset) -> features.Features | None:
    """The held-out data's features by the training cache's encoder, verified; None where the
    workflow made none (live features)."""
    train = features.FeaturesSpec.from_dict(io.read_json(train_folder / features.CARD)["spec"])
    spec = train.held_out(held_out.card["name"])
    if spec is None or not (spec.folder / paths.MANIFEST).exists():
        return None
    same_encoder(train_folder, spec.folder)
    return features.load(spec.folder, held_out)


class HeldOutWindows:
    """Every step of `held_out`'s complete episodes as the last step of its window."""

    def __init__(self, held_out: OfflineDataset, encoded: features.Features, windows: Windows):
        """`windows`: the training sampler over `held_out`."""
        ends = held_out.episode_ends()
        if len(ends) == 0:
            raise BenchmarkError(f"{held_out.card.get('name')}: held-out data has no complete episode")
        self.size = len(held_out.actions)
        self.rows = np.arange(ends[-1] + 1)
        self.windows = windows
        self.index, self.valid = windows.ending_at(self.rows)
        self.encoded = encoded

    @torch.no_grad()
    def predict(self, algorithm: Any, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """As `benchmark.diagnostics.teacher_forced`: the action at every row (continuous: the
        prediction; discrete: the action sampled from the softmax, with generator `seed`), and
        the action probabilities (discrete) or None; rows after the last complete episode are 0."""
        model, hp, device = algorithm.model, algorithm.hp, algorithm.device
        outputs = []
        model.eval()
        for begin in range(0, len(self.index), BATCH):
            part, valid = self.index[begin : begin + BATCH], self.valid[begin : begin + BATCH]
            encoded = torch.as_tensor(self.encoded.rows(part.ravel())).view(*part.shape, *self.encoded.shape[1:])
            returns = torch.as_tensor(self.windows.returns_to_go[part] * hp.return_scale)[..., None]
            out = model(
                model.fuse(encoded.to(device)),
                returns.to(device),
                torch.as_tensor(self.windows.timesteps[part], device=device),
                torch.as_tensor(valid, device=device),
            )
            outputs.append(out[:, -1].float().cpu())
        model.train()
        last = torch.cat(outputs)
        if not algorithm.spec.discrete:
            predicted = np.zeros((self.size, last.shape[-1]))
            predicted[self.rows] = last.numpy()
            return predicted, None
        probabilities = np.zeros((self.size, last.shape[-1]))
        probabilities[self.rows] = torch.softmax(last, dim=-1).numpy().astype(np.float64)
        rng = np.random.default_rng(seed)
        played = np.zeros(self.size)
        played[self.rows] = [rng.choice(len(p), p=p / p.sum()) for p in probabilities[self.rows]]
        return played, probabilities
