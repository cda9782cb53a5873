"""MORE-3S's hyperparameters (published values per suite), its ablations and the features cache a
run reads: what the algorithm registry declares (more3s/__init__.py), importable without torch.

Published values: the paper's architecture as the authors' code builds it (FACTS: LXMERT base
frozen, GPT-2 small cut to 6 layers, return-to-go in every layer's K and V) with the authors'
default learning rate (1e-4; their run scripts' 5e-7 is not used), and the Decision Transformer's
context sizes, returns scale and optimiser settings per suite, which MORE-3S builds on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmark.algorithms import coerce
from benchmark.errors import BenchmarkError
from more3s.cost import run_cost
from more3s.specs import MODALITIES, STORAGES, EncoderSpec, FeaturesSpec

if TYPE_CHECKING:
    from benchmark.cost import Cost
    from benchmark.envs import EnvSpec

RTG_MODES = ("attention", "token", "none")


@dataclass(frozen=True)
class AtariHyperparameters:
    # -- sequence model: GPT-2 small's first 6 layers (the paper)
    context_size: int = 30  # K steps, one token each (the DT paper's Atari context)
    num_layers: int = 6
    num_heads: int = 12
    embed_size: int = 768
    gpt2_weights: str = "gpt2"  # local dir or HF-cache id; "" = random init. Recorded either way
    max_timestep: int = 1024  # GPT-2's positions; later timesteps share the last one
    dropout: float = 0.1
    # -- optimisation: AdamW (0.9, 0.95), linear warm-up, gradient clipping (DT's Atari settings)
    learning_rate: float = 1e-4  # the authors' default
    weight_decay: float = 0.1
    clip_grad_norm: float = 1.0
    warmup_steps: int = 1000
    return_scale: float = 1.0  # returns-to-go are multiplied by this (DT: raw returns on Atari)
    # -- the method's switches (the ablations change these)
    rtg_mode: str = "attention"  # attention (the paper) | token (DT-style return token) | none
    modality: str = "image+text"  # image+text | image (blank text) | text (zero regions)
    prompts: str = "canonical"  # canonical | paraphrases (a phrasing drawn per step)
    pairing: str = "previous"  # previous (s_t with a_{t-1}) | leaky (the authors' s_t with a_t)
    memory: bool = False  # long-term memory of past batches' keys and values (training only)
    memory_batches: int = 20
    memory_width: int = 64
    # z-score each encoder output with the training data's statistics (the features card's) before
    # the fusion: not in the paper; the suite's diagnostics decide where presets turn it on
    standardize: bool = False
    # -- the frozen encoder: LXMERT base (9 language, 5 cross-modal, 5 visual layers, 768 wide)
    encoder_hidden_size: int = 768
    encoder_heads: int = 12
    encoder_language_layers: int = 9
    encoder_cross_layers: int = 5
    encoder_visual_layers: int = 5
    encoder_weights: str = "unc-nlp/lxmert-base-uncased"  # local dir or HF-cache id; "" = random init
    encoder_language_init: str = "none"  # minilm: text stream from all-MiniLM-L6-v2 when LXMERT is random
    encoder_seed: int = 0  # the random initialisation (every job builds the same encoder)
    regions: str = "grid"  # region extractor (more3s.regions)
    render_size: int = 84  # MuJoCo frames, square (a 6x6 grid of 14-pixel cells)
    # -- where the encoder outputs come from: the same numbers either way (more3s.features)
    features: str = "cache"  # cache (stored once, 86 kB a pair at paper size) | live (encoded each batch)

    def __post_init__(self) -> None:
        choices = {
            "rtg_mode": RTG_MODES,
            "modality": MODALITIES,
            "prompts": ("canonical", "paraphrases"),
            "pairing": ("previous", "leaky"),
            "encoder_language_init": ("none", "minilm"),
            "features": STORAGES,
        }
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise BenchmarkError(f"{field}: {getattr(self, field)!r} is not one of {', '.join(allowed)}")

    def features_spec(self, suite: str, env: str, dataset: str) -> FeaturesSpec:
        """The encoder outputs a run reads, named here only: the workflow's features stage makes
        them and `fit` reads them (the spec's id names their folder). `features` is its `storage`."""
        return FeaturesSpec(
            suite=suite,
            env=env,
            dataset=dataset,
            encoder=EncoderSpec(
                hidden_size=self.encoder_hidden_size,
                num_heads=self.encoder_heads,
                language_layers=self.encoder_language_layers,
                cross_layers=self.encoder_cross_layers,
                visual_layers=self.encoder_visual_layers,
                weights=self.encoder_weights,
                language_init=self.encoder_language_init,
                seed=self.encoder_seed,
                regions=self.regions,
            ),
            modality=self.modality,
            prompts=self.prompts,
            pairing=self.pairing,
            render_size=self.render_size,
            storage=self.features,
        )


@dataclass(frozen=True)
class MujocoHyperparameters(AtariHyperparameters):
    context_size: int = 20  # DT's gym context
    weight_decay: float = 1e-4  # DT's gym optimiser
    clip_grad_norm: float = 0.25
    warmup_steps: int = 10_000
    return_scale: float = 0.001  # DT's gym returns scale


PUBLISHED = {"atari": AtariHyperparameters(), "mujoco": MujocoHyperparameters()}


# Ablations: each a named algorithm, the published MORE-3S with one switch changed
ABLATIONS: dict[str, dict[str, Any]] = {
    "more3s-rtg-token": {"rtg_mode": "token"},  # a DT-style return token instead of K/V injection
    "more3s-rtg-none": {"rtg_mode": "none"},  # no return conditioning at all
    "more3s-image-only": {"modality": "image"},
    "more3s-text-only": {"modality": "text"},
    # no pretrained part: LXMERT, GPT-2 and the language stream's MiniLM initialisation all random
    "more3s-random-init": {"encoder_weights": "", "gpt2_weights": "", "encoder_language_init": "none"},
    "more3s-paraphrases": {"prompts": "paraphrases"},
    "more3s-memory": {"memory": True},
    "more3s-leaky": {"pairing": "leaky"},  # the authors' label leak, as a diagnostic
    "more3s-standardized": {"standardize": True},  # encoder outputs z-scored before the fusion
}


def published(variant: dict[str, Any]) -> dict[str, Any]:
    """The published hyperparameters per suite with an ablation's switches changed."""
    return {suite: dataclasses.replace(hp, **variant) for suite, hp in PUBLISHED.items()}


def features_spec(suite: str, env: str, dataset: str, hyperparameters: dict[str, Any]) -> FeaturesSpec:
    """The encoder cache a run reads (the workflow's features stage makes it), from the run's
    hyperparameters as its spec and config.json hold them."""
    return coerce(type(PUBLISHED[suite]), hyperparameters).features_spec(suite, env, dataset)


def cost(env: EnvSpec, dataset: str, hyperparameters: AtariHyperparameters, batch: int) -> Cost:
    """What a run costs the capacity plan (more3s.cost): its features spec names the stores."""
    return run_cost(env, hyperparameters, batch, hyperparameters.features_spec(env.suite, env.env, dataset))
