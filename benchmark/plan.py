"""Capacity plan: what a preset will cost, per stage and in total, before a single job runs.

    python -m benchmark plan config/<preset>.yaml   (or `snakemake plan`: results/plan.md)

Every number is computed from the preset's grid, what each algorithm says a run of it costs (the
`cost` hook its registry declaration names: benchmark.cost, a light function, so planning imports
no algorithm) and the per-unit costs in `MEASURED`, each measured on this project's
reference machine with the command beside it. Sizes the reference run did not use (the paper's
models, encoders, batches) are scaled from the measured cost by the ratio of their FLOP counts,
the algorithm's own at the run's sizes and at the measured ones: linear in work, so an estimate,
and labelled as one. An algorithm without a cost hook is priced by `benchmark.cost.fallback`, and
the printed plan names it. GPU hours cannot be measured here: they are FLOP counts over a
named GPU's peak at a stated efficiency (`GPU`), estimates until a GPU run replaces them.
Evaluation is priced at its upper bound, every episode running to the protocol's cap.

The workflow's rules take their `mem_mb` and `runtime` from the same plan (`Plan.resources`), so
a SLURM submission asks for what this table says, with `SAFETY` headroom.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from benchmark import algorithms, config, cost, envs, paths, sources
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import DatasetSpec, RunSpec

# -- What was measured, once, on the reference machine ---------------------------------------------
MACHINE = "Intel Xeon (2 cores, 24 GiB), one torch thread a job"
REFERENCE_RUN = "snakemake --cores 2 all  (default preset, reference run at ab773dc: results/README.md)"


@dataclass(frozen=True)
class Measured:
    value: float
    unit: str
    at: dict[str, Any]  # the sizes it was measured at (hyperparameters, batch): what scaling starts from
    command: str  # what measured it (and reads it back)
    scale: float = 1.0  # what one unit was, in the amounts a `cost.Work` on it gives (FLOPs, pixels)


_RUNS = "results/runs/{suite}/*/*/{algorithm}/seed*"
_STEP = f"{_RUNS}/{paths.TRAIN_LOG}: wall_s / train_step at the last checkpoint, mean"
_EVAL = f"{_RUNS}/{paths.EVALUATIONS}: sum(eval_wall_s) / sum(length), mean"
_RSS = "results/benchmarks/{stage}/{suite}/*/*/{algorithm}/seed*.tsv: max_rss, mean"
_DT_ATARI = {"context_size": 8, "num_layers": 2, "embed_size": 64, "batch": 4}
_DT_MUJOCO = {"context_size": 8, "num_layers": 2, "embed_size": 128, "batch": 8}
_ENCODER = {"encoder_hidden_size": 384, "encoder_visual_layers": 1, "encoder_cross_layers": 1}
_MORE3S = {**_ENCODER, "features": "cache", "render_size": 84}  # the encoder's outputs cached, frames 84 pixels square
_PIXELS = {"batch": 64, "frames": 2, "render_size": 84, "feature_size": 512}  # bc-pixels' defaults, preset batch
_BENCH_PIXELS = "pytest -m benchmark tests/benchmarks/test_bench_bc_pixels.py (this repo's 2-core box, under load)"

MEASURED: dict[str, Measured] = {
    # Seconds per gradient step, by suite and algorithm family, at the default preset's sizes.
    "train/atari/bc": Measured(0.0638, "s/step", {"batch": 32}, _STEP.format(suite="atari", algorithm="bc")),
    "train/atari/cql": Measured(0.1203, "s/step", {"batch": 32}, _STEP.format(suite="atari", algorithm="cql")),
    "train/atari/dt": Measured(0.0470, "s/step", _DT_ATARI, _STEP.format(suite="atari", algorithm="dt")),
    "train/atari/more3s": Measured(
        0.0326, "s/step", {**_DT_ATARI, **_MORE3S}, _STEP.format(suite="atari", algorithm="more3s")
    ),
    "train/mujoco/bc": Measured(0.0041, "s/step", {"batch": 64}, _STEP.format(suite="mujoco", algorithm="bc")),
    "train/mujoco/cql": Measured(0.0336, "s/step", {"batch": 64}, _STEP.format(suite="mujoco", algorithm="cql")),
    "train/mujoco/dt": Measured(0.0165, "s/step", _DT_MUJOCO, _STEP.format(suite="mujoco", algorithm="dt")),
    "train/mujoco/more3s": Measured(
        0.0578, "s/step", {**_DT_MUJOCO, **_MORE3S}, _STEP.format(suite="mujoco", algorithm="more3s")
    ),
    # bc-pixels: 200 steps on rendered Hopper frames (its benchmark; 574251f's run: 1.3x, scaled by batch)
    "train/mujoco/bc-pixels": Measured(0.1156, "s/step", _PIXELS, _BENCH_PIXELS),
    # Seconds per evaluation env step, the batched evaluator with the policy's share, at the same sizes.
    "evaluate/atari/bc": Measured(0.0012, "s/env step", {}, _EVAL.format(suite="atari", algorithm="bc")),
    "evaluate/atari/cql": Measured(0.0014, "s/env step", {}, _EVAL.format(suite="atari", algorithm="cql")),
    "evaluate/atari/dt": Measured(0.0040, "s/env step", _DT_ATARI, _EVAL.format(suite="atari", algorithm="dt")),
    "evaluate/atari/more3s": Measured(
        0.0089, "s/env step", {**_DT_ATARI, **_MORE3S}, _EVAL.format(suite="atari", algorithm="more3s")
    ),
    "evaluate/mujoco/bc": Measured(0.0003, "s/env step", {}, _EVAL.format(suite="mujoco", algorithm="bc")),
    "evaluate/mujoco/cql": Measured(0.0003, "s/env step", {}, _EVAL.format(suite="mujoco", algorithm="cql")),
    "evaluate/mujoco/dt": Measured(0.0008, "s/env step", _DT_MUJOCO, _EVAL.format(suite="mujoco", algorithm="dt")),
    "evaluate/mujoco/more3s": Measured(
        0.0158, "s/env step", {**_DT_MUJOCO, **_MORE3S}, _EVAL.format(suite="mujoco", algorithm="more3s")
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
    # MuJoCo frames under mujoco-render-v2 (84x84, EGL on the CPU); other sizes scale by pixels.
    "frames/mujoco": Measured(
        3.9e-3,
        "s/frame",
        {"render_size": 84},
        f"resources/features/mujoco/*/*/*/{paths.FEATURES_CARD}: frames_wall_s / pairs (under load)",
        scale=84 * 84,
    ),
    # The frozen encoder, pairs per second on one thread (language layers once per distinct text);
    # other encoders scale by their FLOPs a pair, 400,056,320 at these sizes (more3s.cost.encoder_pair_flops)
    "features/encode": Measured(
        1 / 228.0,
        "s/pair",
        _ENCODER,
        f"resources/features/*/*/*/*/{paths.FEATURES_CARD}: encode_pairs_per_s, mean",
        scale=400_056_320,
    ),
    # Peak resident memory of a job at the default sizes (MB): the floor of every estimate.
    "memory/train": Measured(800, "MB", {}, _RSS.format(stage="train", suite="*", algorithm="{bc,cql,dt}")),
    "memory/train/more3s": Measured(1840, "MB", _MORE3S, _RSS.format(stage="train", suite="*", algorithm="more3s")),
    "memory/evaluate": Measured(950, "MB", {}, _RSS.format(stage="evaluate", suite="*", algorithm="*")),
    "memory/dataset": Measured(500, "MB", {}, "results/benchmarks/datasets/*/*/*.tsv: max_rss"),
}
# An evaluation env step with BC's policy, whose share is a few small matrix products: the env's own cost
ENV_STEP = "evaluate/{suite}/bc"


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


def cpu_flops() -> float:
    """FLOP/s one CPU thread reaches on the encoder's batched matrix products (the measured
    encoder throughput over its FLOP count): the rate used for forward passes too large to have
    been measured."""
    measured = MEASURED["features/encode"]
    return measured.scale / measured.value


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
    fallback: list[str] = field(default_factory=list)  # algorithms without a cost hook (cost.fallback)

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
        if self.fallback:
            lines += ["", f"Priced as fallback (no `cost` hook: {cost.FALLBACK}): {', '.join(self.fallback)}."]
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
                    sizes[suite, env, held_out.name] = transitions(held_out)
                    plan.jobs.append(_dataset_job(held_out, sizes[suite, env, held_out.name], env_of(suite, env)))
    runs = [_Priced(config.run_spec(preset, key), env_of(key.suite, key.env)) for key in config.grid(preset)]
    plan.fallback = sorted({run.spec.key.algorithm for run in runs if run.fallback})
    precomputes = {p.folder: p for run in runs for p in run.cost.precompute}  # runs that read alike share one
    held_outs = (p.held_out for p in list(precomputes.values()) if p.held_out is not None)
    precomputes.update({p.folder: p for p in held_outs if (p.suite, p.env, p.dataset) in sizes})
    for stage in cost.PRECOMPUTE_STAGES:
        for precompute in precomputes.values():
            if precompute.stage == stage:
                n = sizes[precompute.suite, precompute.env, precompute.dataset]
                plan.jobs.append(_precompute_job(precompute, n, gpu))
    for run in runs:
        key = run.spec.key
        plan.jobs.extend(_run_jobs(run, sizes[key.suite, key.env, key.dataset], gpu))
    plan.jobs.append(Job("aggregate", "scores.csv", 5.0 + 0.01 * len(runs), mem_mb=500, key="seeds"))
    reps = preset.report.bootstrap_reps
    report_s = 60.0 + len(runs) * reps * 2e-5
    plan.jobs.append(Job("report", "report", report_s, mem_mb=2000, disk_bytes=20e6, key="report.bootstrap_reps"))
    return plan


class _Priced:
    """One run of the grid with its algorithm's cost at the run's sizes (`cost`), and the same
    algorithm's cost at the sizes a per-unit cost was measured at (`at`): what its time scales from."""

    def __init__(self, spec: RunSpec, env: envs.EnvSpec):
        self.spec, self.env = spec, env
        hook = algorithms.declared(spec.key.algorithm).cost  # light: planning imports no algorithm
        self.fallback = hook is None
        self.price = cost.fallback if hook is None else hook
        self.hyperparameters = algorithms.typed(spec.key.algorithm, spec.key.suite, spec.hyperparameters)
        self.cost: cost.Cost = self.price(env, spec.key.dataset, self.hyperparameters, spec.budget.batch_size)

    def measured(self, stage: str) -> Measured:
        """The per-unit cost of `stage` (train, evaluate) that the algorithm's cost hook names."""
        key = f"{stage}/{self.spec.key.suite}/{self.cost.measured}"
        if key not in MEASURED:
            raise BenchmarkError(
                f"algorithm {self.spec.key.algorithm}: its cost hook scales from {key!r}, which benchmark/plan.py "
                "MEASURED does not hold"
            )
        return MEASURED[key]

    def at(self, measured: Measured) -> cost.Cost:
        sizes = {name: value for name, value in measured.at.items() if name != "batch"}
        try:
            hyperparameters = dataclasses.replace(self.hyperparameters, **sizes)
        except TypeError:
            raise BenchmarkError(
                f"algorithm {self.spec.key.algorithm}: its cost hook scales from a cost measured at "
                f"{', '.join(sorted(sizes))}, not all of them its hyperparameters"
            ) from None
        batch = measured.at.get("batch", self.spec.budget.batch_size)
        return self.price(self.env, self.spec.key.dataset, hyperparameters, batch)


def _seconds(work: cost.Work) -> float:
    """The CPU seconds of `work` at its measured per-unit cost."""
    measured = MEASURED[work.measured]
    return measured.value * work.amount / measured.scale


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


def _precompute_job(precompute: cost.Precompute, n: int, gpu: bool) -> Job:
    """A store made over the `n` transitions of its dataset; its FLOPs on the GPU of a GPU preset."""
    on_gpu = [work for work in precompute.work if gpu and work.on_gpu]
    cpu = precompute.fixed_s + sum(n * _seconds(work) for work in precompute.work if work not in on_gpu)
    return Job(
        precompute.stage,
        precompute.folder,
        cpu,
        sum(n * work.amount for work in on_gpu) / (GPU.flops * GPU.efficiency),
        mem_mb=MEASURED[precompute.memory].value + precompute.memory_mb,
        disk_bytes=n * precompute.bytes_per_transition + precompute.fixed_bytes,
        key=f"suites.{precompute.suite}.datasets.{precompute.dataset}.transitions",
    )


def _run_jobs(priced: _Priced, n: int, gpu: bool) -> list[Job]:
    run, price = priced.spec, priced.cost
    key, steps = run.key, run.budget.steps
    measured = priced.measured("train")
    train_cpu = steps * measured.value * price.train_step_flops / priced.at(measured).train_step_flops
    train_gpu = steps * price.train_step_flops / (GPU.flops * GPU.efficiency)
    floor = MEASURED.get(f"memory/train/{price.measured}", MEASURED["memory/train"])
    memory = floor.value + 16 * price.parameters / 1e6 + price.train_memory_mb  # weights, gradients, Adam's moments
    # a store read whole over training (memory-mapped: every page is read)
    memory += sum(n * p.bytes_per_transition / 1e6 for p in price.precompute if p.resident)
    checkpoints = len(run.budget.checkpoints)
    train = Job("train", key.id, 0.0 if gpu else train_cpu, train_gpu if gpu else 0.0, memory)
    train.key = f"suites.{key.suite}.training.steps"
    train.disk_bytes = checkpoints * price.checkpoint_bytes + 2000 * checkpoints
    # evaluation: episodes x the step cap at each checkpoint, more at the last
    episodes = run.evaluation.episodes * (checkpoints - 1) + run.evaluation.final
    protocol = run.protocol
    if isinstance(protocol, envs.MujocoProtocol):
        cap = protocol.max_episode_steps
    else:
        cap = protocol.max_episode_frames // protocol.frame_skip
    env_steps = episodes * cap
    # per env step: the env, what the algorithm does besides its forward pass (drawing the live
    # states), and the forward pass: its measured share at the measured size as a floor (Python,
    # small kernels), its FLOPs at the run's size on the CPU, or on the job's GPU
    env_s = MEASURED[ENV_STEP.format(suite=key.suite)].value
    render_s = sum(_seconds(work) for work in price.action_work)
    measured = priced.measured("evaluate")
    floor_s = measured.value - env_s - sum(_seconds(work) for work in priced.at(measured).action_work)
    flops = price.action_flops
    if gpu:
        cpu_s, gpu_s = env_steps * (env_s + render_s + floor_s), env_steps * flops / (GPU.flops * GPU.efficiency)
    else:
        cpu_s, gpu_s = env_steps * (env_s + render_s + max(floor_s, flops / cpu_flops())), 0.0
    memory = MEASURED["memory/evaluate"].value + 4 * price.parameters / 1e6 + price.evaluate_memory_mb
    evaluate = Job("evaluate", key.id, cpu_s, gpu_s, memory, disk_bytes=60 * episodes)
    evaluate.key = f"suites.{key.suite}.evaluation.episodes"
    # diagnosis: the policy on every held-out step and on the closed-loop episodes, priced per step
    # as evaluation, and the algorithm's own measurements
    held_out = config.heldout_spec(run.dataset)
    held_out_steps = transitions(held_out) if held_out else 0
    closed_loop = config.CLOSED_LOOP_EPISODES * cap if sources.behaviour_role(run.dataset) else 0
    diagnosis_s = sum(_seconds(work) for work in price.diagnosis_work)
    if price.held_out_step_flops is not None:  # from the held-out precompute, a forward pass a step
        diagnosis_s += held_out_steps * price.held_out_step_flops / cpu_flops()
        held_out_steps = 0
    share = (held_out_steps + closed_loop) / env_steps
    diagnose = Job("diagnose", key.id, cpu_s * share + diagnosis_s, gpu_s * share, memory, 20_000, evaluate.key)
    return [train, evaluate, diagnose, Job("score", key.id, 2.0, mem_mb=300, disk_bytes=2000)]
