"""Records made before a field existed read as the suite always read them (benchmark.compat)."""

from __future__ import annotations

import math
from pathlib import Path

from benchmark import compat, envs, io


def test_an_atari_dt_v1_protocol_gets_the_padding_it_was_measured_under() -> None:
    v1 = {k: v for k, v in vars(envs.AtariProtocol(name="atari-dt-v1")).items() if k != "frame_stack_padding"}
    assert compat.protocol(v1)["frame_stack_padding"] == "reset"
    recorded = vars(envs.AtariProtocol())
    assert compat.protocol(recorded) == recorded  # a field the record holds is kept
    mujoco = vars(envs.MujocoProtocol())
    assert compat.protocol(mujoco) == mujoco


def test_missing_run_facts_read_as_not_recorded_or_from_what_the_run_knows() -> None:
    assert compat.inputs(None) == compat.NOT_RECORDED and compat.inputs("pixels") == "pixels"
    assert compat.manifests(None) == {} and compat.manifests({"dataset": "a" * 64}) == {"dataset": "a" * 64}
    # runs before `dataset_transitions`: the generator's option; imported data has none
    assert compat.dataset_transitions(None, {"generator": "ars-medium", "transitions": 20000}) == 20000
    assert compat.dataset_transitions(19950, {"transitions": 20000}) == 19950
    assert compat.dataset_transitions(None, {}) is None
    missing = compat.behaviour(None)
    assert missing["description"] is None and missing["normalized_return"] is None
    assert math.isnan(missing["episode_return_mean"])


def test_runs_before_the_diagnose_stage_and_cards_before_cut_episodes(tmp_path: Path) -> None:
    assert compat.diagnostics(tmp_path / "diagnostics.json") is None
    io.write_json(tmp_path / "diagnostics.json", {"run": "r"})
    assert compat.diagnostics(tmp_path / "diagnostics.json") == {"run": "r"}
    assert compat.budget_cut_episodes({"episodes": 4}) == []
    cut = [{"episode": 3, "return": 1.5}]
    assert compat.budget_cut_episodes({"budget_cut_episodes": cut}) == cut
