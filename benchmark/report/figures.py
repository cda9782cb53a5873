"""The report's figures, each as PNG and PDF.

One colour per algorithm in every figure (`palette`): baselines in cool colours, the method under
study (the preset's `report.focus`, e.g. MORE-3S) and its ablations (`<focus>-<variant>`) in one
warm family (ablations hatched or dashed), and always listed baselines first, then the method,
then its ablations, so the family reads as a group. The data's behaviour policy, where the runs
recorded it, is a black dashed reference line.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from benchmark import io
from benchmark.report.statistics import CONFIDENCE, METRICS, SCORES, in_family

Colour = tuple[float, float, float]
# Baselines in cool colours (colour-blind-safe blue and green, a purple), more of them in further
# cool or neutral ones; the method under study in vermilion, its ablations in yellow-orange-brown.
_BASELINES = {"bc": "#0173b2", "cql": "#029e73", "dt": "#7b5ea7"}
_OTHER_BASELINES = ("#56b4e9", "#949494", "#2f4b7c", "#5fa8a0")
_FOCUS_COLOUR = "#d55e00"
ABLATION_HATCH = "///"  # bars of the method's ablations: its colour family, hatched
ABLATION_LINE = "--"  # and dashed lines
BEHAVIOUR_LINE = {"color": "black", "ls": (0, (4, 2)), "lw": 1.0}  # the data's behaviour policy
BEHAVIOUR_LABEL = "behaviour (data)"
SCORE_LABELS = {"final": "final (last evaluation)", "best": "best (best evaluation: optimistic)"}
NORMALISED = "normalised score\n(0 = random, 100 = reference)"
CI = f"{CONFIDENCE:.0%} stratified-bootstrap CI"
TITLE_CHARS_PER_INCH = 12  # characters of a 10-point title that fit in an inch, with a margin


@dataclass(frozen=True)
class Palette:
    """Every algorithm's colour, in legend order, and which of them are the method's ablations."""

    focus: str
    colours: dict[str, Colour]
    ablations: frozenset[str]

    def present(self, algorithms: Iterable[str]) -> list[str]:
        """`algorithms` in legend order."""
        shown = set(algorithms)
        return [a for a in self.colours if a in shown]

    def line(self, algorithm: str) -> str:
        return ABLATION_LINE if algorithm in self.ablations else "-"

    def hatch(self, algorithm: str) -> str | None:
        return ABLATION_HATCH if algorithm in self.ablations else None


def algorithm_order(algorithms: Iterable[str], focus: str) -> list[str]:
    names = sorted(set(algorithms))
    family = sorted((a for a in names if in_family(a, focus)), key=lambda a: (a != focus, a))
    return [a for a in names if not in_family(a, focus)] + family


def palette(algorithms: Iterable[str], focus: str) -> Palette:
    """The colour of every algorithm; depends on the names only, so it is the same in every figure."""
    order = algorithm_order(algorithms, focus)
    baselines = [a for a in order if not in_family(a, focus)]
    others = [a for a in baselines if a not in _BASELINES]
    ablations = [a for a in order if in_family(a, focus) and a != focus]
    colours = {a: to_rgb(c) for a, c in _BASELINES.items() if a in baselines}
    colours |= {a: to_rgb(_OTHER_BASELINES[i % len(_OTHER_BASELINES)]) for i, a in enumerate(others)}
    colours[focus] = to_rgb(_FOCUS_COLOUR)
    # darker and darker shades, skipping the palest (unreadable on white)
    colours |= dict(zip(ablations, sns.color_palette("YlOrBr", len(ablations) + 2)[2:], strict=True))
    return Palette(focus, {a: colours[a] for a in order}, frozenset(ablations))


def save(fig: Figure, stem: Path) -> None:
    """`<stem>.png` and `<stem>.pdf`; no timestamp in the PDF, so a rebuild is byte-identical."""
    io.atomic_write(stem.with_suffix(".png"), lambda f: fig.savefig(f, format="png", dpi=150))
    io.atomic_write(stem.with_suffix(".pdf"), lambda f: fig.savefig(f, format="pdf", metadata={"CreationDate": None}))
    plt.close(fig)


def _title(fig: Figure, text: str) -> None:
    """The figure's title, wrapped to its width: a one-panel figure is narrower than some titles."""
    fig.suptitle("\n".join(textwrap.wrap(text, int(fig.get_figwidth() * TITLE_CHARS_PER_INCH))), fontsize=10)


def _legend(fig: Figure, style: Palette, present: Iterable[str], behaviour: bool = False) -> None:
    """The algorithms `present`, in legend order; and the behaviour's line when one is drawn."""
    handles: list[Artist] = [
        Patch(facecolor=style.colours[a], edgecolor="white", hatch=style.hatch(a), label=a)
        for a in style.present(present)
    ]
    if behaviour:
        handles.append(Line2D([], [], label=BEHAVIOUR_LABEL, **BEHAVIOUR_LINE))
    # centred beside the panels, clear of the title above them (an upper legend met a one-panel figure's title)
    fig.legend(handles=handles, title="algorithm", loc="outside right center", frameon=False, fontsize=8)


def _behaviour_of(behaviour: pd.DataFrame, suite: str, env: str, dataset: str) -> float:
    """The data's normalised behaviour return; NaN where the runs did not record it."""
    row = behaviour[(behaviour["suite"] == suite) & (behaviour["env"] == env) & (behaviour["dataset"] == dataset)]
    return float(row["behaviour_norm"].iloc[0]) if len(row) else math.nan


def _groups(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return sorted(set(frame[["suite", "dataset"]].itertuples(index=False, name=None)))


def per_task(tasks: pd.DataFrame, scores: pd.DataFrame, behaviour: pd.DataFrame, style: Palette, stem: Path) -> None:
    """Per game/task bars: mean normalised score over seeds with its interval, every seed a dot,
    the data's behaviour a dashed line across the task's bars; one row per score kind, one column
    per suite and dataset."""
    groups = _groups(tasks)
    widths = [tasks[(tasks["suite"] == s) & (tasks["dataset"] == d)]["env"].nunique() for s, d in groups]
    algorithms = style.present(tasks["algorithm"])
    fig, axes = plt.subplots(
        len(SCORES),
        len(groups),
        figsize=(2.0 + sum(widths) * (0.6 + 0.35 * len(algorithms)), 7.0),
        gridspec_kw={"width_ratios": widths},
        squeeze=False,
        layout="constrained",
    )
    bar = 0.8 / len(algorithms)
    drawn = False
    for row, score in enumerate(SCORES):
        for col, (suite, dataset) in enumerate(groups):
            ax = axes[row, col]
            cells = tasks[(tasks["suite"] == suite) & (tasks["dataset"] == dataset)]
            envs = sorted(cells["env"].unique())
            for j, algorithm in enumerate(algorithms):
                for i, env in enumerate(envs):
                    cell = cells[(cells["env"] == env) & (cells["algorithm"] == algorithm)]
                    if cell.empty:
                        continue
                    x = i + (j - (len(algorithms) - 1) / 2) * bar
                    mean, low, high = (float(cell[f"{score}_norm_{s}"].iloc[0]) for s in ("mean", "low", "high"))
                    error = None if math.isnan(low) else [[mean - low], [high - mean]]
                    ax.bar(
                        x,
                        mean,
                        bar * 0.9,
                        color=style.colours[algorithm],
                        edgecolor="white",
                        hatch=style.hatch(algorithm),
                        yerr=error,
                        capsize=3,
                    )
                    seeds = scores[
                        (scores["suite"] == suite)
                        & (scores["dataset"] == dataset)
                        & (scores["env"] == env)
                        & (scores["algorithm"] == algorithm)
                    ][f"norm_{score}"]
                    # beside the interval's line, not on it
                    ax.scatter(np.full(len(seeds), x + bar / 4), seeds, s=12, c="white", edgecolors="black", zorder=3)
            for i, env in enumerate(envs):
                reference = _behaviour_of(behaviour, suite, env, dataset)
                if not math.isnan(reference):
                    ax.hlines(reference, i - 0.45, i + 0.45, zorder=4, **BEHAVIOUR_LINE)
                    drawn = True
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xticks(range(len(envs)), envs)
            ax.set_title(f"{suite} / {dataset}", fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{SCORE_LABELS[score]}\n{NORMALISED}", fontsize=8)
    _title(fig, f"Per task: mean over seeds (bars), {CI}, seeds (dots)")
    _legend(fig, style, algorithms, behaviour=drawn)
    save(fig, stem)


def aggregate(table: pd.DataFrame, score: str, style: Palette, reps: int, stem: Path) -> None:
    """Aggregate interval estimates of one score kind: a row per suite and dataset, a column per
    metric, a line per algorithm (its interval) with a dot (the point estimate)."""
    table = table[table["score"] == score]
    groups = _groups(table)
    algorithms = style.present(table["algorithm"])
    fig, axes = plt.subplots(
        len(groups),
        len(METRICS),
        figsize=(11.0, 0.8 + len(groups) * (0.5 + 0.3 * len(algorithms))),
        squeeze=False,
        layout="constrained",
    )
    for row, (suite, dataset) in enumerate(groups):
        cells = table[(table["suite"] == suite) & (table["dataset"] == dataset)].set_index("algorithm")
        present = [a for a in algorithms if a in cells.index]
        for col, (metric, about) in enumerate(METRICS.items()):
            ax = axes[row, col]
            for y, algorithm in enumerate(present):
                cell = cells.loc[algorithm]
                ax.hlines(
                    y, cell[f"{metric}_low"], cell[f"{metric}_high"], color=style.colours[algorithm], lw=6, alpha=0.6
                )
                ax.plot(cell[metric], y, "o", color="black", ms=4)
            ax.set_yticks(range(len(present)), present if col == 0 else [""] * len(present))
            ax.set_ylim(len(present) - 0.4, -0.6)  # top to bottom in legend order
            ax.grid(axis="x", alpha=0.3)
            if row == 0:
                ax.set_title(about.title, fontsize=9)
            if row == len(groups) - 1:
                ax.set_xlabel("normalised score", fontsize=8)
        first = cells.iloc[0]
        axes[row, 0].set_ylabel(f"{suite} / {dataset}\n{first['tasks']} task(s) x {first['seeds']} seeds", fontsize=8)
    _title(fig, f"Aggregate {SCORE_LABELS[score]} score, {CI} ({reps:,} reps)")
    _legend(fig, style, algorithms)
    save(fig, stem)


def learning_curves(curves: pd.DataFrame, behaviour: pd.DataFrame, style: Palette, stem: Path) -> None:
    """Normalised score against gradient steps per suite, env and dataset: the mean over seeds
    and its interval (band), and the data's behaviour (a dashed line)."""
    panels = sorted(set(curves[["suite", "env", "dataset"]].itertuples(index=False, name=None)))
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.0 * columns + 1.5, 3.2 * rows), squeeze=False, layout="constrained"
    )
    algorithms = style.present(curves["algorithm"])
    drawn = False
    for ax, (suite, env, dataset) in zip(axes.flat, panels, strict=False):
        panel = curves[(curves["suite"] == suite) & (curves["env"] == env) & (curves["dataset"] == dataset)]
        for algorithm in algorithms:
            line = panel[panel["algorithm"] == algorithm]
            if line.empty:
                continue
            ax.plot(
                line["train_step"],
                line["norm"],
                marker="o",
                ls=style.line(algorithm),
                color=style.colours[algorithm],
                ms=3,
                lw=1.5,
            )
            ax.fill_between(
                line["train_step"], line["low"], line["high"], color=style.colours[algorithm], alpha=0.2, lw=0
            )
        reference = _behaviour_of(behaviour, suite, env, dataset)
        if not math.isnan(reference):
            ax.axhline(reference, **BEHAVIOUR_LINE)
            drawn = True
        ax.set_title(f"{suite} / {env} / {dataset}", fontsize=9)
        ax.set_xlabel("gradient steps", fontsize=8)
        ax.set_ylabel(NORMALISED, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    _title(fig, f"Learning curves: mean over seeds of each evaluation's mean return, {CI}")
    _legend(fig, style, algorithms, behaviour=drawn)
    save(fig, stem)


def performance_profiles(profiles: pd.DataFrame, style: Palette, stem: Path) -> None:
    """Score distributions per suite (columns) and score kind (rows): the fraction of runs, over
    every env and dataset of the suite, scoring above tau, with its interval (band)."""
    suites = sorted(profiles["suite"].unique())
    algorithms = style.present(profiles["algorithm"])
    fig, axes = plt.subplots(
        len(SCORES), len(suites), figsize=(4.5 * len(suites) + 1.5, 6.5), squeeze=False, layout="constrained"
    )
    for row, score in enumerate(SCORES):
        for col, suite in enumerate(suites):
            ax = axes[row, col]
            panel = profiles[(profiles["suite"] == suite) & (profiles["score"] == score)]
            for algorithm in algorithms:
                line = panel[panel["algorithm"] == algorithm]
                ax.plot(line["tau"], line["fraction"], ls=style.line(algorithm), color=style.colours[algorithm], lw=1.5)
                ax.fill_between(line["tau"], line["low"], line["high"], color=style.colours[algorithm], alpha=0.2, lw=0)
            for reference in (0, 100):
                if panel["tau"].min() <= reference <= panel["tau"].max():
                    ax.axvline(reference, color="grey", lw=0.8, ls=":")
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{suite}, {SCORE_LABELS[score]}", fontsize=9)
            ax.set_xlabel("normalised score τ (0 = random, 100 = reference)", fontsize=8)
            ax.set_ylabel("fraction of runs with score > τ", fontsize=8)
            ax.grid(alpha=0.3)
    _title(fig, f"Performance profiles (runs: every seed of every env and dataset), {CI}")
    _legend(fig, style, algorithms)
    save(fig, stem)


def probability_of_improvement(table: pd.DataFrame, style: Palette, reps: int, stem: Path) -> None:
    """P(focus > baseline) per suite (rows) and score kind (columns), a line per baseline (its
    interval) with a dot (the estimate); a figure saying so when there is nothing to compare."""
    focus = style.focus
    if table.empty:
        fig, ax = plt.subplots(figsize=(6.0, 1.6), layout="constrained")
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"No probability of improvement: the results hold no `{focus}` runs\nbeside a baseline on the same tasks.",
            ha="center",
            va="center",
            fontsize=10,
        )
        save(fig, stem)
        return
    suites = sorted(table["suite"].unique())
    baselines = style.present(table["baseline"])
    fig, axes = plt.subplots(
        len(suites),
        len(SCORES),
        figsize=(9.0, 0.9 + len(suites) * (0.6 + 0.35 * len(baselines))),
        squeeze=False,
        layout="constrained",
    )
    for row, suite in enumerate(suites):
        for col, score in enumerate(SCORES):
            ax = axes[row, col]
            cells = table[(table["suite"] == suite) & (table["score"] == score)].set_index("baseline")
            present = [b for b in baselines if b in cells.index]
            for y, baseline in enumerate(present):
                cell = cells.loc[baseline]
                ax.hlines(
                    y, cell["probability_low"], cell["probability_high"], color=style.colours[baseline], lw=6, alpha=0.6
                )
                ax.plot(cell["probability"], y, "o", color="black", ms=4)
            ax.axvline(0.5, color="grey", lw=0.8, ls=":")
            ax.set_xlim(0, 1)
            ax.set_yticks(range(len(present)), [f"{focus} > {b}" for b in present])
            ax.set_ylim(len(present) - 0.4, -0.6)  # top to bottom in legend order
            ax.set_title(f"{suite}, {SCORE_LABELS[score]}", fontsize=9)
            ax.set_xlabel(f"P({focus} > baseline) on a task (0.5: no difference)", fontsize=8)
            ax.grid(axis="x", alpha=0.3)
    _title(fig, f"Probability of improvement, {CI} ({reps:,} reps)")
    save(fig, stem)


REFERENCE_LINES = ("--", ":", "-.")  # the diagnostics' reference predictors, in their order


def diagnostics(summary: pd.DataFrame, curves: pd.DataFrame, style: Palette, stem: Path) -> None:
    """Per task: the held-out action error of every algorithm (bars: mean over seeds, its std) with
    the reference predictors as lines; and, where one policy made the data, the closed-loop error
    against that policy by time step (mean over seeds)."""
    tasks = sorted(set(summary[["suite", "env", "dataset"]].itertuples(index=False, name=None)))
    columns = 2 if len(curves) else 1  # the closed-loop column only where some run has a curve
    fig, axes = plt.subplots(
        max(1, len(tasks)),
        columns,
        figsize=(5.5 * columns, 3.2 * max(1, len(tasks))),
        squeeze=False,
        layout="constrained",
    )
    algorithms = style.present(summary["algorithm"])
    for row, (suite, env, dataset) in zip(axes, tasks, strict=False):
        ax, loop_ax = row[0], row[-1]
        cells = summary[(summary["suite"] == suite) & (summary["env"] == env) & (summary["dataset"] == dataset)]
        measure = "held_out_mse" if cells["held_out_mse_mean"].notna().any() else "held_out_accuracy"
        shown = [a for a in algorithms if a in set(cells["algorithm"])]
        for x, algorithm in enumerate(shown):
            cell = cells[cells["algorithm"] == algorithm].iloc[0]
            std = cell[f"{measure}_std"]
            ax.bar(
                x,
                cell[f"{measure}_mean"],
                0.8,
                color=style.colours[algorithm],
                edgecolor="white",
                hatch=style.hatch(algorithm),
                yerr=None if math.isnan(std) else std,
                capsize=3,
            )
        references = cells[cells["algorithm"].str.startswith("reference: ")]
        for line, (_, reference) in zip(REFERENCE_LINES, references.iterrows(), strict=False):
            ax.axhline(reference[f"{measure}_mean"], color="black", ls=line, lw=1.0, label=reference["algorithm"])
        ax.set_xticks(range(len(shown)), shown, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("held-out MSE per action dim" if measure == "held_out_mse" else "held-out accuracy", fontsize=8)
        ax.set_title(f"{suite} / {env} / {dataset}: teacher-forced", fontsize=9)
        if len(references):
            ax.legend(fontsize=7, frameon=False)
        panel = (
            curves[(curves["suite"] == suite) & (curves["env"] == env) & (curves["dataset"] == dataset)]
            if len(curves)
            else curves
        )
        if panel.empty:
            if columns == 2:
                loop_ax.set_visible(False)
            continue
        for algorithm in style.present(panel["algorithm"]):
            mean = panel[panel["algorithm"] == algorithm].groupby("step")["mse"].mean()
            loop_ax.plot(mean.index, mean.values, ls=style.line(algorithm), color=style.colours[algorithm], lw=1.5)
        loop_ax.set_yscale("log")
        loop_ax.set_xlabel("time step of the episode", fontsize=8)
        loop_ax.set_ylabel("MSE per dim vs the behaviour policy", fontsize=8)
        loop_ax.set_title(f"{suite} / {env} / {dataset}: closed loop", fontsize=9)
        loop_ax.grid(alpha=0.3)
    _title(fig, "Diagnostics: held-out action error (mean ± std over seeds) and closed-loop error by time step")
    _legend(fig, style, algorithms)
    save(fig, stem)
