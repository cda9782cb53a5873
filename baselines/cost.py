"""What a run of each baseline costs, for the capacity plan (benchmark.cost): light functions of
the typed hyperparameters that the registry declares beside them (baselines/__init__.py), so that
planning a preset imports no d3rlpy or torch."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from benchmark.cost import (
    NATURE_CNN_FLAT,
    NATURE_CNN_KERNELS,
    NATURE_CNN_MACS,
    Cost,
    d3rlpy_default_network,
    nature_cnn,
    transformer_flops,
)
from more3s.cost import drawing, frames_precompute

if TYPE_CHECKING:
    from baselines.hyperparameters import BCPixelsMujoco, DTAtari, DTMujoco
    from benchmark.envs import EnvSpec


def bc(env: EnvSpec, dataset: str, hyperparameters: Any, batch: int) -> Cost:
    return d3rlpy_default_network(env, batch, measured="bc")


def cql(env: EnvSpec, dataset: str, hyperparameters: Any, batch: int) -> Cost:
    # on Atari the QR head has n_quantiles outputs an action (0: a mean head, one)
    q_heads = (hyperparameters.n_quantiles or 1) if env.suite == "atari" else 1
    return d3rlpy_default_network(env, batch, measured="cql", q_heads=q_heads)


def dt(env: EnvSpec, dataset: str, hyperparameters: DTAtari | DTMujoco, batch: int) -> Cost:
    """GPT blocks over (return, state, action) tokens; on Atari each frame's Nature CNN too."""
    hp = hyperparameters
    k, width = hp.context_size, hp.embed_size
    per_sequence = transformer_flops(hp.num_layers, width, 3 * k)
    if env.suite == "atari":
        per_sequence += 2 * k * (NATURE_CNN_MACS + NATURE_CNN_FLAT * width)
        state = NATURE_CNN_KERNELS + NATURE_CNN_FLAT * width
    else:
        state = int(math.prod(env.observation_shape)) * width
    parameters = hp.num_layers * 12 * width**2 + state + 1024 * width + 2 * env.action_size * width
    return Cost(
        measured="dt",
        parameters=parameters,
        train_step_flops=3 * batch * per_sequence,
        action_flops=per_sequence,  # a sequence model reads its whole context for each action
        checkpoint_bytes=4 * parameters * 3,  # d3rlpy saves Adam's two moments too
    )


def bc_pixels(env: EnvSpec, dataset: str, hyperparameters: BCPixelsMujoco, batch: int) -> Cost:
    """The Nature CNN on the stacked frames, its fc and the policy head (no target network); each
    live state drawn at evaluation, and the frames store read whole over training."""
    hp = hyperparameters
    macs, kernels, flat = nature_cnn(3 * hp.frames, hp.render_size)
    forward = 2 * (macs + flat * hp.feature_size)
    parameters = kernels + flat * hp.feature_size + hp.feature_size * env.action_size
    return Cost(
        measured="bc-pixels",
        parameters=parameters,
        train_step_flops=3 * batch * forward,
        action_flops=forward,
        checkpoint_bytes=4 * parameters * 3,  # d3rlpy saves Adam's two moments too
        action_work=(drawing(hp.render_size),),
        precompute=(frames_precompute(hp.frames_spec(env.env, dataset), resident=True),),
    )
