"""The report stage on the committed reference results (and on them plus made-up MORE-3S runs):
every table and figure, their numbers, the paper-vs-reproduced flags, colours, bad input."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO

from benchmark import __main__ as cli
from benchmark import aggregate, config, io, paths, report, scores
from benchmark.errors import BenchmarkError
from benchmark.report import figures, published, stage
from benchmark.report.statistics import Settings

SETTINGS = Settings(focus="more3s", bootstrap_reps=200, profile_bootstrap_reps=100, seed=0)
MORE3S_PRETRAINED = "lxmert=no;gpt2=no;text=minilm"


@pytest.fixture
def results(in_tmp: Path) -> Path:
    """The committed results/ (runs and scores.csv, no tables or figures) in a temp working dir."""
    shutil.copytree(REPO / "results" / "runs", in_tmp / "results" / "runs")
    shutil.copy2(REPO / paths.SCORES, in_tmp / paths.SCORES)
    return in_tmp


def add_runs(algorithm: str, like: str, raw_shift: float, inputs: str | None = None) -> None:
    """Copies of every `like` run as `algorithm` runs (replacing any committed run of that name),
    returns shifted by `raw_shift`, rescored and re-aggregated: MORE-3S runs of known scores. With
    `inputs`, their config.json records it (the committed runs predate the record)."""
    for source in sorted(Path("results/runs").glob(f"*/*/*/{like}/seed*")):
        target = source.parent.parent / algorithm / source.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        evaluations = pd.read_csv(target / "eval.csv")
        io.write_csv(target / "eval.csv", evaluations.assign(**{"return": evaluations["return"] + raw_shift}))
        config = io.read_json(target / "config.json")
        config["key"]["algorithm"] = algorithm
        config["run"] = "/".join(target.parts[2:])
        config["pretrained"] = MORE3S_PRETRAINED
        if inputs is not None:
            config["inputs"] = inputs
        io.write_json(target / "config.json", config)
        scores.score_run(config["run"])
    aggregate.collect(sorted(Path("results/runs").glob("*/*/*/*/seed*/metrics.json")))


def test_report_writes_every_declared_table_and_figure_from_results(results: Path) -> None:
    report.report(SETTINGS)
    written = sorted(p.relative_to(results) for p in (results / "results").glob("[tf]*/*"))
    assert written == sorted(paths.report_outputs())
    assert all(path.stat().st_size > 0 for path in paths.report_outputs())

    committed = pd.read_csv(paths.SCORES)
    per_task = pd.read_csv(paths.TABLES / "per_task.csv")
    expected = committed.groupby(stage.KEY)["norm_final"].agg(["mean", "std", "count"]).reset_index()
    merged = per_task.merge(expected, on=stage.KEY)
    assert len(merged) == 3 + 6 + 3  # Breakout expert: 3 algorithms; Hopper medium: 6; medium-replay: 3
    # and first in each of the 3 tasks, the data's behaviour, as the runs recorded it
    data = per_task[per_task["algorithm"] == figures.BEHAVIOUR_LABEL]
    assert len(per_task) == 12 + 3 and data.index.tolist() == [0, 4, 11]
    assert data["final_norm_mean"].tolist() == pytest.approx([226.85, 29.19, 9.11], abs=0.01)
    assert data["behaviour"].str.contains("scripted paddle controller|ARS policy|ARS snapshots").all()
    assert merged["final_norm_mean"].tolist() == pytest.approx(merged["mean"].tolist())
    assert merged["final_norm_std"].tolist() == pytest.approx(merged["std"].tolist())
    assert (merged["seeds"] == merged["count"]).all()
    assert (merged["final_norm_low"] <= merged["final_norm_mean"] + 1e-9).all()

    aggregate_table = pd.read_csv(paths.TABLES / "aggregate.csv")
    assert set(aggregate_table["score"]) == {"final", "best"}  # both, always labelled
    atari = aggregate_table[(aggregate_table["suite"] == "atari") & (aggregate_table["algorithm"] == "dt")]
    assert (atari["tasks"] == 1).all() and (atari["seeds"] == 3).all()  # breakout

    # LaTeX is escaped; Markdown keeps the protocol verbatim.
    assert r"atari-dt-v2[max\_episode\_frames=27000]" in (paths.TABLES / "per_task.tex").read_text()
    assert "atari-dt-v2[max_episode_frames=27000]" in (paths.TABLES / "per_task.md").read_text()
    improvement = pd.read_csv(paths.TABLES / "probability_of_improvement.csv")
    assert len(improvement) == (2 + 4) * 2  # (Atari's + MuJoCo's baselines) x final/best; ablations are not
    assert improvement["probability"].between(0, 1).all()

    # The reference run's honest state: baselines beat random on Hopper, BC matches the medium
    # data, algorithms separate; on Breakout BC reaches under half its data and DT's CI includes 0.
    ladder_table = pd.read_csv(paths.TABLES / "sanity_ladder.csv", keep_default_na=False)
    overall = ladder_table[ladder_table["task"].str.startswith("overall")].set_index("rung")["verdict"]
    assert overall.to_dict() == {"a": "PASS", "b": "PASS", "c": "PASS", "d": "FAIL", "e": "PASS"}
    d = ladder_table[(ladder_table["rung"] == "d") & (ladder_table["task"] == "atari/breakout/expert")].iloc[0]
    assert d["verdict"] == "FAIL" and d["reason"] == "bc 64.64 < 113.43; dt's CI includes 0"
    # MORE-3S fits like the pixel control and acts on Hopper medium, the one task with its text-only ablation
    e = ladder_table[ladder_table["rung"] == "e"].set_index("task")
    assert e.loc["mujoco/hopper/medium", ["verdict", "reason"]].tolist() == ["PASS", ""]
    assert "atari/breakout/expert" not in e.index


def test_without_more3s_runs_the_improvement_table_says_so(results: Path) -> None:
    for run in Path("results/runs").glob("*/*/*/more3s*"):
        shutil.rmtree(run)
    aggregate.collect(sorted(Path("results/runs").glob("*/*/*/*/seed*/metrics.json")))
    report.report(SETTINGS)
    assert "No `more3s` runs" in (paths.TABLES / "probability_of_improvement.md").read_text()


def test_the_focus_is_the_presets_method_under_study(results: Path) -> None:
    report.report(Settings(focus="dt", bootstrap_reps=200, profile_bootstrap_reps=100, seed=0))
    improvement = pd.read_csv(paths.TABLES / "probability_of_improvement.csv")
    assert set(improvement["algorithm"]) == {"dt"}
    # every other algorithm is a baseline now, MORE-3S and its ablations included
    assert set(improvement["baseline"]) == {"bc", "bc-pixels", "cql", "more3s", "more3s-text-only"}
    assert (
        "Probability of improvement of dt over each baseline"
        in (paths.TABLES / "probability_of_improvement.md").read_text()
    )
    ladder_table = pd.read_csv(paths.TABLES / "sanity_ladder.csv")
    rung_a = ladder_table[(ladder_table["rung"] == "a") & ~ladder_table["task"].str.startswith("overall")]
    assert sorted(set(rung_a["algorithms"])) == ["bc", "bc-pixels", "cql", "more3s", "more3s-text-only"]


def test_paper_vs_reproduced_shows_every_published_number_and_flags_the_default_preset(results: Path) -> None:
    report.report(SETTINGS)
    table = pd.read_csv(paths.TABLES / "paper_vs_reproduced.csv")
    numbers = published.load()
    assert len(table) >= len(numbers)
    assert set(zip(table["source"], table["table"], table["published_mean"], strict=True)) == set(
        zip(numbers["source"], numbers["table"], numbers["mean"], strict=True)
    )
    ours = table[table["seeds"].notna()]
    # DT paper Table 2's bc/cql/dt on Hopper medium and medium-replay, d3rlpy's DT on Hopper medium
    # (final and best): 8 published numbers have ours beside them. Breakout's scripted expert data
    # stands in for no published dataset, so Breakout has none.
    assert len(ours) == 8 and set(ours["env"]) == {"hopper"}
    assert ours["differences"].str.contains("data: ours generated here").all()  # never DQN-Replay or D4RL
    medium_dt = ours[
        (ours["dataset"] == "medium") & (ours["published_algorithm"] == "DT") & (ours["table"] == "Table 2")
    ]
    flags = medium_dt["differences"].iloc[0]
    for flag in [
        "data: ours generated here (ars-medium), published d4rl",
        "budget: ours 5,000 steps x 8, published 100,000 steps x 64",
        "evaluation episodes: ours 10, published 100",
        "protocol: ours mujoco-v5-v1, published d4rl-gym-1000-steps",
        "score: published does not say final or best",
    ]:
        assert flag in flags
    # Normalised beside normalised.
    committed = pd.read_csv(paths.SCORES)
    dt = committed[(committed["dataset"] == "medium") & (committed["algorithm"] == "dt")]
    assert medium_dt["final_mean"].iloc[0] == pytest.approx(dt["norm_final"].mean())
    pong_dt = table[(table["env"] == "pong") & (table["published_algorithm"] == "DT")]
    assert pong_dt["published_note"].str.contains("Pong: batch 512").all()  # the source's protocol note
    # the verdict column: Welch's interval of ours - published; DT's Hopper medium-replay is far below
    # the DT paper's, and every verdict says the protocols differ
    replay_dt = ours[(ours["dataset"] == "medium-replay") & (ours["published_algorithm"] == "DT")].iloc[0]
    assert replay_dt["verdict"] == "different" and replay_dt["difference_high"] < -10
    assert set(ours["verdict"]) <= {"consistent", "different", "inconclusive"}
    assert table.loc[table["seeds"].isna(), "verdict"].isna().all()  # nothing of ours beside it: no verdict
    markdown = (paths.TABLES / "paper_vs_reproduced.md").read_text()
    assert "different (protocols differ)" in markdown and "consistent (protocols differ)" not in markdown
    assert "0 of the 8 rows with a number of ours are like for like" in markdown
    # bc, cql and dt all have some; MORE-3S's own tables could not be retrieved
    assert "No published numbers for: bc-pixels, more3s, more3s-text-only.\n" in markdown


def _ours(**changes: object) -> dict[str, object]:
    """A run set exactly like the DT paper's Atari protocol."""
    return {
        "data_source": "dqn-replay",
        "generator": None,
        "transitions": 500000,
        "train_steps": 19530,
        "batch_size": 128,
        "seeds": 3,
        "eval_episodes": 10,
        "pretrained": "no",
        "protocol": "atari-dt-v2",
    } | changes


def test_differences_are_empty_only_for_a_like_for_like_run() -> None:
    numbers = published.load()
    dt = numbers[(numbers["source"].str.startswith("DT paper")) & (numbers["algorithm"] == "DT")]
    row = dt[dt["suite"] == "atari"].iloc[0].to_dict() | {"score": "final"}
    assert published.differences(_ours(), row) == []
    assert published.differences(_ours(seeds=5, pretrained=MORE3S_PRETRAINED), row) == [
        "seeds: ours 5, published 3",
        f"pretrained: ours {MORE3S_PRETRAINED}, published no",
    ]
    unstated = row | {"score": "unstated", "eval_episodes": float("nan")}
    assert published.differences(_ours(), unstated) == [
        "evaluation episodes: ours 10, published not recorded",
        "score: published does not say final or best",
    ]


def test_generated_datasets_stand_in_for_the_published_ones() -> None:
    assert published.stands_for("generated", "scripted-replay", "replay") == "dqn-replay-1pct"
    assert published.stands_for("generated", "sac-medium-expert", "mixed") == "medium-expert"
    assert published.stands_for("generated", "scripted", "mixed") is None  # no published counterpart
    assert published.stands_for("dqn-replay", None, "dqn-replay-1pct") == "dqn-replay-1pct"
    assert published.stands_for("d4rl", None, "medium-replay") == "medium-replay"


def test_published_numbers_are_packaged_with_source_url_and_protocol() -> None:
    numbers = published.load()
    assert len(numbers) == 77  # 69 published rows, 8 of d3rlpy's with a "best" beside "final"
    assert numbers[["source", "url", "table", "unit", "score", "mean", "data"]].notna().all().all()
    assert set(numbers["unit"]) == set(published.UNITS)
    assert set(numbers["score"]) == {"final", "best", "unstated"}
    assert set(numbers["table"]) >= {"Table 1", "Table 2", "Table 12", "atari_table.csv", "d4rl_table.csv"}


def test_more3s_runs_get_probability_of_improvement_and_pretrained_verbatim(results: Path) -> None:
    add_runs("more3s", like="dt", raw_shift=5000.0)
    add_runs("more3s-rtg-none", like="bc", raw_shift=0.0)
    report.report(SETTINGS)
    improvement = pd.read_csv(paths.TABLES / "probability_of_improvement.csv")
    assert len(improvement) == (2 + 4) * 2  # (Atari's + MuJoCo's baselines; not the ablations) x final/best
    assert set(improvement["baseline"]) == {"bc", "bc-pixels", "cql", "dt"}
    versus_dt = improvement[(improvement["baseline"] == "dt") & (improvement["score"] == "final")]
    assert (versus_dt["probability"] == 1.0).all()  # every more3s run is its dt run + 5000: above every dt run
    ablations = pd.read_csv(paths.TABLES / "ablations.csv")  # each ablation against more3s, per task
    tasks = ablations[ablations["score"] == "final"].groupby("ablation")["dataset"].apply(sorted).to_dict()
    assert tasks == {"more3s-rtg-none": ["expert", "medium", "medium-replay"], "more3s-text-only": ["medium"]}
    per_task = (paths.TABLES / "per_task.md").read_text()
    assert f"| {MORE3S_PRETRAINED} " in per_task
    markdown = (paths.TABLES / "paper_vs_reproduced.md").read_text()
    assert "No published numbers for: bc-pixels, more3s, more3s-rtg-none, more3s-text-only." in markdown


def test_per_task_shows_what_each_algorithm_reads_and_older_runs_say_not_recorded(results: Path) -> None:
    for config_file in Path("results/runs/atari/breakout/expert/bc").glob(f"seed*/{paths.RUN_CONFIG}"):
        record = io.read_json(config_file)
        del record["inputs"]  # as config.json was before the record
        io.write_json(config_file, record)
    report.report(SETTINGS)
    per_task = pd.read_csv(paths.TABLES / "per_task.csv")
    runs = per_task[per_task["algorithm"] != figures.BEHAVIOUR_LABEL]
    reads = runs.groupby(["suite", "algorithm"])["inputs"].agg(set).to_dict()
    assert reads["mujoco", "bc-pixels"] == {"pixels"} and reads["mujoco", "bc"] == {"state"}
    assert reads["mujoco", "more3s"] == {"pixels+text"} and reads["mujoco", "more3s-text-only"] == {"text"}
    assert reads["atari", "dt"] == {"pixels"}
    assert reads["atari", "bc"] == {stage.NOT_RECORDED}
    markdown = re.sub(" +", " ", (paths.TABLES / "per_task.md").read_text())
    assert "| suite | env | dataset | algorithm | inputs | seeds |" in markdown
    assert "| bc-pixels | pixels |" in markdown


def test_one_seed_and_incomplete_seeds_are_reported_once(results: Path, caplog: pytest.LogCaptureFixture) -> None:
    committed = pd.read_csv(paths.SCORES)
    one_seed = committed["dataset"] == "medium-replay"
    committed[(committed["seed"] == 0) | ~one_seed].to_csv(paths.SCORES, index=False)
    with caplog.at_level(logging.WARNING):
        report.report(SETTINGS)
    algorithms = sorted(committed.loc[one_seed, "algorithm"].unique())
    assert algorithms == ["bc", "cql", "dt"]
    assert [r.message for r in caplog.records if r.levelno >= logging.WARNING] == [
        "1 seed, so no confidence intervals (and no std), for: "
        + ", ".join(f"mujoco/hopper/medium-replay/{name}" for name in algorithms),
        "left out of the aggregates that span a task they lack: "
        + "; ".join(f"mujoco/{name} seeds 1, 2" for name in algorithms),
    ]
    per_task = pd.read_csv(paths.TABLES / "per_task.csv")
    replay = per_task[(per_task["dataset"] == "medium-replay") & (per_task["algorithm"] != figures.BEHAVIOUR_LABEL)]
    assert replay[["final_norm_std", "final_norm_low", "final_norm_high"]].isna().all().all()
    assert "(no CI: 1 seed)" in (paths.TABLES / "aggregate.md").read_text()  # medium-replay has 1 seed


def test_the_focus_must_name_an_algorithm(tmp_path: Path) -> None:
    preset = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    preset["report"]["focus"] = "MORE-3S (ours)"
    path = tmp_path / "preset.yaml"
    path.write_text(yaml.safe_dump(preset))
    with pytest.raises(BenchmarkError, match=r"^config key 'report.focus': 'MORE-3S \(ours\)' does not match"):
        config.load(path)


def test_paper_preset_bootstraps_as_rliable_recommends() -> None:
    block = config.load(REPO / "config" / "paper.yaml").report
    assert block.bootstrap_reps >= 50_000 and block.profile_bootstrap_reps >= 2_000


def test_colours_are_fixed_per_algorithm_and_group_the_focus_family() -> None:
    alone = figures.palette(["dt", "bc", "cql"], "more3s").colours
    style = figures.palette(["more3s-rtg-none", "cql", "more3s", "dt", "bc", "more3s-image-only", "iql"], "more3s")
    everything = style.colours
    assert list(everything) == ["bc", "cql", "dt", "iql", "more3s", "more3s-image-only", "more3s-rtg-none"]
    assert {a: everything[a] for a in alone} == alone  # adding algorithms changes no colour
    assert len(set(everything.values())) == len(everything)
    for algorithm, (red, _, blue) in everything.items():
        warm = red > blue
        assert warm == algorithm.startswith("more3s"), algorithm
    assert style.ablations == {"more3s-image-only", "more3s-rtg-none"}
    assert (style.hatch("more3s-rtg-none"), style.line("more3s-rtg-none")) == (figures.ABLATION_HATCH, "--")
    assert (style.hatch("more3s"), style.line("more3s")) == (None, "-")
    # another method under study takes the warm family, in front of its own ablations
    dt = figures.palette(["more3s", "dt-small", "dt", "bc"], "dt")
    assert list(dt.colours) == ["bc", "more3s", "dt", "dt-small"]
    assert dt.colours["dt"] == everything["more3s"] and dt.ablations == {"dt-small"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda: pd.read_csv(paths.SCORES).drop(columns="pretrained").to_csv(paths.SCORES, index=False), "pretrained"),
        (
            lambda: Path("results/runs/atari/breakout/expert/bc/seed1/eval.csv").unlink(),
            "breakout/expert/bc/seed1/eval.csv",
        ),
    ],
)
def test_bad_results_end_in_one_line(
    results: Path, capsys: pytest.CaptureFixture[str], damage: object, message: str
) -> None:
    damage()  # type: ignore[operator]
    assert cli.main(["report", "--settings", json.dumps(SETTINGS.__dict__)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and message in error[0]


def test_the_diagnostics_table_reads_each_runs_record_beside_the_reference_predictors(results: Path) -> None:
    medium = sorted(Path("results/runs/mujoco/hopper/medium").glob("*/seed*"))
    for k, folder in enumerate(medium):  # a made-up record per run: known numbers, known means
        error = 0.01 * (k + 1)
        swaps = {"frame_swap_change": 0.03, "text_swap_change": 0.19} if folder.parent.name == "more3s" else {}
        record = {
            "held_out": {
                "policy": {"mse_per_dim": error},
                "references": {"mean_action": {"mse_per_dim": 0.2}, "noise_floor": {"mse_per_dim": 0.0097}},
            },
            "closed_loop": {"bin_steps": 25, "mse_per_dim": [error, 2 * error]},
            folder.parent.name: swaps,
        }
        io.write_json(folder / paths.DIAGNOSTICS, record)
    Path("results/runs/atari/breakout/expert/bc/seed0", paths.DIAGNOSTICS).unlink()  # as runs before the stage
    report.report(SETTINGS)
    table = pd.read_csv(paths.TABLES / "diagnostics.csv").query("dataset == 'medium'").set_index("algorithm")
    more3s = [0.01 * (k + 1) for k, f in enumerate(medium) if f.parent.name == "more3s"]
    assert table.loc["more3s", "held_out_mse_mean"] == pytest.approx(sum(more3s) / 3)
    assert table.loc["more3s", "closed_loop_mean_mean"] == pytest.approx(1.5 * sum(more3s) / 3)
    assert table.loc["more3s", "text_swap_change_mean"] == pytest.approx(0.19)
    assert math.isnan(table.loc["bc", "text_swap_change_mean"])  # BC measures no swaps
    assert table.loc["reference: noise floor", "held_out_mse_mean"] == pytest.approx(0.0097)
    assert len(table) == 6 + 2  # the 6 algorithms on Hopper medium, the 2 references of these records
    markdown = (paths.TABLES / "diagnostics.md").read_text()
    assert "text-swap change" in markdown and " 1 runs have no diagnostics.json" in markdown
