"""rliable statistics on small synthetic score tables: values, direction, reproducibility, edge cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import BenchmarkError
from benchmark.report import statistics
from benchmark.report.statistics import Settings

SETTINGS = Settings(focus="more3s", bootstrap_reps=300, profile_bootstrap_reps=200, seed=0)


def runs(
    algorithm: str, values: dict[str, list[float]], suite: str = "mujoco", dataset: str = "medium"
) -> pd.DataFrame:
    """One row per (env, seed): `values` maps env -> final score per seed; best = final + 1."""
    rows = [
        {"suite": suite, "env": env, "dataset": dataset, "algorithm": algorithm, "seed": seed}
        | {"norm_final": score, "norm_best": score + 1}
        for env, scores in values.items()
        for seed, score in enumerate(scores)
    ]
    return pd.DataFrame(rows)


def test_aggregates_are_rliable_metrics_over_envs_and_seeds() -> None:
    scores = runs("bc", {"hopper": [0.0, 50.0, 150.0, 20.0], "walker2d": [10.0, 30.0, 200.0, 40.0]})
    table = statistics.aggregates(scores, SETTINGS)
    final = table[table["score"] == "final"].iloc[0]
    values = np.array([[0, 10], [50, 30], [150, 200], [20, 40]], dtype=float)
    assert (final["tasks"], final["seeds"]) == (2, 4)
    assert final["mean"] == pytest.approx(values.mean())
    assert final["median"] == pytest.approx(np.median(values.mean(axis=0)))
    assert final["iqm"] == pytest.approx(np.sort(values.ravel())[2:6].mean())  # middle half of 8 runs
    assert final["optimality_gap"] == pytest.approx(100 - np.minimum(values, 100).mean())  # threshold 100
    for metric in statistics.METRICS:
        assert final[f"{metric}_low"] <= final[metric] <= final[f"{metric}_high"]
    best = table[table["score"] == "best"].iloc[0]
    assert best["mean"] == pytest.approx(values.mean() + 1)


def test_intervals_are_reproducible_and_follow_the_seed() -> None:
    scores = runs("bc", {"hopper": [3.0, 9.0, 14.0, 1.0, 7.0, 11.0]})
    first = statistics.aggregates(scores, SETTINGS)
    again = statistics.aggregates(scores, SETTINGS)
    other = statistics.aggregates(scores, Settings("more3s", 300, 200, seed=1))
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["mean_low"], other["mean_low"])


def test_one_seed_gives_no_interval() -> None:
    table = statistics.aggregates(runs("bc", {"hopper": [5.0]}), SETTINGS)
    assert table["mean"].tolist() == [5.0, 6.0]
    assert table["mean_low"].isna().all() and table["mean_high"].isna().all()


def test_a_seed_missing_a_task_is_left_out() -> None:
    scores = runs("bc", {"hopper": [1.0, 2.0, 3.0], "walker2d": [4.0, 5.0]})
    table = statistics.aggregates(scores, SETTINGS)
    assert table["seeds"].tolist() == [2, 2]
    assert table["mean"].tolist() == pytest.approx([3.0, 4.0])  # seeds 0 and 1 only


def test_probability_of_improvement_points_the_right_way() -> None:
    more3s = runs("more3s", {"hopper": [50.0, 60.0, 70.0], "walker2d": [40.0, 45.0, 50.0]})
    weaker = runs("bc", {"hopper": [1.0, 2.0, 3.0], "walker2d": [1.0, 2.0, 3.0]})
    stronger = runs("cql", {"hopper": [90.0, 95.0, 99.0], "walker2d": [80.0, 85.0, 90.0]})
    tied = runs("dt", {"hopper": [50.0, 60.0, 70.0], "walker2d": [40.0, 45.0, 50.0]})
    ablation = runs("more3s-rtg-none", {"hopper": [0.0, 0.0, 0.0]})  # never a "baseline"
    table = statistics.improvements(pd.concat([more3s, weaker, stronger, tied, ablation]), SETTINGS)
    final = table[table["score"] == "final"].set_index("baseline")
    assert sorted(final.index) == ["bc", "cql", "dt"]
    assert final.loc["bc", "probability"] == 1.0
    assert final.loc["cql", "probability"] == 0.0
    assert final.loc["dt", "probability"] == 0.5
    assert (final["tasks"] == 2).all()
    assert (final["probability_low"] <= final["probability"]).all()
    assert (final["probability"] <= final["probability_high"]).all()


def test_probability_of_improvement_only_on_tasks_both_ran() -> None:
    more3s = runs("more3s", {"hopper": [9.0, 8.0]})
    bc = runs("bc", {"hopper": [1.0, 2.0], "walker2d": [99.0, 98.0]})
    table = statistics.improvements(pd.concat([more3s, bc]), SETTINGS)
    assert table["tasks"].tolist() == [1, 1] and table["probability"].tolist() == [1.0, 1.0]


def test_no_more3s_no_probability_of_improvement() -> None:
    table = statistics.improvements(runs("bc", {"hopper": [1.0, 2.0]}), SETTINGS)
    assert table.empty and "probability_low" in table.columns


def test_ablations_are_compared_with_the_focus_task_by_task() -> None:
    more3s = runs("more3s", {"hopper": [50.0, 60.0, 70.0], "walker2d": [1.0, 2.0, 3.0]})
    worse_on_hopper = runs("more3s-rtg-none", {"hopper": [1.0, 2.0, 3.0], "walker2d": [90.0, 95.0, 99.0]})
    elsewhere = runs("more3s-memory", {"halfcheetah": [9.0, 9.0, 9.0]})  # no focus run there: no row
    baseline = runs("bc", {"hopper": [0.0, 0.0, 0.0]})  # outside the family: probability_of_improvement's
    table = statistics.ablations(pd.concat([more3s, worse_on_hopper, elsewhere, baseline]), SETTINGS)
    final = table[table["score"] == "final"].set_index("env")
    assert set(table["ablation"]) == {"more3s-rtg-none"}
    assert final.loc["hopper", "probability"] == 1.0 and final.loc["walker2d", "probability"] == 0.0
    assert final.loc["hopper", "mean"] == 60.0 and final.loc["hopper", "ablation_mean"] == 2.0
    assert (table["seeds"] == 3).all() and (table["probability_low"] <= table["probability"]).all()
    assert statistics.ablations(baseline, SETTINGS).empty


def test_profiles_fall_from_all_runs_to_none() -> None:
    scores = pd.concat([runs("bc", {"hopper": [0.0, 10.0, 20.0]}), runs("cql", {"hopper": [5.0, 15.0, 25.0]})])
    profiles = statistics.profiles(scores, SETTINGS)
    for _, curve in profiles.groupby(["suite", "score", "algorithm"]):
        fraction = curve.sort_values("tau")["fraction"].to_numpy()
        assert fraction[0] == 1.0 and fraction[-1] == 0.0
        assert (np.diff(fraction) <= 0).all()
    assert len(profiles) == 2 * 2 * statistics.PROFILE_POINTS  # algorithms x score kinds x taus


def test_learning_curves_average_episodes_then_seeds_and_drop_unshared_checkpoints() -> None:
    episodes = pd.DataFrame(
        {"suite": "mujoco", "env": "hopper", "dataset": "medium", "algorithm": "bc"}
        | {
            "seed": [0, 0, 0, 0, 1, 1, 1, 1, 1],
            "train_step": [100, 100, 200, 200, 100, 100, 200, 200, 300],
            "norm": [1.0, 3.0, 5.0, 7.0, 10.0, 20.0, 0.0, 0.0, 50.0],
        }
    )
    curve = statistics.learning_curves(episodes, SETTINGS)
    assert curve["train_step"].tolist() == [100, 200]  # seed 0 never reached step 300
    assert curve["norm"].tolist() == pytest.approx([(2.0 + 15.0) / 2, (6.0 + 0.0) / 2])
    assert (curve["low"] <= curve["norm"]).all() and (curve["norm"] <= curve["high"]).all()


def test_the_focus_is_compared_with_every_algorithm_outside_its_family() -> None:
    dt = runs("dt", {"hopper": [5.0, 6.0, 7.0]})
    ablation = runs("dt-small", {"hopper": [9.0, 9.0, 9.0]})  # the focus's own: never a baseline
    more3s = runs("more3s", {"hopper": [1.0, 2.0, 3.0]})  # an ordinary baseline here
    table = statistics.improvements(pd.concat([dt, ablation, more3s]), replace(SETTINGS, focus="dt"))
    final = table[table["score"] == "final"]
    assert final["algorithm"].tolist() == ["dt"] and final["baseline"].tolist() == ["more3s"]
    assert final["probability"].tolist() == [1.0]


def test_report_settings_name_the_missing_key() -> None:
    block = {"focus": "more3s", "bootstrap_reps": 300, "profile_bootstrap_reps": 200, "seed": 0}
    assert Settings.from_preset(block) == Settings("more3s", 300, 200, 0)
    with pytest.raises(BenchmarkError, match=r"^config key 'report.focus': missing"):
        Settings.from_preset({k: v for k, v in block.items() if k != "focus"})
