"""`python -m benchmark compare`: verdicts on synthetic results whose answer is known (identical,
shifted by a known amount, two seeds only, a protocol mismatch), Welch's interval against scipy's
test, and the committed reference against the published numbers."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from scipy import stats

from benchmark import __main__ as cli
from benchmark import io, paths, scores
from benchmark.report import compare, reproduction

REPS = ["--bootstrap-reps", "300"]
PROTOCOL = "mujoco-v5-v1"


def write_results(
    folder: Path, cells: dict[tuple[str, str], np.ndarray], protocols: dict[tuple[str, str], str]
) -> None:
    """A results folder's scores.csv: per (env, algorithm), one row per seed with these normalised
    final scores, under PROTOCOL unless `protocols` names another (every other column as the
    aggregate stage writes it)."""
    folder.mkdir()
    rows = []
    for (env, algorithm), values in cells.items():
        protocol = protocols.get((env, algorithm), PROTOCOL)
        normalize = scores.normalizer("mujoco", env)
        for seed, norm in enumerate(values):
            raw = normalize.low + norm * (normalize.high - normalize.low) / 100
            rows.append(
                {"suite": "mujoco", "env": env, "dataset": "medium", "algorithm": algorithm, "seed": seed}
                | {"preset": "synthetic", "train_steps": 1000, "raw_final": raw, "norm_final": norm, "final_step": 1000}
                | {"raw_best": raw, "norm_best": norm, "best_step": 1000, "episodes": 10, "normalizer": scores.D4RL}
                | {"protocol": protocol, "pretrained": "no", "dataset_sha256": "ab" * 32, "git_sha": "cd" * 20}
                | {"train_wall_s": 1.0, "eval_wall_s": 1.0, "wall_s": 2.0}
            )
    io.write_csv(folder / paths.SCORES.name, pd.DataFrame(rows, columns=scores.COLUMNS))


def run_compare(a: Path, b: Path | str, out: Path, *extra: str) -> pd.DataFrame:
    assert cli.main(["compare", str(a), str(b), "--out", str(out), *REPS, *extra]) == 0
    return read_table(out / "compare.csv")


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).fillna({"protocol_differences": "", "other_differences": ""})


@pytest.fixture
def two_sides(tmp_path: Path) -> tuple[Path, Path]:
    """A and B: on Hopper, bc identical and cql shifted by +30 points in A (20 seeds each), dt with
    two seeds only; on Walker2d, bc identical but B's protocol differs."""
    rng = np.random.default_rng(0)
    bc, cql, dt, walker = (rng.normal(mean, 2.0, 20) for mean in (40.0, 50.0, 60.0, 70.0))
    a, b = tmp_path / "a", tmp_path / "b"
    # B's Walker2d runs: the same numbers under another protocol name, never silently "consistent"
    for folder, shift, walker_protocol in ((a, 30.0, PROTOCOL), (b, 0.0, f"{PROTOCOL}[max_episode_steps=500]")):
        cells = {("hopper", "bc"): bc, ("hopper", "cql"): cql + shift, ("hopper", "dt"): dt[:2]}
        write_results(folder, cells | {("walker2d", "bc"): walker}, {("walker2d", "bc"): walker_protocol})
    # the runs' config.json, kept for bc only: the same settings on Hopper, B's learning rate on Walker2d
    for folder, walker_rate in ((a, 1e-3), (b, 3e-4)):
        for env, rate in (("hopper", 1e-3), ("walker2d", walker_rate)):
            for seed in range(20):
                record = {"hyperparameters": {"learning_rate": rate}, "training": {"steps": 1000}}
                io.write_json(paths.run_dir(f"mujoco/{env}/medium/bc/seed{seed}", folder) / paths.RUN_CONFIG, record)
    return a, b


def test_known_verdicts_on_synthetic_results(two_sides: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_sides
    table = run_compare(a, b, tmp_path / "out").set_index(["env", "algorithm"])
    identical, shifted, two_seeds, mismatch = (
        table.loc[key] for key in [("hopper", "bc"), ("hopper", "cql"), ("hopper", "dt"), ("walker2d", "bc")]
    )
    assert identical["verdict"] == reproduction.CONSISTENT and identical["difference"] == pytest.approx(0.0)
    assert identical["difference_low"] < 0 < identical["difference_high"]
    assert identical["protocol_differences"] == ""
    assert shifted["verdict"] == reproduction.DIFFERENT and shifted["difference"] == pytest.approx(30.0)
    assert 25 < shifted["difference_low"] < 30 < shifted["difference_high"] < 35
    # Welch's check from the same seeds agrees where seeds are many
    assert shifted["welch_low"] > 25 and identical["welch_low"] < 0 < identical["welch_high"]
    assert two_seeds["verdict"] == reproduction.INCONCLUSIVE and "too few seeds" in two_seeds["verdict_reason"]
    assert (two_seeds["seeds_a"], two_seeds["seeds_b"]) == (2, 2)
    # equal numbers, different protocols: the verdict stands, the difference beside it
    assert mismatch["verdict"] == reproduction.CONSISTENT
    assert mismatch["protocol_differences"] == (
        f"protocol: {PROTOCOL} / {PROTOCOL}[max_episode_steps=500]; hyperparameters.learning_rate: 0.001 / 0.0003"
    )
    assert shifted["other_differences"] == "settings not compared (A and B kept no runs/<run>/config.json)"

    markdown = (tmp_path / "out" / "compare.md").read_text()
    assert f"consistent ({reproduction.PROTOCOLS_DIFFER})" in markdown
    assert "2 consistent, 1 different, 1 inconclusive (1 between differing protocols)" in markdown
    assert "practical threshold 10 normalised points" in markdown
    for name in ("compare.tex", "compare_aggregate.csv", "compare_aggregate.md", "compare.png", "compare.pdf"):
        assert (tmp_path / "out" / name).stat().st_size > 0

    aggregate = read_table(tmp_path / "out" / "compare_aggregate.csv")
    hopper_cql = aggregate[(aggregate["suite"] == "mujoco") & (aggregate["algorithm"] == "cql")].iloc[0]
    assert hopper_cql["verdict"] == reproduction.DIFFERENT and hopper_cql["difference"] == pytest.approx(30.0)
    mujoco_bc = aggregate[aggregate["algorithm"] == "bc"].iloc[0]
    assert mujoco_bc["tasks"] == 2 and "protocol:" in mujoco_bc["protocol_differences"]


def test_a_threshold_above_the_shift_turns_different_into_consistent(
    two_sides: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_sides
    table = run_compare(a, b, tmp_path / "out", "--threshold", "40").set_index(["env", "algorithm"])
    assert table.loc[("hopper", "cql"), "verdict"] == reproduction.CONSISTENT


@pytest.mark.parametrize(
    ("a", "b"),
    [((10.0, 3.0, 3), (12.0, 1.0, 3)), ((50.0, 13.3, 3), (67.6, 1.0, 3)), ((5.0, 2.0, 10), (40.0, 9.0, 4))],
)
def test_welch_interval_excludes_0_exactly_when_scipys_welch_test_rejects(
    a: tuple[float, float, int], b: tuple[float, float, int]
) -> None:
    difference, low, high = reproduction.welch(a, b)
    test = stats.ttest_ind_from_stats(*a, *b, equal_var=False)
    assert difference == pytest.approx(a[0] - b[0])
    assert (low > 0 or high < 0) == (test.pvalue < 0.05)
    assert low < difference < high


def test_welch_without_a_std_has_no_interval_and_no_verdict() -> None:
    difference, low, high = reproduction.welch((10.0, 3.0, 3), (40.0, math.nan, 3))
    assert difference == -30.0 and math.isnan(low) and math.isnan(high)
    assert reproduction.verdict(difference, low, high, (3, 3), 10.0)[0] == reproduction.INCONCLUSIVE


def test_reference_against_the_published_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed runs against the published tables: every verdict between differing protocols
    says so (none of ours is like for like), and DT's Hopper medium-replay is far below the DT paper's."""
    shutil.copytree(REPO / "results" / "runs", tmp_path / "results" / "runs")
    shutil.copy2(REPO / paths.SCORES, tmp_path / paths.SCORES)
    monkeypatch.chdir(tmp_path)
    table = run_compare(Path("results"), compare.PUBLISHED, tmp_path / "out")
    assert (table["interval"] == reproduction.WELCH).all() and (table["protocol_differences"] != "").all()
    dt_paper = table[(table["algorithm"] == "dt") & table["against"].str.startswith("DT paper")]
    replay = dt_paper[dt_paper["dataset"] == "medium-replay"].iloc[0]
    assert replay["verdict"] == reproduction.DIFFERENT and replay["difference_high"] < -10
    assert (table.loc[table["against"].str.contains("d3rlpy"), "verdict"] == reproduction.INCONCLUSIVE).all()
    assert not (tmp_path / "out" / "compare_aggregate.csv").exists()  # no per-seed published scores
    assert f"inconclusive ({reproduction.PROTOCOLS_DIFFER})" in (tmp_path / "out" / "compare.md").read_text()
