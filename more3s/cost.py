"""What MORE-3S costs, for the capacity plan (benchmark.cost): the frozen encoder's FLOPs and
parameters, the fusion and the GPT blocks, and the stores the workflow makes for it: the encoder
outputs (features) and, live on MuJoCo, the frames store they are encoded from (which bc-pixels
reads too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmark import config, paths
from benchmark.cost import Cost, Precompute, Work, transformer_flops
from more3s import prompts

if TYPE_CHECKING:
    from benchmark.envs import EnvSpec
    from more3s.specs import EncoderSpec, FeaturesSpec, FramesSpec

REGIONS = 36  # region tokens of a frame (more3s.regions)
PAIR_TOKENS = prompts.MAX_TOKENS + REGIONS  # the encoder's output tokens for one (frame, text) pair
WORD_EMBEDDINGS = 30522  # BERT-uncased's vocabulary


def encoder_pair_flops(encoder: EncoderSpec) -> float:
    """The frozen LXMERT's forward FLOPs per (frame, text) pair, without the language layers (they
    run once per distinct text): visual layers over the regions, cross-modal layers over the text
    and region tokens (self-, cross-attention and feed-forward in both streams: ~4/3 of a plain layer)."""
    width = encoder.hidden_size
    return transformer_flops(encoder.visual_layers, width, REGIONS) + 4 / 3 * transformer_flops(
        encoder.cross_layers, width, PAIR_TOKENS
    )


def encoder_parameters(encoder: EncoderSpec) -> int:
    width = encoder.hidden_size
    layers = encoder.language_layers + encoder.visual_layers + 4 / 3 * encoder.cross_layers
    return int(12 * width**2 * layers + WORD_EMBEDDINGS * width)


def drawing(size: int) -> Work:
    """Drawing one MuJoCo state, `size` pixels square (measured at 84: scaled by pixels)."""
    return Work("frames/mujoco", size**2)


def frames_precompute(spec: FramesSpec, resident: bool = False) -> Precompute:
    """The frames store: every state of the dataset drawn once, stored uint8 RGB."""
    size = spec.render.size
    return Precompute(
        "frames",
        str(spec.folder),
        "mujoco",
        spec.env,
        spec.dataset,
        work=(drawing(size),),
        bytes_per_transition=size**2 * 3,
        resident=resident,
    )


def features_precompute(spec: FeaturesSpec, of_held_out: bool = False) -> Precompute:
    """The features folder: the encoder's weights, the texts and, cached, every pair's outputs
    (fp16); cached, the same of the dataset's held-out data (unless this is it)."""
    encoder_bytes = 4 * encoder_parameters(spec.encoder)
    where = {"folder": str(spec.folder), "suite": spec.suite, "env": spec.env, "dataset": spec.dataset}
    # a features job holds the encoder beside what a MORE-3S training job was measured to hold
    memory = {"memory": "memory/train/more3s", "memory_mb": encoder_bytes / 1e6, "fixed_bytes": encoder_bytes}
    if spec.storage == "live":  # the encoder, the texts and a sample's statistics: a text index a transition
        return Precompute("features", **where, fixed_s=60.0, bytes_per_transition=4, **memory)
    work = [Work("features/encode", encoder_pair_flops(spec.encoder), on_gpu=True)]
    if spec.suite == "mujoco" and spec.modality != "text":
        work.append(drawing(spec.render_size))
    bytes_per_pair = PAIR_TOKENS * spec.encoder.hidden_size * 2
    held_out = None if of_held_out else spec.held_out(spec.dataset + paths.HELDOUT)
    return Precompute(
        "features",
        **where,
        work=tuple(work),
        bytes_per_transition=bytes_per_pair,
        **memory,
        held_out=None if held_out is None else features_precompute(held_out, of_held_out=True),
    )


def run_cost(env: EnvSpec, hp: Any, batch: int, features: FeaturesSpec) -> Cost:
    """One run: the fusion (one token from each pair's encoder outputs) and the GPT blocks over K
    tokens; live, the encoder too (forward only, every pair of the batch); at evaluation each
    action encodes the one new frame (drawn, on MuJoCo)."""
    k, width, encoder = hp.context_size, hp.embed_size, features.encoder
    pair = encoder_pair_flops(encoder)
    fusion = 2 * PAIR_TOKENS * encoder.hidden_size * width
    per_sequence = transformer_flops(hp.num_layers, width, k) + k * fusion
    live = features.storage == "live"
    train_step = 3 * batch * per_sequence + (batch * k * pair if live else 0)
    fusion_parameters = PAIR_TOKENS * encoder.hidden_size * width + width**2
    parameters = hp.num_layers * 14 * width**2 + fusion_parameters + hp.max_timestep * width + env.action_size * width
    encoder_mb = 4 * encoder_parameters(encoder) / 1e6
    frames = () if features.frames is None else (frames_precompute(features.frames),)
    return Cost(
        measured="more3s",
        parameters=parameters,
        train_step_flops=train_step,
        action_flops=transformer_flops(hp.num_layers, width, k) + fusion + pair,
        checkpoint_bytes=4 * parameters,  # the trainable weights only
        train_memory_mb=encoder_mb if live else 0.0,
        evaluate_memory_mb=encoder_mb,
        action_work=(drawing(hp.render_size),) if env.suite == "mujoco" else (),
        # each swap window's pairs encoded three times (more3s.swaps)
        diagnosis_work=(Work("features/encode", 3 * config.SWAP_WINDOWS * k * pair),),
        held_out_step_flops=None if live else per_sequence,  # a window of the held-out cache (more3s.heldout)
        precompute=(*frames, features_precompute(features)),
    )
