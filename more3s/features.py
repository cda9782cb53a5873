"""Encode once: the frozen encoder's outputs for every (frame, action text) pair of a dataset.

LXMERT never trains, so its outputs are computed once per dataset by the workflow's `features`
stage and stored as one fp16 array (N, 20 + 36, H), memory-mapped by training: every seed and
every ablation that shares the encoder inputs reads the same file, and training never runs the
encoder. The folder also keeps the encoder's weights (evaluation encodes live frames with exactly
this encoder), the per-step text index and a card with sizes, throughput and the weights' record.
MuJoCo states are drawn under the spec's render protocol, part of the cache's key and card:
evaluation draws live states under the protocol of the card.

Pairing, without the authors' label leak: frame s_t goes with the text of the previous action
a_{t-1} (NO_ACTION at t = 0) in training and evaluation alike. `pairing: leaky` reproduces the
authors' training pairing (s_t with a_t, the action being predicted) as a diagnostic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmark import datasets, envs, io, paths
from benchmark.device import torch_device
from benchmark.errors import BenchmarkError
from more3s import prompts
from more3s.encoder import EncoderSpec, FrozenEncoder
from more3s.render import GYMNASIUM_DEFAULT, RenderProtocol, StateRenderer

log = logging.getLogger(__name__)

CARD = "features.json"
PARAPHRASES = 3  # phrasings per action in the `paraphrases` prompt set
MODALITIES = ("image+text", "image", "text")
BATCH = 128  # pairs per encoder call


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

    def __post_init__(self) -> None:
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
        # fields that do not apply (None: Atari's render protocol) stay out: Atari caches keep their ids
        record = {k: v for k, v in asdict(self).items() if v is not None}
        digest = hashlib.sha1(json.dumps(record, sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.modality.replace('+', '-')}-{self.prompts}-{self.pairing}-{digest}"

    @property
    def folder(self) -> Path:
        return paths.features_dir(self.suite, self.env, self.dataset, self.id)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> FeaturesSpec:
        render = RenderProtocol(**record["render"]) if record.get("render") else None
        if render is None and record["suite"] == "mujoco":  # a card from before the protocol was recorded
            render = replace(GYMNASIUM_DEFAULT, size=record["render_size"])
        return cls(**{**record, "encoder": EncoderSpec(**record["encoder"]), "render": render})


class ActionTexts:
    """The words for an action of one env under a prompt set (None = no previous action)."""

    def __init__(self, spec: FeaturesSpec, action_meanings: tuple[str, ...], seed: int):
        self.spec = spec
        self.rng = np.random.default_rng(seed)
        if spec.suite == "atari":
            self.atari = prompts.atari_texts(spec.env, action_meanings, PARAPHRASES)

    def __call__(self, action: Any) -> str:
        if self.spec.modality == "image":
            return prompts.BLANK
        k = int(self.rng.integers(PARAPHRASES)) if self.spec.prompts == "paraphrases" else 0
        if action is None:
            return prompts.NO_ACTION[k]
        if self.spec.suite == "atari":
            return self.atari[int(action)][k]
        return prompts.describe_continuous(self.spec.env, np.asarray(action), k)


def step_texts(data: datasets.OfflineDataset, texts: ActionTexts, pairing: str) -> list[str]:
    """The text paired with every stored frame."""
    starts = np.zeros(len(data.rewards), dtype=bool)
    starts[0] = True
    starts[data.episode_ends()[:-1] + 1] = True
    actions = np.asarray(data.actions)
    if pairing == "leaky":
        return [texts(actions[t]) for t in range(len(actions))]
    return [texts(None if starts[t] else actions[t - 1]) for t in range(len(actions))]


def frames_of(spec: FeaturesSpec) -> Any:
    """observations (B, ...) -> image frames (B, H, W[, C]) uint8, for the dataset and live play."""
    if spec.suite == "atari":
        return lambda observations: np.asarray(observations)[:, -1] if np.ndim(observations) == 4 else observations
    assert spec.render is not None  # set for every MuJoCo spec
    return StateRenderer(spec.env, spec.render)


def build(spec: FeaturesSpec) -> dict[str, Any]:
    """Encode the dataset; write features.npy, text_index.npy, texts.json, the encoder and the card."""
    started = time.time()
    data = datasets.load(paths.dataset_dir(spec.suite, spec.env, spec.dataset))
    env_spec = envs.EnvSpec.of(spec.suite, spec.env, envs.protocol_for(spec.suite))
    all_texts = step_texts(data, ActionTexts(spec, env_spec.action_meanings, spec.encoder.seed), spec.pairing)
    catalogue, text_index = np.unique(np.asarray(all_texts, dtype=object), return_inverse=True)
    token_ids, text_masks = prompts.tokenize([str(t) for t in catalogue])
    to_frames = frames_of(spec)
    first_frame = to_frames(data.observations[:1])
    encoder = FrozenEncoder.build(spec.encoder, first_frame.shape[1:])
    encoder.model.to(torch_device())  # a GPU when the job was given one
    n = len(data.rewards)
    shape = (n, prompts.MAX_TOKENS + 36, spec.encoder.hidden_size)
    folder = spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".features.npy.tmp"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=shape)
    frame_s = encode_s = 0.0
    for begin in tqdm(range(0, n, BATCH), desc="encode", mininterval=10):
        end = min(begin + BATCH, n)
        tick = time.time()
        frames = to_frames(data.observations[begin:end])
        frame_s += time.time() - tick
        tick = time.time()
        ids = text_index[begin:end]
        encoded = encoder.encode(frames, token_ids[ids], text_masks[ids], image=spec.modality != "text")
        out[begin:end] = encoded.numpy().astype(np.float16)
        encode_s += time.time() - tick
    out.flush()
    del out
    os.replace(tmp, folder / "features.npy")
    io.atomic_write(folder / "text_index.npy", lambda f: np.save(f, text_index.astype(np.int32)))
    io.write_json(folder / "texts.json", [str(t) for t in catalogue])
    encoder.model.cpu()
    encoder.save(folder)
    card = {
        "id": spec.id,
        "spec": asdict(spec),
        "dataset_sha256": data.sha256,
        "pairs": n,
        "shape": list(shape),
        "dtype": "float16",
        "bytes": int((folder / "features.npy").stat().st_size),
        "distinct_texts": len(catalogue),
        "pretrained": encoder.record,
        "frames_wall_s": round(frame_s, 2),  # MuJoCo: offscreen rendering of every state
        "encode_wall_s": round(encode_s, 2),
        "encode_pairs_per_s": round(n / max(encode_s, 1e-9), 1),
        "wall_s": round(time.time() - started, 2),
        "sha256": {"features.npy": datasets.sha256(folder / "features.npy")},
    }
    io.write_json(folder / CARD, card)  # last: its presence means the cache is whole
    log.info(
        "features %s: %d pairs, %.0f MB, %.0f pairs/s", spec.id, n, card["bytes"] / 1e6, card["encode_pairs_per_s"]
    )
    return card


@dataclass
class Features:
    card: dict[str, Any]
    encoded: np.ndarray  # (N, 56, H) float16, memory-mapped
    text_index: np.ndarray  # (N,) index into `texts`
    texts: list[str]


def load(folder: Path, dataset_sha256: str) -> Features:
    """The cache of `folder`; it must have been made from the dataset with this sha256."""
    card_path = folder / CARD
    if not card_path.exists():
        raise BenchmarkError(f"{card_path}: features cache missing (was the features stage run?)")
    card = io.read_json(card_path)
    if card["dataset_sha256"] != dataset_sha256:
        raise BenchmarkError(
            f"{card_path}: made from dataset {card['dataset_sha256'][:12]}, not {dataset_sha256[:12]}: "
            "rerun the features stage"
        )
    return Features(
        card=card,
        encoded=np.load(folder / "features.npy", mmap_mode="r", allow_pickle=False),
        text_index=np.load(folder / "text_index.npy", allow_pickle=False),
        texts=io.read_json(folder / "texts.json"),
    )
