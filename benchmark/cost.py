"""What a run of an algorithm costs, as the algorithm declares it to the capacity plan.

An algorithm's registry declaration names a light function `cost(env, dataset, hyperparameters,
batch) -> Cost` (benchmark.algorithms.Declaration, with the hyperparameters typed; no torch: the
plan calls it for every run of a preset): its parameters, FLOPs per gradient step and per action,
the memory it holds beyond its weights, and the stores the workflow makes for it before training
(`Precompute`). The plan (benchmark.plan) turns these into time by the per-unit costs measured on
the reference machine (`plan.MEASURED`, keyed by the `measured` strings named here); it calls the
hook again at the sizes a cost was measured at, and scales by the ratio of the two FLOP counts.
An algorithm without the hook is priced by `fallback`, and the plan prints which were.

Also the FLOP counts more than one algorithm is built from (the usual transformer and
convolution counts: multiply-adds x 2, training = 3 x forward).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmark.errors import BenchmarkError

if TYPE_CHECKING:
    from benchmark.envs import EnvSpec

# The workflow's rules that make a store before training, in the order they run (a frames store
# before the encoder outputs that may read it): the plan's rows, the rules' resource requests.
PRECOMPUTE_STAGES = ("frames", "features")


@dataclass(frozen=True)
class Work:
    """Part of a job's time: `amount` of the work a measured per-unit cost was timed on. Seconds =
    the entry's seconds per unit x amount / its `scale` (what one unit was: 1, a FLOP count, pixels)."""

    measured: str  # the plan's MEASURED entry
    amount: float
    on_gpu: bool = False  # `amount` is FLOPs, which a GPU preset runs on its GPU (else: CPU work, rendering)


@dataclass(frozen=True)
class Precompute:
    """A store the workflow makes once before training, over every transition of a dataset; runs
    naming the same folder share it."""

    stage: str  # the rule that makes it: one of PRECOMPUTE_STAGES
    folder: str
    suite: str
    env: str
    dataset: str
    work: tuple[Work, ...] = ()  # per transition
    fixed_s: float = 0.0  # CPU seconds whatever the dataset's size
    memory: str = "memory/dataset"  # the MEASURED peak memory (MB) of the job it adds `memory_mb` to
    memory_mb: float = 0.0
    bytes_per_transition: float = 0.0  # written and kept
    fixed_bytes: float = 0.0
    resident: bool = False  # the run reads every page of it over training: its bytes count in the run's memory
    held_out: Precompute | None = None  # the same store of the held-out data where there is one (diagnose reads it)

    def __post_init__(self) -> None:
        if self.stage not in PRECOMPUTE_STAGES:
            raise BenchmarkError(f"precompute stage {self.stage!r} is not one of {', '.join(PRECOMPUTE_STAGES)}")


@dataclass(frozen=True)
class Cost:
    """One run of an algorithm at its hyperparameters and batch."""

    # The plan's per-unit costs it scales from: MEASURED train/<suite>/<measured> and
    # evaluate/<suite>/<measured>, and memory/train/<measured> where there is one (else memory/train)
    measured: str
    parameters: int  # trainable (the weight matrices): weights, gradients and Adam's moments in memory
    train_step_flops: float  # one gradient step at the batch asked for
    action_flops: float  # forward FLOPs of one action at evaluation
    checkpoint_bytes: float  # the files of one checkpoint
    train_memory_mb: float = 0.0  # held in training beyond the measured floor and the parameters (a frozen encoder)
    evaluate_memory_mb: float = 0.0  # held at evaluation beyond the measured floor and the weights
    action_work: tuple[Work, ...] = ()  # per evaluation env step besides the env and the forward pass (drawing)
    diagnosis_work: tuple[Work, ...] = ()  # the diagnose stage's own measurements besides the policy's steps
    # forward FLOPs of one held-out step measured from the held-out precompute (no env, no drawing,
    # no encoding); None: the diagnose stage plays held-out steps as evaluation plays them
    held_out_step_flops: float | None = None
    precompute: tuple[Precompute, ...] = ()


# -- FLOP counts ---------------------------------------------------------------------------------
def transformer_flops(layers: int, width: int, tokens: int) -> float:
    """One forward pass of `layers` GPT blocks over `tokens` tokens."""
    return layers * (24 * tokens * width**2 + 4 * tokens**2 * width)


def nature_cnn(channels: int, size: int = 84) -> tuple[int, int, int]:
    """The Nature CNN (8x8/4, 4x4/2, 3x3/1 convolutions) on `channels` x `size` x `size`: its
    multiply-adds before the fc, its conv parameters, and the fc's input width."""
    first = (size - 8) // 4 + 1
    second = (first - 4) // 2 + 1
    third = second - 2
    macs = first**2 * 32 * 8 * 8 * channels + second**2 * 64 * 4 * 4 * 32 + third**2 * 64 * 3 * 3 * 64
    kernels = 8 * 8 * channels * 32 + 4 * 4 * 32 * 64 + 3 * 3 * 64 * 64
    return macs, kernels, third**2 * 64


NATURE_CNN_MACS, NATURE_CNN_KERNELS, NATURE_CNN_FLAT = nature_cnn(4)  # Atari's 4 stacked frames


def d3rlpy_default_network(env: EnvSpec, batch: int, measured: str, q_heads: int = 1) -> Cost:
    """d3rlpy's default networks, with a target copy: on Atari the Nature CNN, a 512-wide fc and
    `q_heads` outputs an action; on MuJoCo 256x256 MLPs (actor, two critics, two targets)."""
    if env.suite == "atari":
        forward = 2 * (NATURE_CNN_MACS + NATURE_CNN_FLAT * 512)
        parameters = 2 * (NATURE_CNN_KERNELS + NATURE_CNN_FLAT * 512 + 512 * env.action_size * q_heads)
    else:
        forward = 2 * (2 * 256 * 256)
        parameters = 5 * (2 * 256 * 256)
    return Cost(
        measured=measured,
        parameters=parameters,
        train_step_flops=3 * batch * forward,
        action_flops=forward,
        checkpoint_bytes=4 * parameters * 3,  # d3rlpy saves Adam's two moments too
    )


# How an algorithm without a `cost` hook is priced (the plan names each one it priced so)
FALLBACK = "d3rlpy's default networks at BC's measured costs"


def fallback(env: EnvSpec, dataset: str, hyperparameters: Any, batch: int) -> Cost:
    """FALLBACK: the cheapest measured algorithm, so an estimate from below for anything heavier."""
    return d3rlpy_default_network(env, batch, measured="bc")
