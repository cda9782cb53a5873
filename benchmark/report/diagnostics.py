"""The diagnostics table: each run's diagnostics.json (benchmark.diagnostics), per task and algorithm.

One row per (task, algorithm): the held-out action error (continuous: MSE per action dimension,
lower is better; discrete: accuracy of the action played, higher is better, and cross-entropy
where the policy exposes its probabilities), mean ± std over seeds; the swap sensitivities of
algorithms that measure them (MORE-3S); the closed-loop error over the first bin and over whole
episodes. Each task also gets rows for the predictors that learn nothing (`reference: ...`), so
an error reads against what the data allows. Runs made before the diagnose stage have no file:
their cells are empty and the notes say how many.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from benchmark import compat, paths
from benchmark.report import tables
from benchmark.specs import RunKey

KEY = ["suite", "env", "dataset", "algorithm"]
REFERENCE = "reference: "  # the algorithm column of a reference predictor's row
MEASURES = (  # column, what it is
    ("held_out_mse", "held-out MSE per action dim"),
    ("held_out_accuracy", "held-out accuracy"),
    ("held_out_cross_entropy", "held-out cross-entropy (nats)"),
    ("frame_swap_change", "frame-swap change"),
    ("text_swap_change", "text-swap change"),
    ("closed_loop_first", "closed-loop MSE, first steps"),
    ("closed_loop_mean", "closed-loop MSE, whole episodes"),
)


def _error_columns(error: dict[str, float]) -> dict[str, float]:
    return {
        "held_out_mse": error.get("mse_per_dim", math.nan),
        "held_out_accuracy": error.get("accuracy", math.nan),
        "held_out_cross_entropy": error.get("cross_entropy", math.nan),
    }


def _rows(key: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's row, and one per reference predictor (identical for every run of the task)."""
    row: dict[str, Any] = {**key, "measured": True}
    references = []
    held_out = record.get("held_out")
    if held_out is not None:
        row |= _error_columns(held_out["policy"])
        references = [
            {**key, "algorithm": REFERENCE + name.replace("_", " "), "measured": True, **_error_columns(error)}
            for name, error in held_out["references"].items()
        ]
    own = record.get(key["algorithm"]) or {}
    row |= {name: own.get(name, math.nan) for name in ("frame_swap_change", "text_swap_change")}
    curve = (record.get("closed_loop") or {}).get("mse_per_dim") or []
    row |= {
        "closed_loop_first": curve[0] if curve else math.nan,
        "closed_loop_mean": float(np.mean(curve)) if curve else math.nan,
    }
    return [row, *references]


def load(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every run's diagnostics (one row each, plus the reference predictors' rows) and every
    closed-loop curve point (suite, env, dataset, algorithm, seed, step, mse), from results/ alone."""
    rows, curves = [], []
    for key in frame[[*KEY, "seed"]].to_dict("records"):
        record = compat.diagnostics(paths.run_dir(RunKey(**key).id) / paths.DIAGNOSTICS)
        if record is None:
            rows.append({**key, "measured": False})
            continue
        rows += _rows(key, record)
        loop = record.get("closed_loop")
        if loop:
            curves += [{**key, "step": i * loop["bin_steps"], "mse": mse} for i, mse in enumerate(loop["mse_per_dim"])]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task and algorithm (and reference predictor): every measure's mean and std over seeds."""
    measured = runs[runs["measured"]]
    if measured.empty:
        return pd.DataFrame(columns=[*KEY, "seeds"])
    columns = [name for name, _ in MEASURES if name in measured.columns]
    grouped = measured.groupby(KEY, sort=True)
    out = grouped[columns].agg(["mean", "std"])
    out.columns = [f"{name}_{stat}" for name, stat in out.columns]
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def display(summary: pd.DataFrame) -> pd.DataFrame:
    """Strings: each measure as mean ± std over seeds; columns no row has are left out."""
    shown = summary[KEY].copy()
    for name, title in MEASURES:
        if f"{name}_mean" not in summary or summary[f"{name}_mean"].isna().all():
            continue
        digits = 3 if "accuracy" in name or "cross_entropy" in name else 4
        shown[title] = [
            tables.mean_std(m, s, digits) for m, s in zip(summary[f"{name}_mean"], summary[f"{name}_std"], strict=True)
        ]
    shown["seeds"] = summary["seeds"].astype(str)
    return shown


def notes(runs: pd.DataFrame) -> list[str]:
    missing = int((~runs["measured"].astype(bool)).sum())
    return [
        "Teacher-forced on held-out episodes of the same behaviour (another seed; `<dataset>.heldout`): the "
        "policy acts at every step, told the logged action and reward, conditioned on the episode's own return. "
        "Continuous: MSE per action dimension (lower is better); discrete: accuracy of the action played and "
        "cross-entropy where the policy exposes its probabilities.",
        "Reference rows learn nothing: mean action (or the most frequent one), the previous logged action, and the "
        "noise floor (the logged actions against the noiseless policy that made them) where one policy did.",
        "Swap change (MORE-3S and its ablations): how far the prediction moves when each window's frames, or its "
        "texts, come from another window (MSE per dimension; discrete: total variation).",
        "Closed loop (where one policy made the data): the policy's action against that policy's on the states the "
        "policy visits, first 25 steps and whole episodes, MSE per dimension: when it leaves the data.",
        "Mean ± std over seeds."
        + (f" {missing} runs have no diagnostics.json (made before the diagnose stage)." if missing else ""),
    ]
