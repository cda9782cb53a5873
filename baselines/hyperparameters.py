"""The baselines' hyperparameters, one dataclass per algorithm and suite whose defaults are the
published values (where each comes from: the algorithm's module docstring), and the frames store
bc-pixels reads. Plain data, importable without torch or d3rlpy: the registry declares the
baselines with them and with their costs (baselines/cost.py; both in baselines/__init__.py), so
validating and planning a preset never import d3rlpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmark.algorithms import coerce
from benchmark.errors import BenchmarkError
from more3s.render import RenderProtocol
from more3s.specs import FramesSpec

# -- bc: baselines/bc.py


@dataclass(frozen=True)
class BCAtari:
    learning_rate: float = 1e-3  # Adam
    beta: float = 0.5  # weight of the logits' L2 penalty (d3rlpy DiscreteBC)
    feature_size: int = 512  # width of the Nature-CNN's last layer


@dataclass(frozen=True)
class BCMujoco:
    learning_rate: float = 1e-3  # Adam
    hidden_units: tuple[int, ...] = (256, 256)  # MLP policy
    policy_type: str = "deterministic"  # d3rlpy BC: deterministic (MSE) or stochastic


BC = {"atari": BCAtari(), "mujoco": BCMujoco()}


# -- cql: baselines/cql.py


@dataclass(frozen=True)
class CQLAtari:
    learning_rate: float = 5e-5  # Adam
    adam_eps: float = 1e-2 / 32  # Adam epsilon (QR-DQN's setting)
    alpha: float = 4.0  # weight of the conservative penalty
    n_quantiles: int = 200  # quantile-regression Q head; 0 for a plain mean Q head
    target_update_interval: int = 2000  # gradient steps between target-network copies
    feature_size: int = 512  # width of the Nature-CNN's last layer


@dataclass(frozen=True)
class CQLMujoco:
    actor_learning_rate: float = 1e-4
    critic_learning_rate: float = 3e-4
    temp_learning_rate: float = 1e-4  # SAC temperature
    alpha_learning_rate: float = 0.0  # 0: fixed conservative weight (no Lagrangian tuning)
    conservative_weight: float = 5.0  # 10 for "medium" datasets in d3rlpy's script
    hidden_units: tuple[int, ...] = (256, 256, 256)  # actor and critic MLPs
    n_action_samples: int = 10  # actions sampled for the log-sum-exp penalty


CQL = {"atari": CQLAtari(), "mujoco": CQLMujoco()}


# -- dt: baselines/dt.py


@dataclass(frozen=True)
class DTAtari:
    context_size: int = 30  # K: steps of (return, state, action) the model sees
    num_layers: int = 6
    num_heads: int = 8
    embed_size: int = 128  # token width = Nature-CNN output width
    learning_rate: float = 6e-4
    weight_decay: float = 0.1
    clip_grad_norm: float = 1.0
    warmup_tokens: int = 512 * 20  # linear warm-up, then cosine decay to 10%
    dropout: float = 0.1  # attention, residual and embedding dropout


@dataclass(frozen=True)
class DTMujoco:
    context_size: int = 20
    num_layers: int = 3
    num_heads: int = 1
    embed_size: int = 128  # state encoder: one Linear to this width
    learning_rate: float = 1e-4
    weight_decay: float = 1e-4
    clip_grad_norm: float = 0.25
    warmup_steps: int = 10_000  # linear learning-rate warm-up
    dropout: float = 0.1
    return_scale: float = 0.001  # returns-to-go are multiplied by this
    max_timestep: int = 1000  # longest episode (position embeddings)


DT = {"atari": DTAtari(), "mujoco": DTMujoco()}


# -- bc-pixels: baselines/bc_pixels.py

NATURE_CNN_MIN_SIZE = 36  # the smallest square input its three convolutions (8/4, 4/2, 3/1) accept


@dataclass(frozen=True)
class BCPixelsMujoco:
    learning_rate: float = 1e-3  # Adam (d3rlpy's BC default, as bc)
    feature_size: int = 512  # width of the Nature-CNN's last layer (bc's Atari width)
    frames: int = 2  # rendered frames per state, stacked on the channel axis: velocity needs two
    render_size: int = 84  # square frames, as MORE-3S's default: the frames store's size

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise BenchmarkError(f"frames: {self.frames} must be at least 1")
        if self.render_size < NATURE_CNN_MIN_SIZE:
            raise BenchmarkError(f"render_size: {self.render_size} is below the Nature CNN's {NATURE_CNN_MIN_SIZE}")

    def frames_spec(self, env: str, dataset: str) -> FramesSpec:
        """The frames store a run reads: named here only, for the workflow's frames stage and training alike."""
        return FramesSpec(env, dataset, RenderProtocol(size=self.render_size))


BC_PIXELS = {"mujoco": BCPixelsMujoco()}


def frames_spec(suite: str, env: str, dataset: str, hyperparameters: dict[str, Any]) -> FramesSpec:
    """The frames store a bc-pixels run reads (the workflow's frames stage makes it), from the
    run's hyperparameters as its spec and config.json hold them."""
    return coerce(type(BC_PIXELS[suite]), hyperparameters).frames_spec(env, dataset)
