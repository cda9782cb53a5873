"""The frozen encoder's outputs for every (frame, action text) pair of a dataset: stored once, or
computed live.

LXMERT never trains. With `storage: cache` (the default) its outputs are computed once per dataset
by the workflow's `features` stage and stored as one fp16 array (N, 20 + 36, H), memory-mapped by
training: every seed and every ablation that shares the encoder inputs reads the same file, and
training never runs the encoder. At the paper's scale that array is 86 kB a pair (~1 TB per
variant over the paper preset's datasets), so `storage: live` stores only what the encoder reads
(MuJoCo frames, 21 kB a pair, in a frames store shared by every variant drawn under one render
protocol; Atari frames are the dataset's own) and training encodes each batch's pairs on its
device, rounding them to fp16 as the cache stores them: the same numbers, paid in encoder time
instead of disk (`benchmark.plan` prices both).

The folder also keeps the encoder's weights (evaluation encodes live frames with exactly this
encoder), the per-step text index, each output dimension's mean and std over the dataset
(`statistics.npy`: what a model that standardises its inputs divides by) and a card with sizes,
throughput, the weights' record and the sha256 of every stored array; the folder's manifest
(benchmark.manifest), written last, lists every file and is verified before training or
evaluation reads any (and each array's shape before use).
MuJoCo states are drawn under the spec's render protocol, part of the cache's key and card:
evaluation draws live states under the protocol of the card.

Pairing, without the authors' label leak: frame s_t goes with the text of the previous action
a_{t-1} (NO_ACTION at t = 0) in training and evaluation alike. `pairing: leaky` reproduces the
authors' training pairing (s_t with a_t, the action being predicted) as a diagnostic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmark import datasets, envs, io, manifest, paths
from benchmark.device import torch_device
from benchmark.errors import BenchmarkError
from more3s import prompts
from more3s.encoder import FrozenEncoder
from more3s.render import StateRenderer
from more3s.specs import FeaturesSpec, FramesSpec

log = logging.getLogger(__name__)

CARD = paths.FEATURES_CARD
FRAMES_CARD = paths.FRAMES_CARD  # card of a frames store (storage: live, MuJoCo)
PARAPHRASES = 3  # phrasings per action in the `paraphrases` prompt set
BATCH = 128  # pairs per encoder call
STATISTICS = "statistics.npy"  # per output dimension: mean and std over the dataset's pairs
STATISTICS_SAMPLE = 4096  # pairs encoded for the statistics of a live folder (a cache uses all)
# Standardised outputs divide by the std, floored: LXMERT's outputs are layer-normalised (unit scale
# per token), so a dimension varying by less than 1% of that is scaled up at most 100x, not by fp16 noise.
STD_FLOOR = 1e-2
# the files of a features folder that every reader reads (features.npy too, with storage: cache)
READS = (CARD, "text_index.npy", "texts.json", "encoder.json", "encoder.pt", STATISTICS)


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
    if spec.modality == "text":  # the encoder zeroes the image: nothing to draw
        size = spec.render_size
        return lambda observations: np.zeros((len(observations), size, size, 3), dtype=np.uint8)
    assert spec.render is not None  # set for every MuJoCo spec
    return StateRenderer(spec.env, spec.render)


def build_frames(spec: FramesSpec) -> dict[str, Any]:
    """Draw every state of the dataset once: frames.npy (N, S, S, 3) uint8 and its card."""
    started = time.time()
    env_spec = envs.EnvSpec.of("mujoco", spec.env, envs.protocol_for("mujoco"))
    # the card must be this dataset of this env (one line naming dataset.json), before any drawing
    data = datasets.load(paths.dataset_dir("mujoco", spec.env, spec.dataset), env=env_spec, name=spec.dataset)
    renderer = StateRenderer(spec.env, spec.render)
    n, size = len(data.rewards), spec.render.size
    folder = spec.folder
    with io.temporary_npy(folder / "frames.npy", np.uint8, (n, size, size, 3)) as out:
        for begin in tqdm(range(0, n, BATCH), desc="render", mininterval=10):
            out[begin : begin + BATCH] = renderer(data.observations[begin : begin + BATCH])
    renderer.close()
    wall = time.time() - started
    card = {
        "spec": asdict(spec),
        "dataset_sha256": data.sha256,
        "shape": [n, size, size, 3],
        "dtype": "uint8",
        "bytes": int((folder / "frames.npy").stat().st_size),
        "frames_per_s": round(n / max(wall, 1e-9), 1),
        "wall_s": round(wall, 2),
        "sha256": {"frames.npy": manifest.sha256(folder / "frames.npy")},
    }
    io.write_json(folder / FRAMES_CARD, card)
    manifest.write(folder)  # last: its presence means the store is whole
    return card


def build(spec: FeaturesSpec) -> dict[str, Any]:
    """The features folder: the encoder, text_index.npy, texts.json and the card, plus (storage:
    cache) features.npy, every pair's encoder outputs."""
    started = time.time()
    env_spec = envs.EnvSpec.of(spec.suite, spec.env, envs.protocol_for(spec.suite))
    # the card must be this dataset of this env (one line naming dataset.json), before any encoding
    data = datasets.load(paths.dataset_dir(spec.suite, spec.env, spec.dataset), env=env_spec, name=spec.dataset)
    all_texts = step_texts(data, ActionTexts(spec, env_spec.action_meanings, spec.encoder.seed), spec.pairing)
    catalogue, text_index = np.unique(np.asarray(all_texts, dtype=object), return_inverse=True)
    token_ids, text_masks = prompts.tokenize([str(t) for t in catalogue])
    to_frames = frames_of(spec)
    first_frame = to_frames(data.observations[:1])
    encoder = FrozenEncoder.build(spec.encoder, first_frame.shape[1:])
    n = len(data.rewards)
    shape = (n, prompts.MAX_TOKENS + 36, spec.encoder.hidden_size)
    folder = spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    moments = Moments(shape[1:])
    stored: dict[str, Any] = {"sha256": {}}
    pair_ids, pair_masks = token_ids[text_index], text_masks[text_index]
    if spec.storage == "cache":
        stored = _encode_all(spec, data, encoder, to_frames, pair_ids, pair_masks, shape, moments)
    else:  # live: the statistics of an evenly spaced sample of the pairs, encoded here once
        sample = np.unique(np.linspace(0, n - 1, min(n, STATISTICS_SAMPLE)).astype(np.int64))
        for begin in range(0, len(sample), BATCH):
            rows = sample[begin : begin + BATCH]
            frames = to_frames(data.observations[rows])
            encoded = encoder.encode(frames, pair_ids[rows], pair_masks[rows], image=spec.modality != "text")
            moments.add(encoded.numpy().astype(np.float16))  # as training reads them
    statistics = moments.result()
    io.atomic_write(folder / STATISTICS, lambda f: np.save(f, statistics))
    stored["sha256"][STATISTICS] = manifest.sha256(folder / STATISTICS)
    io.atomic_write(folder / "text_index.npy", lambda f: np.save(f, text_index.astype(np.int32)))
    io.write_json(folder / "texts.json", [str(t) for t in catalogue])
    encoder.save(folder)
    frames = spec.frames
    card = {
        "id": spec.id,
        "spec": asdict(spec),
        "dataset_sha256": data.sha256,
        "pairs": n,
        "shape": list(shape),
        "dtype": "float16",
        "distinct_texts": len(catalogue),
        "pretrained": encoder.record,
        "frames": None if frames is None else str(frames.folder),  # live: the frames store it reads
        "statistics": moments.summary(statistics),
        **stored,
        "wall_s": round(time.time() - started, 2),
    }
    io.write_json(folder / CARD, card)
    manifest.write(folder)  # last: its presence means the folder is whole
    log.info("features %s (%s): %d pairs, %s", spec.id, spec.storage, n, stored.get("encode_pairs_per_s", "live"))
    return card


def _encode_all(
    spec: FeaturesSpec,
    data: datasets.OfflineDataset,
    encoder: FrozenEncoder,
    to_frames: Any,
    token_ids: np.ndarray,
    text_masks: np.ndarray,
    shape: tuple[int, ...],
    moments: Moments,
) -> dict[str, Any]:
    """Encode every pair into features.npy (and into `moments`, as stored: fp16); the card's fields about it."""
    encoder.model.to(torch_device())  # a GPU when the job was given one
    path = spec.folder / "features.npy"
    frame_s = encode_s = 0.0
    with io.temporary_npy(path, np.float16, shape) as out:
        for begin in tqdm(range(0, shape[0], BATCH), desc="encode", mininterval=10):
            end = min(begin + BATCH, shape[0])
            tick = time.time()
            frames = to_frames(data.observations[begin:end])
            frame_s += time.time() - tick
            tick = time.time()
            encoded = encoder.encode(frames, token_ids[begin:end], text_masks[begin:end], image=spec.modality != "text")
            out[begin:end] = as_stored = encoded.numpy().astype(np.float16)
            encode_s += time.time() - tick
            moments.add(as_stored)
    encoder.model.cpu()
    return {
        "bytes": int(path.stat().st_size),
        "frames_wall_s": round(frame_s, 2),  # MuJoCo: offscreen rendering of every state
        "encode_wall_s": round(encode_s, 2),
        "encode_pairs_per_s": round(shape[0] / max(encode_s, 1e-9), 1),
        "sha256": {"features.npy": manifest.sha256(path)},
    }


class Moments:
    """Mean and std of every encoder output dimension (token x width) over the batches added."""

    def __init__(self, shape: tuple[int, ...]):
        self.count = 0
        self.total = np.zeros(shape)
        self.squares = np.zeros(shape)

    def add(self, encoded: Any) -> None:
        rows = np.asarray(encoded, dtype=np.float64)
        self.count += len(rows)
        self.total += rows.sum(0)
        self.squares += np.square(rows).sum(0)

    def result(self) -> np.ndarray:
        """(2, tokens, width) float32: the mean, then the std floored at STD_FLOOR."""
        mean = self.total / self.count
        std = np.sqrt(np.maximum(self.squares / self.count - np.square(mean), 0.0))
        return np.stack([mean, np.maximum(std, STD_FLOOR)]).astype(np.float32)

    def summary(self, statistics: np.ndarray) -> dict[str, Any]:
        """The card's record: where the statistics are, from how many pairs, and the share of each
        stream's energy (mean^2 + variance) that varies from pair to pair."""
        mean, std = statistics.astype(np.float64)
        variance = np.square(std)
        streams = {"language": slice(0, prompts.MAX_TOKENS), "visual": slice(prompts.MAX_TOKENS, None)}
        share = {
            name: round(float(variance[rows].sum() / (np.square(mean[rows]) + variance[rows]).sum()), 4)
            for name, rows in streams.items()
        }
        return {"file": STATISTICS, "pairs": self.count, "std_floor": STD_FLOOR, "varying_energy_share": share}


class Features:
    """A run's encoder outputs, row by row: read from the cache, or encoded live (as the cache would
    hold them: fp16)."""

    def __init__(self, folder: Path, data: datasets.OfflineDataset):
        card_path = folder / CARD
        if not card_path.exists():
            raise BenchmarkError(f"{card_path}: features missing (was the features stage run?)")
        manifest.verify(folder, reads=READS)
        self.folder = folder
        self.card = card = io.read_json(card_path)
        if card["dataset_sha256"] != data.sha256:
            raise BenchmarkError(
                f"{card_path}: made from dataset {card['dataset_sha256'][:12]}, not {data.sha256[:12]}: "
                "rerun the features stage"
            )
        self.spec = FeaturesSpec.from_dict(card["spec"])
        self.shape = tuple(card["shape"])
        self.text_index = _read_npy(folder / "text_index.npy")
        self.texts: list[str] = io.read_json(folder / "texts.json")
        if not isinstance(self.texts, list) or not all(isinstance(text, str) for text in self.texts):
            raise BenchmarkError(f"{folder / 'texts.json'}: not a list of strings")
        if len(self.text_index) != self.shape[0]:
            raise BenchmarkError(
                f"{folder / 'text_index.npy'}: {len(self.text_index)} rows, the card says {self.shape[0]}"
            )
        if self.spec.storage == "cache":
            self.encoded = _verified_array(folder / "features.npy", self.shape, np.float16)
            return
        # live: the encoder on the training device, the texts tokenised once, the frames at hand
        self.encoder = FrozenEncoder.load(folder)
        self.encoder.model.to(torch_device())
        self.token_ids, self.text_masks = prompts.tokenize(self.texts)
        frames = self.spec.frames
        if frames is None:  # Atari: the dataset's own frames; MuJoCo text-only: nothing to draw
            self.frames = data.observations
            self.to_frames = frames_of(self.spec)
        else:
            self.frames = load_frames(frames, data)
            self.to_frames = lambda rows: np.asarray(rows)

    def statistics(self) -> np.ndarray:
        """(2, 56, H) float32: each output dimension's mean and (floored) std over the dataset."""
        if "statistics" not in self.card:
            raise BenchmarkError(
                f"{self.folder / CARD}: made before encoder-output statistics were recorded: rerun the features stage"
            )
        return np.asarray(_verified_array(self.folder / STATISTICS, (2, *self.shape[1:]), np.float32))

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Encoder outputs (len(index), 56, H) float16 of the pairs `index`."""
        if self.spec.storage == "cache":
            return self.encoded[index]
        unique, inverse = np.unique(index, return_inverse=True)  # a batch's windows may overlap
        texts = self.text_index[unique]
        encoded = self.encoder.encode(
            self.to_frames(self.frames[unique]),
            self.token_ids[texts],
            self.text_masks[texts],
            image=self.spec.modality != "text",
        )
        return encoded.numpy().astype(np.float16)[inverse]


def load_frames(spec: FramesSpec, data: datasets.OfflineDataset) -> np.ndarray:
    """The frames store of `spec`, (N, S, S, 3) uint8 memory-mapped, once its manifest verifies and
    its card says it was drawn from `data` (live MuJoCo features and bc-pixels read it)."""
    card_path = spec.folder / FRAMES_CARD
    if not card_path.exists():
        raise BenchmarkError(f"{card_path}: missing (the frames stage makes it: run it)")
    manifest.verify(spec.folder, reads=[FRAMES_CARD, "frames.npy"])
    card = io.read_json(card_path)
    if card["dataset_sha256"] != data.sha256:
        raise BenchmarkError(f"{card_path}: made from another dataset: rerun the frames stage")
    return _verified_array(spec.folder / "frames.npy", tuple(card["shape"]), np.uint8)


def _read_npy(path: Path, mmap_mode: Any = None) -> np.ndarray:
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise BenchmarkError(f"{path}: not a readable .npy array ({error})") from error


def _verified_array(path: Path, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """The memory-mapped array at `path` (its folder's manifest verified), once its shape and dtype
    match its card."""
    if not path.exists():
        raise BenchmarkError(f"{path}: missing (its card is there: rerun the stage that made it)")
    array = _read_npy(path, mmap_mode="r")
    if array.shape != shape or array.dtype != dtype:
        raise BenchmarkError(f"{path}: {array.dtype}{list(array.shape)}, the card says {np.dtype(dtype)}{list(shape)}")
    return array


def load(folder: Path, data: datasets.OfflineDataset) -> Features:
    """The features of `folder`; they must have been made from `data`."""
    return Features(folder, data)
