"""The report stage: tables and figures from results/scores.csv alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from benchmark import io, paths

GROUP = ["suite", "env", "dataset", "algorithm"]


def summary_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of the normalised final and best scores per env x algorithm."""
    grouped = scores.groupby(GROUP, sort=True)
    table = grouped.agg(
        seeds=("seed", "nunique"),
        norm_final_mean=("norm_final", "mean"),
        norm_final_std=("norm_final", "std"),
        norm_best_mean=("norm_best", "mean"),
        norm_best_std=("norm_best", "std"),
        raw_final_mean=("raw_final", "mean"),
        train_steps=("train_steps", "max"),
        pretrained=("pretrained", lambda s: "/".join(sorted(set(map(str, s))))),
        protocol=("protocol", "first"),
    )
    return table.reset_index().fillna({"norm_final_std": 0.0, "norm_best_std": 0.0})


def _pm(mean: float, std: float) -> str:
    return f"{mean:.1f} ± {std:.1f}"


def summary_markdown(table: pd.DataFrame, normalizers: dict[str, str]) -> str:
    lines = [
        "# Summary: normalised scores, mean ± std over seeds",
        "",
        "final = the last evaluation; best = the best evaluation (max over checkpoints of the mean",
        "return). Normalisers: " + ", ".join(f"{s}: `{n}`" for s, n in sorted(normalizers.items())) + ".",
        "",
        "| suite | env | dataset | algorithm | seeds | final (norm.) | best (norm.) | raw final | steps "
        "| pretrained | protocol |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.suite} | {row.env} | {row.dataset} | {row.algorithm} | {row.seeds} "
            f"| {_pm(row.norm_final_mean, row.norm_final_std)} | {_pm(row.norm_best_mean, row.norm_best_std)} "
            f"| {row.raw_final_mean:.1f} | {row.train_steps} | {row.pretrained} | `{row.protocol}` |"
        )
    return "\n".join(lines) + "\n"


def scores_figure(scores: pd.DataFrame, out: Path) -> None:
    """Per env and dataset: the mean normalised final score per algorithm (bar, with the std over
    seeds) and every seed (dot)."""
    scores = scores.assign(task=scores["env"] + "\n" + scores["dataset"])
    algorithms = sorted(scores["algorithm"].unique())
    tasks = sorted(scores["task"].unique())
    layout = {
        "data": scores,
        "x": "task",
        "y": "norm_final",
        "hue": "algorithm",
        "order": tasks,
        "hue_order": algorithms,
        "palette": dict(zip(algorithms, sns.color_palette("colorblind", len(algorithms)), strict=True)),
    }
    fig, ax = plt.subplots(figsize=(max(5.0, 1.8 * len(tasks) + 2.5), 3.8))
    sns.barplot(**layout, errorbar="sd", alpha=0.6, capsize=0.1, err_kws={"linewidth": 1}, ax=ax)
    sns.stripplot(**layout, dodge=True, size=4, edgecolor="black", linewidth=0.5, legend=False, ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("")
    ax.set_ylabel("normalised score (final)")
    ax.set_title(
        f"0 = random, 100 = reference; bars: mean ± std over {scores['seed'].nunique()} seeds (dots)", fontsize=9
    )
    ax.legend(
        title="algorithm", fontsize=8, title_fontsize=8, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left"
    )
    fig.tight_layout()
    io.atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=150))
    plt.close(fig)


def report(scores_csv: Path = paths.SCORES, tables: Path = paths.TABLES, figures: Path = paths.FIGURES) -> None:
    scores = pd.read_csv(scores_csv)
    table = summary_table(scores)
    normalizers = scores.groupby("suite")["normalizer"].first().to_dict()
    io.write_csv(tables / "summary.csv", table)
    io.write_text(tables / "summary.md", summary_markdown(table, normalizers))
    scores_figure(scores, figures / "scores.png")
