"""Which input MORE-3S leans on: its prediction on held-out windows when the frames, or the texts,
come from other windows.

Each MORE-3S token fuses a frame with the text of the previous action. On data whose actions are
strongly autocorrelated (Hopper's lag-1 correlation is 0.57-0.96 per joint), that text alone
predicts the next action well in teacher-forced training, and a model can fit it while ignoring
the frames; in closed loop it then has no feedback from the state. Swapping each window's frames
(texts kept) or its texts (frames kept) for those of another window, and measuring how far the
prediction at the window's last step moves, says which input the model uses: a text-only model
cannot move with the frames, an image-only one cannot move with the texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from benchmark import config, io
from benchmark.datasets import OfflineDataset
from more3s import features, prompts
from more3s.encoder import FrozenEncoder


@torch.no_grad()
def swap_sensitivity(algorithm: Any, data: OfflineDataset, sampled: Any, seed: int = 0) -> dict[str, Any]:
    """For the trained MORE-3S `algorithm` on held-out `data`, over config.SWAP_WINDOWS windows drawn by
    `sampled` (the training sampler, more3s.windows.Windows, over `data`): the prediction's change
    when each window's frames or texts are another window's (continuous: squared change per action
    dimension; discrete: total-variation distance of the action distributions), and its error
    against the logged action in each case (MSE per dimension, or cross-entropy in nats)."""
    model, hp = algorithm.model.eval(), algorithm.hp
    spec = features.FeaturesSpec.from_dict(io.read_json(algorithm.features_folder / features.CARD)["spec"])
    encoder = FrozenEncoder.load(algorithm.features_folder)
    rng = np.random.default_rng(seed)
    windows = config.SWAP_WINDOWS
    index, valid = sampled.sample(windows)
    others = (np.arange(windows) + rng.integers(1, windows)) % windows  # every window gets another's
    texts = features.step_texts(data, features.ActionTexts(spec, algorithm.spec.action_meanings, seed), spec.pairing)
    token_ids, masks = prompts.tokenize([texts[i] for i in index.ravel()])
    to_frames = features.frames_of(spec)
    frames = to_frames(np.asarray(data.observations)[index.ravel()])
    if hasattr(to_frames, "close"):
        to_frames.close()
    returns = torch.as_tensor(sampled.returns_to_go[index] * hp.return_scale)[..., None]
    timesteps, valid_t = torch.as_tensor(sampled.timesteps[index]), torch.as_tensor(valid)
    own = np.arange(index.size).reshape(index.shape)
    swapped = own[others]

    def predict(frame_rows: np.ndarray, text_rows: np.ndarray) -> torch.Tensor:
        encoded = encoder.encode(
            frames[frame_rows.ravel()],
            token_ids[text_rows.ravel()],
            masks[text_rows.ravel()],
            image=spec.modality != "text",
        )
        tokens = model.fuse(encoded.view(*index.shape, *encoded.shape[1:]))
        return model(tokens, returns, timesteps, valid_t)[:, -1]

    logged = np.asarray(data.actions)[index[:, -1]]
    predictions = {"none": predict(own, own), "frames": predict(swapped, own), "texts": predict(own, swapped)}
    if algorithm.spec.discrete:
        probabilities = {k: torch.softmax(v, -1).numpy().astype(np.float64) for k, v in predictions.items()}
        change = {k: float(0.5 * np.abs(p - probabilities["none"]).sum(-1).mean()) for k, p in probabilities.items()}
        chosen = logged.astype(np.int64)
        error = {
            k: float(-np.log(np.maximum(p[np.arange(windows), chosen], 1e-12)).mean()) for k, p in probabilities.items()
        }
    else:
        values = {k: v.numpy().astype(np.float64) for k, v in predictions.items()}
        change = {k: float(np.square(v - values["none"]).mean()) for k, v in values.items()}
        error = {k: float(np.square(v - logged).mean()) for k, v in values.items()}
    return {
        "windows": windows,
        "unit": "total variation, cross-entropy" if algorithm.spec.discrete else "MSE per action dimension",
        "error": error["none"],
        "frame_swap_change": change["frames"],
        "frame_swap_error": error["frames"],
        "text_swap_change": change["texts"],
        "text_swap_error": error["texts"],
    }
