"""What MORE-3S's caches depend on: the frozen encoder, the features folder and the frames store,
each a frozen spec whose fields name the folder (runs that encode alike share one).

Plain data, importable without torch or MuJoCo: the workflow plans the features and frames jobs
from them (benchmark.config), and more3s.features and more3s.encoder build what they name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmark import paths
from benchmark.errors import BenchmarkError
from more3s.render import GYMNASIUM_DEFAULT, RenderProtocol

STORAGES = ("cache", "live")
MODALITIES = ("image+text", "image", "text")


@dataclass(frozen=True)
class EncoderSpec:
    hidden_size: int  # H: width of both streams (768 in LXMERT base, 384 to take MiniLM's text layers)
    num_heads: int
    language_layers: int  # LXMERT base: 9
    cross_layers: int  # LXMERT base: 5
    visual_layers: int  # LXMERT base: 5
    weights: str  # a local directory or a hub id looked up in the HF cache only; "" = random init
    language_init: str  # "minilm": language embeddings + layers from all-MiniLM-L6-v2 when `weights` is not loaded
    seed: int  # seeds the random initialisation
    regions: str  # region extractor (more3s.regions)


@dataclass(frozen=True)
class FeaturesSpec:
    """Everything the cached outputs depend on; runs with equal specs share one cache."""

    suite: str
    env: str
    dataset: str
    encoder: EncoderSpec
    modality: str  # image+text | image (blank text) | text (zero regions)
    prompts: str  # canonical (phrasing 0) | paraphrases (a phrasing drawn per step)
    pairing: str  # previous (s_t with a_{t-1}) | leaky (s_t with a_t: the authors' training bug)
    render_size: int  # MuJoCo frames are rendered at this size (square)
    render: RenderProtocol | None = None  # MuJoCo: how states are drawn (None: the current protocol)
    storage: str = "cache"  # cache (encoder outputs stored once) | live (encoded during training)

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise BenchmarkError(f"features storage {self.storage!r} is not one of {', '.join(STORAGES)}")
        if self.suite != "mujoco":
            return
        if self.render is None:
            object.__setattr__(self, "render", RenderProtocol(size=self.render_size))
        elif self.render.size != self.render_size:
            raise BenchmarkError(
                f"features spec: render protocol size {self.render.size} differs from render_size {self.render_size}"
            )

    @property
    def id(self) -> str:
        # fields that do not apply (None: Atari's render protocol) or hold their first value
        # (storage: cache) stay out: caches made before those fields existed keep their ids
        record = {k: v for k, v in asdict(self).items() if v is not None and (k, v) != ("storage", "cache")}
        digest = hashlib.sha1(json.dumps(record, sort_keys=True).encode()).hexdigest()[:10]
        live = "-live" if self.storage == "live" else ""
        return f"{self.modality.replace('+', '-')}-{self.prompts}-{self.pairing}{live}-{digest}"

    @property
    def frames(self) -> FramesSpec | None:
        """The frames store live encoding reads (MuJoCo with an image), or None."""
        if self.storage != "live" or self.suite != "mujoco" or self.modality == "text":
            return None
        assert self.render is not None  # set for every MuJoCo spec
        return FramesSpec(self.env, self.dataset, self.render)

    @property
    def folder(self) -> Path:
        return paths.features_dir(self.suite, self.env, self.dataset, self.id)

    def held_out(self, dataset: str) -> FeaturesSpec | None:
        """The same encoding of held-out data `dataset` (the diagnose stage reads it: more3s.heldout),
        or None where the features are encoded live (nothing is cached to share)."""
        return replace(self, dataset=dataset) if self.storage == "cache" else None

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> FeaturesSpec:
        render = RenderProtocol(**record["render"]) if record.get("render") else None
        if render is None and record["suite"] == "mujoco":  # a card from before the protocol was recorded
            render = replace(GYMNASIUM_DEFAULT, size=record["render_size"])
        return cls(**{**record, "encoder": EncoderSpec(**record["encoder"]), "render": render})


@dataclass(frozen=True)
class FramesSpec:
    """Every state of a MuJoCo dataset drawn under one render protocol: what live encoding reads."""

    env: str
    dataset: str
    render: RenderProtocol

    @property
    def id(self) -> str:
        digest = hashlib.sha1(json.dumps(asdict(self.render), sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.render.name}-{self.render.size}-{digest}"

    @property
    def folder(self) -> Path:
        return paths.frames_dir("mujoco", self.env, self.dataset, self.id)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> FramesSpec:
        return cls(record["env"], record["dataset"], RenderProtocol(**record["render"]))
