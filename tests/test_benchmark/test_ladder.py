"""The sanity ladder and the behaviour reference, on small synthetic results/ trees written as the
train, evaluate, score and aggregate stages write them: every rung passing, every rung failing,
and every rung lacking its data; and the train stage recording the data's behaviour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import REPO, write_random_dataset
from matplotlib.figure import Figure

from benchmark import aggregate, config, io, manifest, paths, report, scores, training
from benchmark.preset import Preset
from benchmark.report import diagnostics, figures, ladder, stage, statistics
from benchmark.report.statistics import Settings

SETTINGS = Settings(focus="more3s", bootstrap_reps=200, profile_bootstrap_reps=100, seed=0)
# committed runs whose config.json each synthetic run starts from
TEMPLATES = {
    "atari": REPO / "results/runs/atari/breakout/expert/bc/seed0",
    "mujoco": REPO / "results/runs/mujoco/hopper/medium/bc/seed0",
}
GENERATORS = {"replay": "scripted-replay", "medium": "sac-medium", "medium-replay": "sac-medium-replay"}
Task = tuple[str, str, str]


def write_run(task: Task, algorithm: str, seed: int, score: float, behaviour: float | None) -> None:
    """One run whose final normalised score is `score`; its config.json records the data's
    normalised behaviour return `behaviour`, or nothing (None: a run made before that record)."""
    suite, env, dataset = task
    run = f"{suite}/{env}/{dataset}/{algorithm}/seed{seed}"
    folder = paths.run_dir(run)
    folder.mkdir(parents=True)
    normalize = scores.normalizer(suite, env)

    def raw(normalised: float) -> float:
        return normalize.low + normalised / 100 * (normalize.high - normalize.low)

    spec: dict[str, Any] = io.read_json(TEMPLATES[suite] / "config.json")
    spec |= {"run": run, "key": {"suite": suite, "env": env, "dataset": dataset, "algorithm": algorithm, "seed": seed}}
    spec["dataset"] |= {"env": env, "name": dataset}
    spec["dataset"]["options"]["generator"] = GENERATORS[dataset]
    spec["training"] |= {"steps": 20, "eval_every": 10}  # what eval.csv below holds: 2 episodes at 10 and 20
    spec["evaluation"] = {"episodes": 2, "final_episodes": 2}
    spec.pop("behaviour", None)  # recorded only where the test says
    if behaviour is not None:
        spec["behaviour"] = {
            "description": f"made-up {dataset} policy",
            "episode_return_mean": raw(behaviour),
            "normalized_return": behaviour,
        }
    io.write_json(folder / "config.json", spec)
    evaluations = {"train_step": [10, 10, 20, 20], "episode": [0, 1, 0, 1]}
    returns = [raw(score - 1), raw(score - 1), raw(score), raw(score)]
    io.write_csv(
        folder / "eval.csv", pd.DataFrame(evaluations | {"return": returns, "length": 100, "eval_wall_s": 0.1})
    )
    io.write_csv(folder / "train_log.csv", pd.DataFrame({"train_step": [10, 20], "wall_s": [1.0, 2.0], "loss": 0.5}))


def write_results(runs: dict[Task, dict[str, list[float]]], behaviour: dict[Task, float | None]) -> None:
    """results/runs/ and scores.csv: per task, each algorithm's final normalised score per seed."""
    for task, algorithms in runs.items():
        for algorithm, seeds in algorithms.items():
            for seed, score in enumerate(seeds):
                write_run(task, algorithm, seed, score, behaviour[task])
                scores.score_run(f"{'/'.join(task)}/{algorithm}/seed{seed}")
    aggregate.collect(sorted(Path("results/runs").glob("*/*/*/*/seed*/metrics.json")))


def sanity_ladder(rungs: str = "abcd") -> pd.DataFrame:
    """The ladder's `rungs` as the report stage makes them, from results/ alone (rung e, on the
    method under study, has tests of its own below)."""
    frame = stage.load_scores()
    _, facts = stage.load_runs(frame)
    tasks = stage.per_task(frame, facts, statistics.task_intervals(frame, SETTINGS))
    diagnosed = diagnostics.table(diagnostics.load(frame)[0])
    table = ladder.sanity_ladder(tasks, stage.behaviours(facts), SETTINGS.focus, diagnosed)
    return table[table["rung"].isin(list(rungs))].reset_index(drop=True)


def verdicts(table: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    return {(row.rung, row.task, row.algorithms): row.verdict for row in table.itertuples()}


HOPPER_MEDIUM = ("mujoco", "hopper", "medium")
HOPPER_REPLAY = ("mujoco", "hopper", "medium-replay")
BREAKOUT = ("atari", "breakout", "replay")
PASSING = {
    HOPPER_MEDIUM: {
        "bc": [40.0, 41.0, 42.0],
        "cql": [10.0, 11.0, 12.0],
        "dt": [20.0, 21.0, 22.0],
        "more3s": [-5.0, -4.0, -3.0],  # the method under study: no baseline, so not in rung a
    },
    BREAKOUT: {"bc": [15.0, 16.0, 17.0], "dt": [5.0, 6.0, 7.0]},
}
BEHAVIOUR = {HOPPER_MEDIUM: 40.0, BREAKOUT: 20.0}


def test_every_rung_passes(in_tmp: Path) -> None:
    write_results(PASSING, BEHAVIOUR)
    table = sanity_ladder()
    assert list(table.columns) == ladder.COLUMNS
    found = verdicts(table)
    hopper, breakout = "mujoco/hopper/medium", "atari/breakout/replay"
    assert found == {
        ("a", hopper, "bc"): "PASS",
        ("a", hopper, "cql"): "PASS",
        ("a", hopper, "dt"): "PASS",
        ("a", "overall (every row above)", "—"): "PASS",
        ("b", hopper, "bc"): "PASS",
        ("b", "overall (every row above)", "—"): "PASS",
        ("c", breakout, "bc, dt"): "PASS",
        ("c", hopper, "bc, dt, cql, more3s"): "PASS",  # by mean, highest first
        ("c", "overall (any row above)", "—"): "PASS",
        ("d", breakout, "bc, dt"): "PASS",
        ("d", "overall (any row above)", "—"): "PASS",
    }
    assert (table["reason"] == "").all()
    numbers = table.set_index(["rung", "task", "algorithms"])["numbers"]
    assert numbers[("b", hopper, "bc")].startswith("bc 41.00 [")
    assert numbers[("b", hopper, "bc")].endswith("; behaviour 40.00 (80%: 32.00)")
    assert numbers[("d", breakout, "bc, dt")].endswith("; behaviour 20.00 (50%: 10.00)")
    separated = numbers[("c", hopper, "bc, dt, cql, more3s")].split("; ")
    assert len(separated) == 6 and separated[0].startswith("bc 41.00 [") and " > dt 21.00 [" in separated[0]


def test_every_rung_fails_and_says_why(in_tmp: Path) -> None:
    write_results(
        {
            HOPPER_MEDIUM: {
                "bc": [-30.0, 30.0, 90.0],  # mean 30 < 80% of 40, and its CI includes 0
                "cql": [-3.0, 1.0, 5.0],  # mean above 0, CI includes 0
                "dt": [-4.0, -3.0, 2.0],  # mean below 0; every pair of CIs overlaps
            },
            BREAKOUT: {"bc": [1.0, 2.0, 3.0], "dt": [-2.0, 1.0, 2.0]},  # bc < 50% of 20; dt's CI includes 0
        },
        BEHAVIOUR,
    )
    table = sanity_ladder()
    assert set(table["verdict"]) == {"FAIL"}  # every row, overall rows included, and none left out
    assert len(table) == 11
    reasons = table.set_index(["rung", "task", "algorithms"])["reason"]
    hopper, breakout = "mujoco/hopper/medium", "atari/breakout/replay"
    assert reasons[("a", hopper, "bc")] == "bc's CI includes 0"
    assert reasons[("a", hopper, "cql")] == "cql's CI includes 0"
    assert reasons[("a", hopper, "dt")] == "dt mean -1.67 <= 0"
    assert reasons[("b", hopper, "bc")] == "bc 30.00 < 32.00"
    assert reasons[("c", hopper, "bc, cql, dt")] == "every pair of CIs overlaps"
    assert reasons[("d", breakout, "bc, dt")] == "bc 2.00 < 10.00; dt's CI includes 0"
    assert reasons[("d", "overall (any row above)", "—")] == "needs: at least one row passes"


def test_missing_data_is_said_not_hidden(in_tmp: Path) -> None:
    # Runs made before config.json recorded the behaviour; no Atari game; one seed of bc on
    # medium-replay (no CI); cql not run on medium (a preset's choice: rung a checks where it ran).
    write_results(
        {
            HOPPER_REPLAY: {"bc": [5.0], "cql": [10.0, 11.0, 12.0]},
            HOPPER_MEDIUM: {"bc": [40.0, 41.0, 42.0]},
        },
        {HOPPER_REPLAY: None, HOPPER_MEDIUM: None},
    )
    table = sanity_ladder()
    rows = table.set_index(["rung", "task", "algorithms"])[["verdict", "reason"]]
    medium, replay = "mujoco/hopper/medium", "mujoco/hopper/medium-replay"
    expected = {
        ("a", medium, "bc"): ("PASS", ""),
        ("a", replay, "bc"): ("N/A", "bc: 1 seed, no CI"),
        ("a", replay, "cql"): ("PASS", ""),
        ("a", "overall (every row above)", "—"): ("N/A", "needs: every row passes"),
        ("b", medium, "bc"): ("N/A", "the behaviour's normalised return is not recorded"),
        ("b", "overall (every row above)", "—"): ("N/A", "needs: every row passes"),
        ("c", medium, "bc"): ("N/A", "fewer than 2 CIs"),
        ("c", replay, "bc, cql"): ("N/A", "fewer than 2 CIs"),
        ("c", "overall (any row above)", "—"): ("N/A", "needs: at least one row passes"),
        ("d", "—", "—"): ("N/A", "no Atari game in these results"),
    }
    assert {key: tuple(row) for key, row in rows.iterrows()} == expected


def test_without_a_medium_dataset_rung_b_says_so(in_tmp: Path) -> None:
    write_results({HOPPER_REPLAY: {"bc": [5.0, 6.0, 7.0]}}, {HOPPER_REPLAY: 30.0})
    rung_b = sanity_ladder().query("rung == 'b'")
    assert rung_b[["task", "verdict"]].values.tolist() == [["—", "N/A"]]
    assert rung_b["reason"].iloc[0].startswith("no medium dataset in these results")


def legends(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Every figure's legend entries, by figure name, instead of saving the figures."""
    shown: dict[str, list[str]] = {}

    def keep(fig: Figure, stem: Path) -> None:
        shown[stem.name] = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
        plt.close(fig)

    monkeypatch.setattr(figures, "save", keep)
    return shown


@pytest.mark.parametrize("recorded", [True, False])
def test_the_behaviour_is_a_row_and_a_line_where_recorded(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, recorded: bool
) -> None:
    write_results(PASSING, BEHAVIOUR if recorded else dict.fromkeys(BEHAVIOUR))
    shown = legends(monkeypatch)
    report.report(SETTINGS)

    per_task = pd.read_csv(paths.TABLES / "per_task.csv")
    data = per_task[per_task["algorithm"] == figures.BEHAVIOUR_LABEL].set_index("dataset")
    assert per_task.groupby("dataset")["algorithm"].first().eq(figures.BEHAVIOUR_LABEL).all()  # first in its task
    markdown = (paths.TABLES / "per_task.md").read_text()
    for name in ("per_task", "learning_curves"):
        assert (figures.BEHAVIOUR_LABEL in shown[name]) == recorded, name
    if recorded:
        assert data.loc["medium", ["final_norm_mean", "best_norm_mean"]].tolist() == pytest.approx([40.0, 40.0])
        assert data.loc["replay", "final_raw_mean"] == pytest.approx(scores.normalizer("atari", "breakout").low + 5.6)
        assert data.loc["medium", "behaviour"] == "made-up medium policy"
        assert re.search(r"\| behaviour \(data\) \| — +\| — +\| 40.0 ", markdown)  # no inputs, no seeds
        assert "mujoco/hopper/medium: made-up medium policy" in markdown
    else:
        assert data["final_norm_mean"].isna().all() and (data["behaviour"] == "not recorded").all()
        assert re.search(r"\| behaviour \(data\) \| — +\| — +\| not recorded ", markdown)
    ladder = pd.read_csv(paths.TABLES / "sanity_ladder.csv", keep_default_na=False).query(
        "rung != 'e'"
    )  # e: no text-only runs
    assert ("PASS" in set(ladder["verdict"])) and (("N/A" in set(ladder["verdict"])) != recorded)


def test_training_records_the_datas_behaviour(smoke: Preset, in_tmp: Path) -> None:
    spec = config.run_spec(smoke, config.RunKey("mujoco", "hopper", "mixed", "bc", 0))
    folder = spec.dataset.folder
    data = write_random_dataset(folder, "mujoco", name="mixed")
    card = io.read_json(folder / "dataset.json")  # what a generator adds, sealed as the generator would
    io.write_json(folder / "dataset.json", card | {"behaviour": "made-up policy", "behaviour_normalized_return": 7.5})
    manifest.write(folder)
    training.train(spec)
    recorded = io.read_json(paths.run_dir(spec.run) / "config.json")["behaviour"]
    assert recorded == {
        "description": "made-up policy",
        "episode_return_mean": pytest.approx(float(data.episode_returns().mean())),
        "normalized_return": 7.5,
    }


def rung_e(held_out: dict[str, float], finals: dict[str, tuple[float, float, float]], inputs: dict[str, str]) -> dict:
    """Rung e's verdict and reason on Hopper medium, from per-task rows and held-out errors."""
    tasks = pd.DataFrame(
        [
            {
                "suite": "mujoco",
                "env": "hopper",
                "dataset": "medium",
                "algorithm": algorithm,
                "final_norm_mean": mean,
                "final_norm_low": low,
                "final_norm_high": high,
                "data_source": "generated",
                "generator": "ars-medium",
                "inputs": inputs[algorithm],
            }
            for algorithm, (mean, low, high) in finals.items()
        ]
    )
    diagnosed = pd.DataFrame(
        [
            {"suite": "mujoco", "env": "hopper", "dataset": "medium", "algorithm": a, "held_out_mse_mean": e}
            for a, e in held_out.items()
        ]
    )
    behaviour = pd.DataFrame([{"suite": "mujoco", "env": "hopper", "dataset": "medium", "behaviour_norm": 30.0}])
    table = ladder.sanity_ladder(tasks, behaviour, "more3s", diagnosed).query("rung == 'e'")
    return table.set_index("task")[["verdict", "reason", "numbers"]].to_dict("index")


INPUTS = {"more3s": "pixels+text", "more3s-text-only": "text", "bc": "state", "bc-pixels": "pixels"}
FINALS = {"more3s": (5.0, 2.0, 8.0), "more3s-text-only": (2.0, 1.0, 3.0), "bc": (30.0, 28.0, 32.0)}


def test_rung_e_says_whether_the_method_fits_like_a_pixel_control_and_acts() -> None:
    acting = {**FINALS, "bc-pixels": (20.0, 15.0, 25.0)}
    fits = rung_e({"more3s": 0.015, "more3s-text-only": 0.024, "bc": 0.011, "bc-pixels": 0.012}, acting, INPUTS)
    assert fits["mujoco/hopper/medium"]["verdict"] == "PASS"
    assert fits["mujoco/hopper/medium"]["numbers"].startswith("held-out error: more3s 0.015, more3s-text-only 0.024")
    assert fits["overall (every row above)"]["verdict"] == "PASS"
    loose = rung_e(
        {"more3s": 0.02, "more3s-text-only": 0.024, "bc": 0.011, "bc-pixels": 0.012},
        {**acting, "more3s": (-1.0, -3.0, 1.0)},
        INPUTS,
    )
    hopper = loose["mujoco/hopper/medium"]
    assert hopper["verdict"] == "FAIL"
    assert hopper["reason"] == "more3s's held-out error 0.02 > 1.5x 0.012; more3s mean -1.00 <= 0"


def test_rung_e_needs_a_pixel_control_and_the_text_only_ablation() -> None:
    errors = {"more3s": 0.015, "more3s-text-only": 0.024, "bc": 0.011}
    no_control = rung_e(errors, FINALS, INPUTS)["mujoco/hopper/medium"]
    assert (no_control["verdict"], no_control["reason"]) == ("N/A", "no pixel control on this task")
    finals = {k: v for k, v in FINALS.items() if k != "more3s-text-only"} | {"bc-pixels": (20.0, 15.0, 25.0)}
    no_ablation = rung_e({**errors, "bc-pixels": 0.012}, finals, INPUTS)  # not a row: no text-only runs there
    assert list(no_ablation) == ["—"]
    assert (no_ablation["—"]["verdict"], no_ablation["—"]["reason"]) == (
        "N/A",
        "no task with runs of both more3s and more3s-text-only in these results",
    )
