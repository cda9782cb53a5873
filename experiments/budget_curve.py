"""The budget MORE-3S needs (issue 25): its held-out action error against gradient steps.

MORE-3S trains from scratch on a task of a preset (its data, sizes and hyperparameters: the run
the preset would make, seed 0), one curve per (task, encoder-output standardisation, sequences per
gradient step), and every `measure_every` steps its held-out action error is measured as the
diagnose stage measures it (benchmark.diagnostics): teacher-forced on the held-out episodes of the
same behaviour (`<dataset>.heldout`), each step's window of K steps with the logged actions' texts
and the true returns-to-go. Continuous actions: MSE per action dimension; discrete: accuracy of the
action sampled from the policy's softmax and cross-entropy. The held-out pairs are encoded once
(a features cache of the held-out data, by the same frozen encoder: checked), so a measurement
costs a forward pass of the model, not of the encoder.

    python experiments/budget_curve.py                 # every curve not measured yet, then the report
    python experiments/budget_curve.py --report        # the figure and summary from curves/ alone
    python experiments/budget_curve.py --curve mujoco/hopper/medium:standardized:8
    python experiments/budget_curve.py --plan          # each curve's expected CPU and GPU time

Resumable at the curve: each finished curve's rows are one file of curves/ (written whole,
atomically, when the curve ends), so processes given different --curve can share the folder; a
curve that is stopped trains again from step 0 (each is sized to about a quarter of an hour of one
CPU core). The data and the training features come
from the workflow (`snakemake` is run for the missing ones); the held-out features are built here
by the features stage's own function. `workflow/scripts/budget-curve-gpu.sh` runs the curves
further on a GPU into the same files.

The report reads the reference run's diagnostics table (results/tables/diagnostics.csv) for what
the baselines reach on the same held-out data, fits err(s) = c + a * s^-b to each curve, and says
where the fit crosses the best pixel control's and the best state baseline's error: an estimate,
labelled as one, and none where the fitted floor c lies above the target.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import runtime

runtime.configure()  # before anything imports MuJoCo, matplotlib or transformers (as the CLI)

from benchmark import config, datasets, io, paths  # noqa: E402
from benchmark.diagnostics import action_error  # noqa: E402
from benchmark.errors import BenchmarkError  # noqa: E402
from benchmark.seeding import seed_everything  # noqa: E402
from benchmark.specs import Budget, RunKey  # noqa: E402
from benchmark.training import TrainLog  # noqa: E402


@dataclass(frozen=True)
class Curve:
    task: str  # suite/env/dataset of the preset
    standardize: bool  # encoder outputs z-scored before the fusion (the default preset: on)
    sequences: int  # sequences of context K per gradient step (the preset's, or DT's published 64)
    steps: int  # gradient steps, sized to ~15 min on a 2-core CPU (MEASURED_STEP_S)
    measure_every: int  # the held-out error is measured every this many steps

    @property
    def name(self) -> str:
        return f"{self.task}:{'standardized' if self.standardize else 'raw'}:{self.sequences}"


@dataclass(frozen=True)
class Study:
    preset: Path = Path("config/config.yaml")  # whose data, sizes and hyperparameters the curves use
    seed: int = 0  # one seed a curve: the trend with the budget, not the spread over seeds
    out: Path = Path("experiments/budget-curve")  # curves/*.csv, curve.png, summary.md (committed)
    diagnostics: Path = Path("results/tables/diagnostics.csv")  # the baselines' held-out errors
    steps_scale: float = 1.0  # every curve's steps (and measure_every) times this (the GPU script: more)


# The preset's batch first (what its runs get), standardised first (its default); Breakout's
# preset batch is 4 sequences. Seconds per step on this repo's 2-core Xeon, one torch thread
# (benchmark.plan MEASURED "train/*/more3s": 0.058 Hopper, 0.033 Breakout at the preset's batch;
# 64 sequences: scaled by tokens, ~8x and ~16x; measured here 5-11 min a curve, ~2x less).
DT_SEQUENCES = 64  # the DT paper's sequences a step (its batch size)
CURVES: tuple[Curve, ...] = tuple(
    Curve(task, standardize, sequences, steps, every)
    for standardize in (True, False)
    for task, sequences, steps, every in (
        ("mujoco/hopper/medium", 8, 15_000, 1_000),
        ("atari/breakout/expert", 4, 24_000, 2_000),
        ("mujoco/hopper/medium", DT_SEQUENCES, 2_000, 250),
        ("atari/breakout/expert", DT_SEQUENCES, 2_000, 250),
    )
)
CURVES_DIR = "curves"  # one csv a finished curve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", type=Path, default=Study.preset)
    parser.add_argument("--out", type=Path, default=Study.out)
    parser.add_argument("--steps-scale", type=float, default=Study.steps_scale)
    parser.add_argument("--curve", action="append", help="only these curves (task:standardized|raw:sequences)")
    parser.add_argument("--report", action="store_true", help="only the figure and summary, from curves/")
    parser.add_argument("--plan", action="store_true", help="only each curve's expected CPU and GPU time")
    args = parser.parse_args(argv)
    study = Study(preset=args.preset, out=args.out, steps_scale=args.steps_scale)
    known = {curve.name: curve for curve in CURVES}
    unknown = sorted(set(args.curve or ()) - set(known))
    if unknown:
        print(f"error: --curve {unknown[0]!r} is not one of: {', '.join(known)}", file=sys.stderr)
        return 2
    chosen = [scaled(known[name], study.steps_scale) for name in args.curve or known]
    try:
        if args.plan:
            print(plan_table(study, chosen))
            return 0
        if not args.report:
            for curve in chosen:
                if not curve_file(study.out, curve.name).exists():
                    run(study, curve)
        report(study)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def planned(study: Study, curve: Curve) -> tuple[float, float]:
    """The capacity plan's seconds for the curve's training on the CPU and on one GPU (benchmark.plan
    prices it as the preset's MORE-3S run on the task at the curve's steps and batch)."""
    from benchmark import plan

    preset = config.read(study.preset)  # edited below, then validated
    suite, env, dataset = curve.task.split("/")
    suite_config = preset["suites"][suite]
    suite_config["envs"] = {env: suite_config["envs"][env]}
    suite_config["datasets"] = {dataset: {**suite_config["datasets"][dataset], "algorithms": ["more3s"]}}
    budget = {"steps": curve.steps, "batch_size": curve.sequences, "eval_every": curve.measure_every}
    suite_config["training"].setdefault("per_algorithm", {})["more3s"] = budget
    preset["suites"] = {suite: suite_config}
    preset["algorithms"] = {"more3s": preset["algorithms"]["more3s"]}
    preset["seeds"] = [study.seed]
    (cpu,) = [job for job in plan.make(config.validate(copy.deepcopy(preset))).jobs if job.stage == "train"]
    on_gpu = config.validate({**copy.deepcopy(preset), "gpus_per_job": 1})
    (gpu,) = [job for job in plan.make(on_gpu).jobs if job.stage == "train"]
    return cpu.cpu_s, gpu.cpu_s + gpu.gpu_s  # on a GPU, its CPU share runs between the GPU's calls


def plan_table(study: Study, curves: list[Curve]) -> str:
    lines = [
        "| curve | steps | CPU hours (this repo's 2-core box) | GPU hours (the plan's estimate) |",
        "|---|---:|---:|---:|",
    ]
    total = np.zeros(2)
    for curve in curves:
        cpu_s, gpu_s = planned(study, curve)
        total += (cpu_s, gpu_s)
        lines.append(f"| {curve.name} | {curve.steps} | {cpu_s / 3600:.2f} | {gpu_s / 3600:.3f} |")
    lines.append(f"| **total** | | {total[0] / 3600:.2f} | {total[1] / 3600:.3f} |")
    return "\n".join(lines)


def scaled(curve: Curve, scale: float) -> Curve:
    return dataclasses.replace(
        curve, steps=round(curve.steps * scale), measure_every=max(1, round(curve.measure_every * scale))
    )


def curve_file(out: Path, name: str) -> Path:
    return out / CURVES_DIR / (name.replace("/", "-").replace(":", "-") + ".csv")


# -- One curve ------------------------------------------------------------------------------------
def run(study: Study, curve: Curve) -> None:
    """Train one curve's MORE-3S, measuring at every `measure_every`; then write its rows."""
    from more3s import features, heldout
    from more3s.algorithm import More3SAlgorithm
    from more3s.hyperparameters import features_spec

    preset = config.load(study.preset)
    suite, env, dataset = curve.task.split("/")
    spec = config.run_spec(preset, RunKey(suite, env, dataset, "more3s", study.seed))
    hyperparameters = {**spec.hyperparameters, "standardize": curve.standardize}
    train_features = features_spec(suite, env, dataset, hyperparameters)
    held_out_spec = config.heldout_spec(spec.dataset)
    if held_out_spec is None:
        raise BenchmarkError(f"{curve.task}: its data has no held-out set (imported or not repeatable)")
    make_inputs(
        study,
        [
            spec.dataset.folder / paths.MANIFEST,
            held_out_spec.folder / paths.MANIFEST,
            train_features.folder / paths.MANIFEST,
        ],
    )
    held_out_features = train_features.held_out(held_out_spec.name)
    if not (held_out_features.folder / paths.MANIFEST).exists():
        features.build(held_out_features)
    heldout.same_encoder(train_features.folder, held_out_features.folder)

    seed_everything(study.seed, spec.torch_threads)
    env_spec = spec.env_spec()
    data = datasets.load(spec.dataset.folder, env=env_spec, name=spec.dataset.name)
    held_out = datasets.load(held_out_spec.folder, env=env_spec, name=held_out_spec.name)
    encoded = features.load(held_out_features.folder, held_out)
    measure = HeldOutError(held_out, encoded, hyperparameters["context_size"], study.seed)
    algorithm = More3SAlgorithm(env_spec, hyperparameters, study.seed)
    work = paths.RESOURCES / "budget-curve" / curve_file(study.out, curve.name).stem
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.time()

    def measured(step: int) -> None:
        rows.append(
            {
                "curve": curve.name,
                "task": curve.task,
                "standardize": curve.standardize,
                "sequences": curve.sequences,
                "train_step": step,
                "sequences_seen": step * curve.sequences,
                **measure(algorithm),
                "wall_s": round(time.time() - started, 1),
                "device": str(algorithm.device),
            }
        )
        print(f"{curve.name} step {step}: {rows[-1]}", flush=True)

    budget = Budget(steps=curve.steps, batch_size=curve.sequences, eval_every=curve.measure_every)
    algorithm.fit(data, budget, work, TrainLog(work / paths.TRAIN_LOG, measured))
    io.write_csv(curve_file(study.out, curve.name), pd.DataFrame(rows))


def make_inputs(study: Study, manifests: list[Path]) -> None:
    """The workflow makes what is missing: the datasets, the held-out data and the training features."""
    missing = [str(path) for path in manifests if not path.exists()]
    if missing:
        command = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(study.preset), *missing]
        if subprocess.run(command).returncode != 0:
            raise BenchmarkError(f"the workflow could not make {', '.join(missing)}: {' '.join(command)}")


class HeldOutError:
    """The diagnose stage's teacher-forced held-out error, from cached encoder outputs, as
    `more3s.heldout` measures it for the stage."""

    def __init__(self, held_out: datasets.OfflineDataset, encoded: Any, context: int, seed: int):
        from more3s.heldout import HeldOutWindows
        from more3s.windows import Windows

        self.windows = HeldOutWindows(held_out, encoded, Windows(held_out, context, np.random.default_rng(seed)))
        self.actions = np.asarray(held_out.actions)
        self.seed = seed

    def __call__(self, algorithm: Any) -> dict[str, float]:
        predicted, probabilities = self.windows.predict(algorithm, self.seed)
        rows = self.windows.rows
        shown = None if probabilities is None else probabilities[rows]
        error = action_error(predicted[rows], self.actions[rows], shown)
        if not algorithm.spec.discrete:
            return {"held_out_mse": error["mse_per_dim"]}
        return {"held_out_accuracy": error["accuracy"], "held_out_cross_entropy": error["cross_entropy"]}


# -- The report -----------------------------------------------------------------------------------
def power_law(steps: np.ndarray, floor: float, scale: float, exponent: float) -> np.ndarray:
    return floor + scale * np.power(steps, -exponent)


def fit(curve: pd.DataFrame, column: str) -> tuple[float, float, float] | None:
    """err(s) = c + a * s^-b over the curve's points after its first (the learning-rate warm-up)."""
    from scipy.optimize import curve_fit

    points = curve.iloc[1:]
    if len(points) < 4:
        return None
    steps, error = points["train_step"].to_numpy(float), points[column].to_numpy(float)
    try:
        found, _ = curve_fit(
            power_law,
            steps,
            error,
            p0=(error.min() * 0.9, error[0] * steps[0] ** 0.5, 0.5),
            bounds=([0.0, 0.0, 0.01], [np.inf, np.inf, 3.0]),
            maxfev=20_000,
        )
    except RuntimeError:  # no convergence: no estimate
        return None
    return float(found[0]), float(found[1]), float(found[2])


def crossing(found: tuple[float, float, float] | None, target: float) -> float | None:
    """The steps where the fit reaches `target`; None where its floor lies at or above it."""
    if found is None or not np.isfinite(target):
        return None
    floor, scale, exponent = found
    if target <= floor:
        return None
    return float((scale / (target - floor)) ** (1 / exponent))


def targets(diagnostics: pd.DataFrame, task: str, column: str) -> dict[str, float]:
    """What the baselines reach on the task's held-out data (lower is better: an error)."""
    suite, env, dataset = task.split("/")
    rows = diagnostics[
        (diagnostics["suite"] == suite) & (diagnostics["env"] == env) & (diagnostics["dataset"] == dataset)
    ]
    rows = rows.set_index("algorithm")
    if f"{column}_mean" not in rows:
        return {}
    error = rows[f"{column}_mean"].dropna()
    if column == "held_out_accuracy":
        error = 1 - error
    pixels = [
        name
        for name in error.index
        if name == "bc-pixels" or (suite == "atari" and not name.startswith(("more3s", "reference")))
    ]
    state = [
        name for name in error.index if suite == "mujoco" and not name.startswith(("more3s", "reference", "bc-pixels"))
    ]
    found = {}
    if pixels:
        found["best pixel control"] = float(error[pixels].min())
    if state:
        found["best state baseline"] = float(error[state].min())
    return found


def report(study: Study) -> None:
    """curve.png and summary.md, from curves/ and the reference run's diagnostics table alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = sorted((study.out / CURVES_DIR).glob("*.csv"))
    if not files:
        raise BenchmarkError(f"{study.out / CURVES_DIR}: no curve measured yet")
    curves = pd.concat([pd.read_csv(file) for file in files], ignore_index=True)
    diagnostics = (
        pd.read_csv(study.diagnostics)
        if study.diagnostics.exists()
        else pd.DataFrame(columns=["suite", "env", "dataset", "algorithm"])
    )
    tasks = list(dict.fromkeys(curves["task"]))
    # Top row against gradient steps, bottom against sequences seen (a step's compute grows with its
    # sequences, so this row compares 8 and 64 sequences a step at equal compute).
    figure, axes = plt.subplots(2, len(tasks), figsize=(6 * len(tasks), 8.4), squeeze=False)
    lines = [
        "# The budget MORE-3S needs: held-out action error against gradient steps",
        "",
        f"`python experiments/budget_curve.py` ({study.out / CURVES_DIR}/); one seed a curve. Error: "
        "MSE per action dimension (MuJoCo) or error rate of the sampled action (Atari), teacher-forced "
        "on held-out data, as the diagnose stage measures it. Targets: the reference run's diagnostics table "
        f"(`{study.diagnostics}`), mean over seeds. **Steps to reach a target are estimates**: the fit "
        "err(s) = c + a s^-b solved for the target, none where its floor c lies at or above it; the "
        "factor is that step over the last step measured: below 1x the fit crosses within the curve, "
        "above 1x it is extrapolated, and the further, the less it says. "
        "A curve's name ends with its sequences a step (the preset's 8 on Hopper and 4 "
        "on Breakout; DT's published 64): sequences seen = steps x sequences.",
        "",
        "| curve | device | last step | sequences seen | error there | fitted floor c | exponent b | target "
        "| target error | steps to reach (estimate) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for by_step, by_sequences, task in zip(axes[0], axes[1], tasks, strict=True):
        of_task = curves[curves["task"] == task]
        column = "held_out_mse" if task.startswith("mujoco") else "held_out_accuracy"
        goals = targets(diagnostics, task, column)
        for name, curve in of_task.groupby("curve", sort=False):
            curve = curve.sort_values("train_step").copy()
            curve["error"] = curve[column] if column == "held_out_mse" else 1 - curve[column]
            # colour by standardisation, line by sequences a step (dashed: DT's published batch)
            style = {
                "label": name.split(":", 1)[1],
                "color": "tab:green" if bool(curve["standardize"].iloc[0]) else "tab:orange",
                "linestyle": "--" if int(curve["sequences"].iloc[0]) == DT_SEQUENCES else "-",
                "marker": "o",
                "markersize": 3,
            }
            by_step.plot(curve["train_step"], curve["error"], **style)
            by_sequences.plot(curve["sequences_seen"], curve["error"], **style)
            found = fit(curve, "error")
            last = curve.iloc[-1]
            for goal, value in goals.items() or [("—", float("nan"))]:
                reach = crossing(found, value)
                reached = (
                    "not reached"
                    if reach is None
                    else f"~{reach:,.0f} ({reach * int(last['sequences']):,.0f} sequences; "
                    f"{reach / last['train_step']:.1f}x the last step measured)"
                )
                lines.append(
                    f"| {name} | {last['device']} | {int(last['train_step'])} | {int(last['sequences_seen']):,} | "
                    f"{last['error']:.4f} | {'—' if found is None else f'{found[0]:.4f}'} | "
                    f"{'—' if found is None else f'{found[2]:.2f}'} | {goal} | {value:.4f} | {reached} |"
                )
        for axis, x, xlabel in (
            (by_step, "train_step", "gradient steps"),
            (by_sequences, "sequences_seen", "sequences seen (steps x sequences a step)"),
        ):
            for goal, value in goals.items():
                axis.axhline(value, linestyle=":", linewidth=1, color="grey")
                axis.annotate(goal, (of_task[x].min(), value), fontsize=7, va="bottom")
            axis.set(xscale="log", xlabel=xlabel, ylabel="held-out error", title=task)
            axis.legend(title="standardisation:sequences", fontsize=7)
    figure.tight_layout()
    io.atomic_write(study.out / "curve.png", lambda f: figure.savefig(f, format="png", dpi=120))
    plt.close(figure)
    io.write_text(study.out / "summary.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
