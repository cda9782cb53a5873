"""Behaviour generators on tiny budgets: one shared SAC training feeds every D4RL-style dataset of
a task (one workflow job), and online DQN logs every transition as single frames."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import REPO, generated_spec, snakemake

from baselines._d3rlpy import to_d3rlpy
from benchmark import __main__ as cli
from benchmark import behaviour, config, dataset_stage, datasets
from benchmark.errors import BenchmarkError

SAC = {"steps": 300, "medium_step": 150, "update_interval": 4}


def _with_d4rl_datasets(preset: dict[str, Any]) -> dict[str, Any]:
    """The smoke preset with all four D4RL-style Hopper datasets, sharing one tiny SAC training."""
    preset = copy.deepcopy(preset)
    preset["suites"]["mujoco"]["datasets"] = {
        "random": {"source": "generated", "generator": "random", "transitions": 300},
        "medium": {"source": "generated", "generator": "sac-medium", "transitions": 400, "sac": SAC},
        "medium-replay": {"source": "generated", "generator": "sac-medium-replay", "sac": SAC},
        "medium-expert": {"source": "generated", "generator": "sac-medium-expert", "transitions": 400, "sac": SAC},
    }
    config.validate(preset)
    return preset


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, datasets.OfflineDataset]]]:
    """The behaviour job once (through the command line the workflow runs), then every MuJoCo dataset made from it."""
    preset = config.validate(_with_d4rl_datasets(config.read(REPO / "config" / "smoke.yaml")))
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        behaviour_id = config.dataset_spec(preset, "mujoco", "hopper", "medium").behaviour.id
        spec = config.behaviour_spec(preset, "mujoco", "hopper", behaviour_id)
        assert cli.main(["behaviour", "--spec", json.dumps(dataclasses.asdict(spec))]) == 0
        made = {}
        for name in preset.suites["mujoco"].datasets:
            data_spec = config.dataset_spec(preset, "mujoco", "hopper", name)
            folder = work / data_spec.folder
            dataset_stage.generate(data_spec, folder, folder / "logs")
            made[name] = datasets.load(folder)
    yield work / spec.dir, made


def test_every_d4rl_style_card_records_quality_and_its_behaviour(made) -> None:
    behaviour_dir, made = made
    for name, data in made.items():
        card = data.card
        assert card["generator"] == ("random" if name == "random" else f"sac-{name}")
        assert card["transitions"] == len(data.rewards) and card["episodes"] == len(data.episode_returns())
        assert card["episode_return"]["min"] <= card["episode_return"]["mean"] <= card["episode_return"]["max"]
        assert len(card["episode_return_along_buffer"]) == min(10, card["episodes"])
        assert len(card["action_summary"]["mean"]) == len(card["action_summary"]["std"]) == 3
        assert np.isfinite(card["behaviour_normalized_return"])
        assert set(card["sha256"]) == {f"{field}.npy" for field in datasets.FIELDS}
        assert card["seed"] == 0 and "wall_s" in card
        if name != "random":  # all from the one shared training
            assert card["behaviour_training"]["id"] == behaviour_dir.name
            assert card["behaviour_training"]["medium_step"] == SAC["medium_step"]
    assert (behaviour_dir / behaviour.BEHAVIOUR_CARD).exists()


def test_medium_replay_is_the_buffer_up_to_the_medium_step(made) -> None:
    behaviour_dir, made = made
    replay = made["medium-replay"]
    assert replay.card["transitions"] == SAC["medium_step"]
    stored = datasets.load(behaviour_dir / behaviour.REPLAY)
    for field in datasets.FIELDS:
        np.testing.assert_array_equal(getattr(replay, field), getattr(stored, field))
    assert replay.terminals[-1] + replay.timeouts[-1] == 1.0  # the episode at the cut ends there


def test_medium_expert_holds_medium_then_expert(made) -> None:
    _, made = made
    mixed, medium = made["medium-expert"], made["medium"]
    components = mixed.card["components"]
    assert [c["policy"] for c in components] == ["medium", "expert"]
    assert [c["training_step"] for c in components] == [SAC["medium_step"], SAC["steps"]]
    assert [c["first_row"] for c in components] == [0, 200] and sum(c["transitions"] for c in components) == 400
    # The medium half is the medium policy's own rollouts (same seed); the expert half is not.
    np.testing.assert_array_equal(mixed.observations[:200], medium.observations[:200])
    assert not np.array_equal(mixed.actions[200:], medium.actions[200:400])


def test_a_changed_policy_file_is_named_before_it_is_used(made, tmp_path: Path) -> None:
    copied = shutil.copytree(made[0], tmp_path / "behaviour")
    with open(copied / behaviour.EXPERT_POLICY, "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(BenchmarkError, match=re.escape(f"{copied / behaviour.EXPERT_POLICY}: sha256")):
        behaviour.sac_policy(copied, behaviour.EXPERT_POLICY, seed=0)


def test_dqn_online_logs_every_transition_as_single_frames(in_tmp: Path) -> None:
    spec = generated_spec(
        "atari",
        "breakout",
        "dqn",
        generator="dqn-online",
        transitions=300,
        epsilons=[1.0, 0.1],
        update_interval=4,
        max_episode_frames=2000,
    )
    data = dataset_stage.generate(spec, in_tmp / "dqn", in_tmp / "logs")
    assert data.observations.shape == (300, 84, 84) and data.observations.dtype == np.uint8
    assert data.card["behaviour_settings"]["update_start_step"] == 30 and "DoubleDQN" in data.card["behaviour"]
    transition = to_d3rlpy(datasets.load(in_tmp / "dqn"), frame_stack=4).sample_transition_batch(2)
    assert transition.observations.shape == (2, 4, 84, 84)


def test_shared_behaviour_is_one_workflow_job_per_task(smoke_config: dict[str, Any], tmp_path: Path) -> None:
    """Two tasks x three SAC datasets: `snakemake -n` plans two behaviour jobs, not six."""
    preset = _with_d4rl_datasets(smoke_config)
    preset["suites"]["mujoco"]["envs"]["walker2d"] = {"target_return": 5000}
    preset["workdir"] = str(tmp_path / "work")
    preset["allow_external_workdir"] = True  # a temp folder, outside the repository on purpose
    (tmp_path / "preset.yaml").write_text(yaml.safe_dump(preset))
    result = snakemake("-n", "all", "--configfile", str(tmp_path / "preset.yaml"))
    assert result.returncode == 0, result.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    assert int(counts["behaviour"]) == 2
    # breakout and its held-out data; (hopper, walker2d) x (4 + the random one's held-out data: the
    # SAC-made ones have none, another seed would train another SAC)
    assert int(counts["dataset"]) == 2 + 2 * (4 + 1)
