"""Capacity plan: what a preset will cost, per stage and in total, before a single job runs.

    python -m benchmark plan config/<preset>.yaml   (or `snakemake plan`: results/plan.md)

Every number is computed from the preset's grid and the per-unit costs in `MEASURED`, each
measured on this project's reference machine with the command beside it. Sizes the reference run
did not use (the paper's models, encoders, batches) are scaled from the measured cost by the ratio
of their FLOP counts (`flops`, the usual transformer and convolution counts): linear in work, so
an estimate, and labelled as one. GPU hours cannot be measured here: they are FLOP counts over a
named GPU's peak at a stated efficiency (`GPU`), estimates until a GPU run replaces them.
Evaluation is priced at its upper bound, every episode running to the protocol's cap.

The workflow's rules take their `mem_mb` and `runtime` from the same plan (`Plan.resources`), so
a SLURM submission asks for what this table says, with `SAFETY` headroom.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from benchmark import config, envs, paths, sources
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import DatasetSpec, RunKey, RunSpec

# -- What was measured, once, on the reference machine ---------------------------------------------
MACHINE = "Intel Xeon (2 cores, 24 GiB), one torch thread a job"
REFERENCE_RUN = "snakemake --cores 2 all  (default preset, reference run at ab773dc: results/README.md)"


@dataclass(frozen=True)
class Measured:
    value: float
    unit: str
    at: dict[str, Any]  # the sizes it was measured at (hyperparameters, batch): what scaling starts from
    command: str  # what measured it (and reads it back)


_RUNS = "results/runs/{suite}/*/*/{algorithm}/seed*"
_STEP = f"{_RUNS}/{paths.TRAIN_LOG}: wall_s / train_step at the last checkpoint, mean"
_EVAL = f"{_RUNS}/{paths.EVALUATIONS}: sum(eval_wall_s) / sum(length), mean"
_RSS = "results/benchmarks/{stage}/{suite}/*/*/{algorithm}/seed*.tsv: max_rss, mean"
_DT_ATARI = {"context_size": 8, "num_layers": 2, "embed_size": 64, "batch": 4}
_DT_MUJOCO = {"context_size": 8, "num_layers": 2, "embed_size": 128, "batch": 8}
_ENCODER = {"encoder_hidden_size": 384, "encoder_visual_layers": 1, "encoder_cross_layers": 1}
_PIXELS = {"batch": 64, "frames": 2, "render_size": 84, "feature_size": 512}  # bc-pixels' defaults, preset batch
_BENCH_PIXELS = "pytest -m benchmark tests/benchmarks/test_bench_bc_pixels.py (this repo's 2-core box, under load)"

MEASURED: dict[str, Measured] = {
    # Seconds per gradient step, by suite and algorithm family, at the default preset's sizes.
    "train/atari/bc": Measured(0.0638, "s/step", {"batch": 32}, _STEP.format(suite="atari", algorithm="bc")),
    "train/atari/cql": Measured(0.1203, "s/step", {"batch": 32}, _STEP.format(suite="atari", algorithm="cql")),
    "train/atari/dt": Measured(0.0470, "s/step", _DT_ATARI, _STEP.format(suite="atari", algorithm="dt")),
    "train/atari/more3s": Measured(
        0.0326, "s/step", {**_DT_ATARI, **_ENCODER}, _STEP.format(suite="atari", algorithm="more3s")
    ),
    "train/mujoco/bc": Measured(0.0041, "s/step", {"batch": 64}, _STEP.format(suite="mujoco", algorithm="bc")),
    "train/mujoco/cql": Measured(0.0336, "s/step", {"batch": 64}, _STEP.format(suite="mujoco", algorithm="cql")),
    "train/mujoco/dt": Measured(0.0165, "s/step", _DT_MUJOCO, _STEP.format(suite="mujoco", algorithm="dt")),
    "train/mujoco/more3s": Measured(
        0.0578, "s/step", {**_DT_MUJOCO, **_ENCODER}, _STEP.format(suite="mujoco", algorithm="more3s")
    ),
    # bc-pixels: not in the reference run; 200 steps on rendered Hopper frames (its benchmark)
    "train/mujoco/bc-pixels": Measured(0.1156, "s/step", _PIXELS, _BENCH_PIXELS),
    # Seconds per evaluation env step, the batched evaluator with the policy's share, at the same sizes.
    "evaluate/atari/bc": Measured(0.0012, "s/env step", {}, _EVAL.format(suite="atari", algorithm="bc")),
    "evaluate/atari/cql": Measured(0.0014, "s/env step", {}, _EVAL.format(suite="atari", algorithm="cql")),
    "evaluate/atari/dt": Measured(0.0040, "s/env step", _DT_ATARI, _EVAL.format(suite="atari", algorithm="dt")),
    "evaluate/atari/more3s": Measured(
        0.0089, "s/env step", {**_DT_ATARI, **_ENCODER}, _EVAL.format(suite="atari", algorithm="more3s")
    ),
    "evaluate/mujoco/bc": Measured(0.0003, "s/env step", {}, _EVAL.format(suite="mujoco", algorithm="bc")),
    "evaluate/mujoco/cql": Measured(0.0003, "s/env step", {}, _EVAL.format(suite="mujoco", algorithm="cql")),
    "evaluate/mujoco/dt": Measured(0.0008, "s/env step", _DT_MUJOCO, _EVAL.format(suite="mujoco", algorithm="dt")),
    "evaluate/mujoco/more3s": Measured(
        0.0158, "s/env step", {**_DT_MUJOCO, **_ENCODER}, _EVAL.format(suite="mujoco", algorithm="more3s")
    ),
    # its policy's share (drawing the live states, the CNN; 10 envs a batch) + BC's env step
    "evaluate/mujoco/bc-pixels": Measured(0.0060 + 0.0003, "s/env step", _PIXELS, _BENCH_PIXELS),
    # Making data, per transition.
    "dataset/atari/scripted": Measured(
        7.8e-4, "s/transition", {}, f"resources/datasets/atari/*/*/{paths.DATASET_CARD}: wall_s"
    ),
    "dataset/mujoco/ars": Measured(
        2.5e-4, "s/transition", {}, f"resources/datasets/mujoco/*/*/{paths.DATASET_CARD}: wall_s"
    ),
    "dataset/mujoco/sac": Measured(0.014, "s/SAC step", {}, "benchmark/ars.py docstring: 15k SAC steps in ~3.5 min"),
    # DQN-Replay: gunzip of a Dopamine checkpoint's frames (84x84 uint8), 64 MB/s; the import holds
    # its output in memory (3.7 GB peak for 500k transitions). D4RL/Minari files are read directly.
    "dataset/dqn-replay": Measured(
        7056 / 64e6,
        "s/frame decompressed",
        {},
        "pytest -m benchmark tests/benchmarks/test_bench_import.py (one synthetic 1M-row buffer; under load)",
    ),
    "dataset/import": Measured(1e-8, "s/byte", {}, "estimate for D4RL/Minari HDF5 reads (100 MB/s); not measured"),
    # MuJoCo frames under mujoco-render-v2 (84x84, EGL on the CPU).
    "frames/mujoco": Measured(
        3.9e-3,
        "s/frame",
        {},
        f"resources/features/mujoco/*/*/*/{paths.FEATURES_CARD}: frames_wall_s / pairs (under load)",
    ),
    # The frozen encoder, pairs per second on one thread (language layers once per distinct text).
    "features/encode": Measured(
        1 / 228.0, "s/pair", _ENCODER, f"resources/features/*/*/*/*/{paths.FEATURES_CARD}: encode_pairs_per_s, mean"
    ),
    # Peak resident memory of a job at the default sizes (MB): the floor of every estimate.
    "memory/train": Measured(800, "MB", {}, _RSS.format(stage="train", suite="*", algorithm="{bc,cql,dt}")),
    "memory/train/more3s": Measured(1840, "MB", _ENCODER, _RSS.format(stage="train", suite="*", algorithm="more3s")),
    "memory/evaluate": Measured(950, "MB", {}, _RSS.format(stage="evaluate", suite="*", algorithm="*")),
    "memory/dataset": Measured(500, "MB", {}, "results/benchmarks/datasets/*/*/*.tsv: max_rss"),
}


@dataclass(frozen=True)
class Gpu:
    name: str
    flops: float  # peak FLOP/s at the precision the suite trains in
    efficiency: float  # the share of it small-batch training reaches (an assumption, stated)


# fp32 (torch does not use TF32 for matmuls unless told to); 30% of peak is an assumption for
# these small-batch models, to be replaced by the GPU check's measurement.
GPU = Gpu("NVIDIA H100/H200 SXM, fp32 67 TFLOP/s", 67e12, 0.30)
SAFETY = 2.0  # runtime and memory requested = estimate x SAFETY (SLURM kills a job at its limit)
# What one job may be planned to take (with SAFETY); a preset that plans more is refused before
# Snakemake plans it: a week (the longest SLURM partitions allow), a large node's memory, a scratch disk.
LIMITS = {"hours": 168.0, "mem_gb": 1024.0, "disk_gb": 10_000.0}


def nature_cnn(channels: int, size: int = 84) -> tuple[int, int, int]:
    """The Nature CNN (8x8/4, 4x4/2, 3x3/1 convolutions) on `channels` x `size` x `size`: its
    multiply-adds before the fc, its conv parameters, and the fc's input width."""
    first = (size - 8) // 4 + 1
    second = (first - 4) // 2 + 1
    third = second - 2
    macs = first**2 * 32 * 8 * 8 * channels + second**2 * 64 * 4 * 4 * 32 + third**2 * 64 * 3 * 3 * 64
    kernels = 8 * 8 * channels * 32 + 4 * 4 * 32 * 64 + 3 * 3 * 64 * 64
    return macs, kernels, third**2 * 64


NATURE_CNN_MACS, NATURE_CNN_KERNELS, _ = nature_cnn(4)  # Atari's 4 stacked frames; the fc has 3136 x width


def pixel_cnn(hp: dict[str, Any]) -> tuple[int, int, int]:
    """bc-pixels' CNN: on `frames` stacked RGB frames of `render_size` pixels."""
    return nature_cnn(3 * hp["frames"], hp["render_size"])


# -- FLOP counts (multiply-adds x 2; training = 3 x forward) ----------------------------------------
def transformer_flops(layers: int, width: int, tokens: int) -> float:
    """One forward pass of `layers` GPT blocks over `tokens` tokens."""
    return layers * (24 * tokens * width**2 + 4 * tokens**2 * width)


def encoder_pair_flops(hp: dict[str, Any]) -> float:
    """The frozen LXMERT's forward FLOPs per (frame, text) pair, without the language layers (they
    run once per distinct text): visual layers over 36 regions, cross-modal layers over 20 + 36
    tokens (self-, cross-attention and feed-forward in both streams: ~4/3 of a plain layer)."""
    width = hp["encoder_hidden_size"]
    return transformer_flops(hp["encoder_visual_layers"], width, 36) + 4 / 3 * transformer_flops(
        hp["encoder_cross_layers"], width, 56
    )


def train_step_flops(family: str, suite: str, hp: dict[str, Any], batch: int) -> float:
    """FLOPs of one gradient step, for scaling a measured step to other sizes."""
    if family in ("dt", "more3s"):
        k, layers, width = hp["context_size"], hp["num_layers"], hp["embed_size"]
        if family == "dt":
            per_sequence = transformer_flops(layers, width, 3 * k)  # return, state, action tokens
            if suite == "atari":
                per_sequence += 2 * k * (NATURE_CNN_MACS + 3136 * width)  # each frame's CNN
        else:
            per_sequence = transformer_flops(layers, width, k) + 2 * k * 56 * hp["encoder_hidden_size"] * width
            if hp.get("features") == "live":  # the frozen encoder: forward only, every pair of the batch
                return 3 * batch * per_sequence + batch * k * encoder_pair_flops(hp)
        return 3 * batch * per_sequence
    if family == "bc-pixels":
        macs, _, flat = pixel_cnn(hp)
        return 3 * batch * 2 * (macs + flat * hp["feature_size"])
    return 3 * batch * 2 * (NATURE_CNN_MACS + 3136 * 512 if suite == "atari" else 2 * 256 * 256)


def policy_step_flops(family: str, suite: str, hp: dict[str, Any]) -> float:
    """Forward FLOPs of one action at evaluation: a sequence model reads its whole context; MORE-3S
    encodes the one new frame and fuses it."""
    if family == "more3s":
        k, width = hp["context_size"], hp["embed_size"]
        fusion = 2 * 56 * hp["encoder_hidden_size"] * width
        return transformer_flops(hp["num_layers"], width, k) + fusion + encoder_pair_flops(hp)
    return train_step_flops(family, suite, {**hp, "features": "cache"}, 1) / 3


def cpu_flops() -> float:
    """FLOP/s one CPU thread reaches on the encoder's batched matrix products (the measured
    encoder throughput over its FLOP count): the rate used for forward passes too large to have
    been measured."""
    measured = MEASURED["features/encode"]
    return encoder_pair_flops(measured.at) / measured.value


def family_of(algorithm: str) -> str:
    """The measured family whose cost an algorithm takes: MORE-3S's ablations are MORE-3S; an
    algorithm without a measurement (a newly added baseline) is priced as BC, and says so."""
    if algorithm.startswith("more3s"):
        return "more3s"
    measured = any(f"train/{suite}/{algorithm}" in MEASURED for suite in envs.SUITES)
    return algorithm if measured else "bc"


def scaled(key: str, family: str, suite: str, hp: dict[str, Any], batch: int) -> float:
    """The measured cost `key`, scaled by FLOPs from the sizes it was measured at to `hp`, `batch`."""
    measured = MEASURED[key]
    at = measured.at
    reference = train_step_flops(family, suite, {**hp, **at, "features": "cache"}, at.get("batch", batch))
    return measured.value * train_step_flops(family, suite, hp, batch) / reference


# -- Sizes ---------------------------------------------------------------------------------------
D4RL_TRANSITIONS = {  # D4RL v2 files (Fu et al. 2020), the counts the DT paper trains on
    ("halfcheetah", "medium"): 1_000_000,
    ("halfcheetah", "medium-replay"): 202_000,
    ("halfcheetah", "medium-expert"): 2_000_000,
    ("halfcheetah", "expert"): 1_000_000,
    ("hopper", "medium"): 1_000_000,
    ("hopper", "medium-replay"): 402_000,
    ("hopper", "medium-expert"): 1_999_906,
    ("hopper", "expert"): 999_906,
    ("walker2d", "medium"): 1_000_000,
    ("walker2d", "medium-replay"): 302_000,
    ("walker2d", "medium-expert"): 1_999_995,
    ("walker2d", "expert"): 999_995,
}


def transitions(spec: DatasetSpec) -> int:
    options = spec.options
    if "transitions" in options:
        return int(options["transitions"])
    key = (spec.env, spec.name)
    if key not in D4RL_TRANSITIONS:
        raise config.BenchmarkError(
            f"config key 'suites.{spec.suite}.datasets.{spec.name}': its size is unknown to the plan "
            f"(benchmark/plan.py D4RL_TRANSITIONS knows {', '.join(sorted({d for _, d in D4RL_TRANSITIONS}))})"
        )
    return D4RL_TRANSITIONS[key]


def transition_bytes(env: envs.EnvSpec) -> int:
    """Stored bytes per transition: one 84x84 frame (Atari; stacks are views) or the state vector,
    the action, reward, terminal and timeout."""
    observation = 84 * 84 if env.suite == "atari" else 4 * int(math.prod(env.observation_shape))
    action = 8 if env.discrete else 4 * env.action_size
    return observation + action + 12


def parameters(family: str, suite: str, hp: dict[str, Any], env: envs.EnvSpec) -> int:
    """Trainable parameters (approximate: the weight matrices), which size checkpoints and memory."""
    if family == "dt":
        width, layers = hp["embed_size"], hp["num_layers"]
        state = NATURE_CNN_KERNELS + 3136 * width if suite == "atari" else int(math.prod(env.observation_shape)) * width
        return layers * 12 * width**2 + state + 1024 * width + 2 * env.action_size * width
    if family == "more3s":
        width = hp["embed_size"]
        fusion = 56 * hp["encoder_hidden_size"] * width + width**2
        return hp["num_layers"] * 14 * width**2 + fusion + hp["max_timestep"] * width + env.action_size * width
    if family == "bc-pixels":  # the CNN, its fc and the policy head; no target network
        _, kernels, flat = pixel_cnn(hp)
        return kernels + flat * hp["feature_size"] + hp["feature_size"] * env.action_size
    if suite == "atari":
        heads = hp.get("n_quantiles", 1) or 1
        return 2 * (NATURE_CNN_KERNELS + 3136 * 512 + 512 * env.action_size * heads)  # network and its target
    return 5 * (2 * 256 * 256)  # actor, two critics, two targets (256-wide MLPs)


def encoder_parameters(hp: dict[str, Any]) -> int:
    width = hp["encoder_hidden_size"]
    layers = hp["encoder_language_layers"] + hp["encoder_visual_layers"] + 4 / 3 * hp["encoder_cross_layers"]
    return int(12 * width**2 * layers + 30522 * width)  # + the word embeddings


# -- The plan --------------------------------------------------------------------------------------
@dataclass
class Job:
    stage: str
    name: str  # the job's wildcards, as Snakemake names its outputs
    cpu_s: float  # seconds on one core (CPU presets: all of it)
    gpu_s: float = 0.0  # seconds on one GPU (GPU presets only)
    mem_mb: float = 0.0  # peak resident memory
    disk_bytes: float = 0.0  # written and kept
    key: str = ""  # the preset key that sizes it (what a refusal names)


@dataclass
class Plan:
    preset: str
    gpu: bool  # jobs that train get a GPU (gpus_per_job)
    jobs: list[Job] = field(default_factory=list)

    def stages(self) -> dict[str, dict[str, float]]:
        totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for job in self.jobs:
            row = totals[job.stage]
            row["jobs"] += 1
            row["cpu_h"] += job.cpu_s / 3600
            row["gpu_h"] += job.gpu_s / 3600
            row["peak_mem_gb"] = max(row["peak_mem_gb"], job.mem_mb / 1024)
            row["disk_gb"] += job.disk_bytes / 1e9
        return {stage: dict(row) for stage, row in totals.items()}

    def resources(self, stage: str, name: str) -> dict[str, int]:
        """`mem_mb` and `runtime` (minutes) of one job, with SAFETY headroom, for its rule."""
        job = self.jobs_by_name.get((stage, name))
        if job is None:  # a job outside the preset's grid (a direct target): the stage's largest
            job = max((j for j in self.jobs if j.stage == stage), key=lambda j: j.cpu_s + j.gpu_s)
        minutes = (job.cpu_s + job.gpu_s) / 60  # a GPU job's CPU share (the envs) runs between its GPU calls
        mem_mb = max(1000, int(math.ceil(job.mem_mb * SAFETY / 100) * 100))
        return {"mem_mb": mem_mb, "runtime": max(5, int(minutes * SAFETY) + 1)}

    @cached_property
    def jobs_by_name(self) -> dict[tuple[str, str], Job]:
        """(stage, name) -> job: one lookup per rule's resource request (made once the plan is whole)."""
        return {(j.stage, j.name): j for j in self.jobs}

    def markdown(self) -> str:
        unit = f"GPU hours ({GPU.name} at {GPU.efficiency:.0%}: estimates)"
        lines = [
            f"# Capacity plan: preset `{self.preset}`",
            "",
            f"Per-unit costs measured on {MACHINE} (benchmark/plan.py MEASURED, each with its command);",
            "other sizes scaled by FLOPs; evaluation at its upper bound (every episode to the cap).",
            "",
            f"| stage | jobs | CPU hours | {unit} | peak RAM per job (GB) | disk written (GB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        stages = self.stages()
        for stage, row in stages.items():
            lines.append(
                f"| {stage} | {row['jobs']:.0f} | {row['cpu_h']:,.1f} | {row['gpu_h']:,.1f} | "
                f"{row['peak_mem_gb']:.1f} | {row['disk_gb']:,.1f} |"
            )
        total = {k: sum(row[k] for row in stages.values()) for k in ("jobs", "cpu_h", "gpu_h", "disk_gb")}
        peak = max(row["peak_mem_gb"] for row in stages.values())
        lines.append(
            f"| **total** | {total['jobs']:.0f} | {total['cpu_h']:,.1f} | {total['gpu_h']:,.1f} | {peak:.1f} | "
            f"{total['disk_gb']:,.1f} |"
        )
        return "\n".join(lines) + "\n"


def make(preset: Preset) -> Plan:
    """The plan of a validated preset."""
    gpu = bool(preset.gpus_per_job)
    plan = Plan(preset.name, gpu)
    env_specs: dict[tuple[str, str], envs.EnvSpec] = {}

    def env_of(suite: str, env: str) -> envs.EnvSpec:
        if (suite, env) not in env_specs:
            env_specs[suite, env] = envs.EnvSpec.declared(suite, env)
        return env_specs[suite, env]

    sizes: dict[tuple[str, str, str], int] = {}
    for suite, suite_preset in preset.suites.items():
        for env in suite_preset.envs:
            for name in suite_preset.datasets:
                spec = config.dataset_spec(preset, suite, env, name)
                n = sizes[suite, env, name] = transitions(spec)
                plan.jobs.append(_dataset_job(spec, n, env_of(suite, env)))
                held_out = config.heldout_spec(spec)
                if held_out is not None:  # the diagnose stage's
                    plan.jobs.append(_dataset_job(held_out, transitions(held_out), env_of(suite, env)))
    for folder, frames in config.frames_grid(preset).items():
        n = sizes["mujoco", frames.env, frames.dataset]
        size = frames.render.size
        cpu = n * MEASURED["frames/mujoco"].value * (size / 84) ** 2
        key = f"suites.mujoco.datasets.{frames.dataset}.transitions"
        plan.jobs.append(
            Job("frames", folder, cpu, mem_mb=MEASURED["memory/dataset"].value, disk_bytes=n * size**2 * 3, key=key)
        )
    for folder, features in config.features_grid(preset).items():
        job = _features_job(folder, features, sizes[features.suite, features.env, features.dataset], gpu)
        job.key = f"suites.{features.suite}.datasets.{features.dataset}.transitions"
        plan.jobs.append(job)
    for key in config.grid(preset):
        run = config.run_spec(preset, key)
        env = env_of(key.suite, key.env)
        plan.jobs.extend(_run_jobs(key, run, env, sizes[key.suite, key.env, key.dataset], gpu))
    runs = len(config.grid(preset))
    plan.jobs.append(Job("aggregate", "scores.csv", 5.0 + 0.01 * runs, mem_mb=500, key="seeds"))
    reps = preset.report.bootstrap_reps
    plan.jobs.append(
        Job("report", "report", 60.0 + runs * reps * 2e-5, mem_mb=2000, disk_bytes=20e6, key="report.bootstrap_reps")
    )
    return plan


def check(preset: Preset) -> None:
    """Refuse a validated preset one of whose jobs the plan puts over LIMITS: one line naming the
    key that sizes the job and the plan's figure."""
    for job in make(preset).jobs:
        figures = {
            "hours": (job.cpu_s + job.gpu_s) * SAFETY / 3600,
            "mem_gb": job.mem_mb * SAFETY / 1024,
            "disk_gb": job.disk_bytes / 1e9,
        }
        for name, figure in figures.items():
            if figure > LIMITS[name]:
                unit = {"hours": "hours", "mem_gb": "GB of memory", "disk_gb": "GB of disk"}[name]
                raise BenchmarkError(
                    f"config key '{job.key}': the plan's {job.stage} job {job.name} needs {figure:,.0f} {unit} "
                    f"(with its x{SAFETY:g} headroom), over the limit of {LIMITS[name]:,.0f} a job (benchmark/plan.py)"
                )


def _dataset_job(spec: DatasetSpec, n: int, env: envs.EnvSpec) -> Job:
    stored = n * transition_bytes(env)
    name = f"{spec.suite}/{spec.env}/{spec.name}"
    if spec.source == "dqn-replay":  # every buffer's frames up to its last sampled one: at most all
        buffers = spec.options.get("num_buffers", sources.DT_1PCT_DEFAULTS["num_buffers"])
        cpu = buffers * 1_000_000 * MEASURED["dataset/dqn-replay"].value
    elif spec.source != "generated":
        cpu = stored * MEASURED["dataset/import"].value
    elif spec.suite == "atari":
        cpu = n * MEASURED["dataset/atari/scripted"].value
    elif spec.options.get("sac"):
        cpu = spec.options["sac"]["steps"] * MEASURED["dataset/mujoco/sac"].value
    else:
        cpu = n * MEASURED["dataset/mujoco/ars"].value
    memory = MEASURED["memory/dataset"].value + 1.1 * stored / 1e6  # the output is built in memory
    key = f"suites.{spec.suite}.datasets.{spec.name}.transitions"
    return Job("dataset", name, cpu, mem_mb=memory, disk_bytes=stored, key=key)


def _features_job(folder: str, features: Any, n: int, gpu: bool) -> Job:
    hp = {
        "encoder_hidden_size": features.encoder.hidden_size,
        "encoder_visual_layers": features.encoder.visual_layers,
        "encoder_cross_layers": features.encoder.cross_layers,
        "encoder_language_layers": features.encoder.language_layers,
    }
    encoder_bytes = 4 * encoder_parameters(hp)
    memory = MEASURED["memory/train/more3s"].value + encoder_bytes / 1e6
    if features.storage == "live":  # the texts and the encoder only
        return Job("features", folder, 60.0, mem_mb=memory, disk_bytes=n * 4 + encoder_bytes)
    flops = n * encoder_pair_flops(hp)
    measured = MEASURED["features/encode"]
    cpu = n * measured.value * encoder_pair_flops(hp) / encoder_pair_flops(measured.at)
    if features.suite == "mujoco" and features.modality != "text":
        cpu_render = n * MEASURED["frames/mujoco"].value
    else:
        cpu_render = 0.0
    cached = n * 56 * features.encoder.hidden_size * 2
    if gpu:
        return Job("features", folder, cpu_render, flops / (GPU.flops * GPU.efficiency), memory, cached + encoder_bytes)
    return Job("features", folder, cpu + cpu_render, mem_mb=memory, disk_bytes=cached + encoder_bytes)


def _run_jobs(key: RunKey, run: RunSpec, env: envs.EnvSpec, n: int, gpu: bool) -> list[Job]:
    family = family_of(key.algorithm)
    hp = run.hyperparameters
    batch, steps = run.budget.batch_size, run.budget.steps
    params = parameters(family, key.suite, hp, env)
    train_cpu = steps * scaled(f"train/{key.suite}/{family}", family, key.suite, hp, batch)
    train_gpu = steps * train_step_flops(family, key.suite, hp, batch) / (GPU.flops * GPU.efficiency)
    memory_key = "memory/train/more3s" if family == "more3s" else "memory/train"
    memory = MEASURED[memory_key].value + 16 * params / 1e6  # weights, gradients, Adam's two moments
    if family == "more3s" and hp.get("features") == "live":
        memory += 4 * encoder_parameters(hp) / 1e6
    if family == "bc-pixels":  # the frames store, memory-mapped: every page is read over training
        memory += n * hp["render_size"] ** 2 * 3 / 1e6
    checkpoints = len(run.budget.checkpoints)
    per_checkpoint = 4 * params * (1 if family == "more3s" else 3)  # d3rlpy saves Adam's state too
    train = Job("train", key.id, 0.0 if gpu else train_cpu, train_gpu if gpu else 0.0, memory)
    train.key = f"suites.{key.suite}.training.steps"
    train.disk_bytes = checkpoints * per_checkpoint + 2000 * checkpoints
    # evaluation: episodes x the step cap at each checkpoint, more at the last
    episodes = run.evaluation.episodes * (checkpoints - 1) + run.evaluation.final
    protocol = run.protocol
    if isinstance(protocol, envs.MujocoProtocol):
        cap = protocol.max_episode_steps
    else:
        cap = protocol.max_episode_frames // protocol.frame_skip
    env_steps = episodes * cap
    # per env step: the env (BC's measured cost), MuJoCo frames for MORE-3S, and the policy's
    # forward pass: its measured share at the default size as a floor (Python, small kernels),
    # its FLOPs at the run's size on the CPU, or on the job's GPU
    env_s = MEASURED[f"evaluate/{key.suite}/bc"].value
    draws = family in ("more3s", "bc-pixels") and key.suite == "mujoco"  # each live state drawn
    render_s = MEASURED["frames/mujoco"].value if draws else 0.0
    floor_s = MEASURED[f"evaluate/{key.suite}/{family}"].value - env_s - render_s
    flops = policy_step_flops(family, key.suite, hp)
    if gpu:
        cpu_s, gpu_s = env_steps * (env_s + render_s + floor_s), env_steps * flops / (GPU.flops * GPU.efficiency)
    else:
        cpu_s, gpu_s = env_steps * (env_s + render_s + max(floor_s, flops / cpu_flops())), 0.0
    memory = MEASURED["memory/evaluate"].value + 4 * params / 1e6
    if family == "more3s":
        memory += 4 * encoder_parameters(hp) / 1e6
    evaluate = Job("evaluate", key.id, cpu_s, gpu_s, memory, disk_bytes=60 * episodes)
    evaluate.key = f"suites.{key.suite}.evaluation.episodes"
    # diagnosis: the policy on every held-out step and on the closed-loop episodes, priced per step
    # as evaluation; MORE-3S encodes its swap windows three times more
    held_out = config.heldout_spec(run.dataset)
    closed_loop = config.CLOSED_LOOP_EPISODES * cap if sources.behaviour_role(run.dataset) else 0
    share = ((transitions(held_out) if held_out else 0) + closed_loop) / env_steps
    diagnose = Job("diagnose", key.id, cpu_s * share, gpu_s * share, memory, disk_bytes=20_000, key=evaluate.key)
    if family == "more3s":  # each swap window's pairs encoded three times (more3s.swaps)
        pairs = 3 * config.SWAP_WINDOWS * hp["context_size"]
        encode = MEASURED["features/encode"]
        diagnose.cpu_s += pairs * encode.value * encoder_pair_flops(hp) / encoder_pair_flops(encode.at)
    return [train, evaluate, diagnose, Job("score", key.id, 2.0, mem_mb=300, disk_bytes=2000)]
