"""The generator registry and the ARS-made D4RL-style datasets: one declaration per generator,
the schema's list kept equal to it, datasets whose cards give their behaviour's quality."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import generated_spec

from benchmark import config, dataset_stage, envs, scores
from benchmark.errors import BenchmarkError
from benchmark.sources import GENERATORS, Generator
from benchmark.specs import DatasetSpec


def test_the_schema_lists_exactly_the_registered_generators() -> None:
    assert config.load_schema()["$defs"]["dataset"]["properties"]["generator"]["enum"] == list(GENERATORS)
    in_file = yaml.safe_load(config.SCHEMA_PATH.read_text())["$defs"]["dataset"]["properties"]["generator"]
    assert "enum" not in in_file  # the registry is the only list: no second one to keep equal
    assert {g.suite for g in GENERATORS.values()} <= set(envs.SUITES)


def _spec(generator: str, transitions: int, **options: Any) -> DatasetSpec:
    return generated_spec("mujoco", "hopper", generator, generator=generator, transitions=transitions, **options)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("ars-datasets")
    cards = {}
    for generator, transitions in [("ars-medium", 3000), ("ars-medium-expert", 3000), ("ars-medium-replay", 6000)]:
        folder = work / generator
        cards[generator] = dataset_stage.generate(_spec(generator, transitions, action_noise=0.1), folder, folder).card
    return cards


def test_ars_medium_data_is_as_good_as_its_policy_says(made: dict[str, Any]) -> None:
    card = made["ars-medium"]
    assert card["transitions"] == 3000
    measured = card["components"][0]["measured"]
    assert measured["episodes"] >= 20 and 25 <= measured["normalized_return"] <= 55
    # The noisy rollouts stay near the policy's own quality, and the card says how good they are.
    assert abs(card["behaviour_normalized_return"] - measured["normalized_return"]) < 15
    assert "action noise std 0.1" in card["behaviour"] and "D4RL medium style" in card["behaviour"]


def test_ars_medium_expert_is_half_each_and_the_expert_half_is_better(made: dict[str, Any]) -> None:
    medium, expert = made["ars-medium-expert"]["components"]
    assert (medium["policy"], expert["policy"]) == ("medium", "expert")
    assert medium["transitions"] == expert["transitions"] == 1500 and expert["first_row"] == 1500
    assert expert["normalized_return"] > medium["normalized_return"] + 10


def test_ars_medium_replay_rises_along_the_buffer(made: dict[str, Any]) -> None:
    card = made["ars-medium-replay"]
    along = card["episode_return_along_buffer"]
    assert along[-1] > along[0] + 100
    iterations = [component["iteration"] for component in card["components"]]
    assert (
        iterations == sorted(iterations) and iterations[-1] == card["behaviour_policy"]["card"]["medium"]["iteration"]
    )


def test_a_dataset_can_keep_an_algorithm_off_it(smoke_config: dict[str, Any]) -> None:
    preset = copy.deepcopy(smoke_config)
    preset["suites"]["mujoco"]["datasets"]["mixed"]["algorithms"] = ["bc", "dt"]
    typed = config.validate(preset)
    keys = config.grid(typed)
    on_hopper = {key.algorithm for key in keys if key.env == "hopper"}
    assert on_hopper == {"bc", "dt"} and {key.algorithm for key in keys if key.env == "breakout"} == set(
        preset["algorithms"]
    )
    assert "algorithms" not in config.dataset_spec(typed, "mujoco", "hopper", "mixed").options
    preset["suites"]["mujoco"]["datasets"]["mixed"]["algorithms"] = ["bc", "iql"]
    with pytest.raises(BenchmarkError, match=r"datasets\.mixed\.algorithms': 'iql' is not in the preset"):
        config.validate(preset)


def test_ars_data_for_a_task_without_a_policy_is_one_line(smoke_config: dict[str, Any]) -> None:
    preset = copy.deepcopy(smoke_config)
    preset["suites"]["mujoco"]["envs"]["halfcheetah"] = {"target_return": 6000}
    with pytest.raises(BenchmarkError, match="no ARS policy for halfcheetah"):
        config.validate(preset)


def test_trained_policies_are_read_from_the_policy_rule_output(smoke_config: dict[str, Any], in_tmp: Path) -> None:
    preset = copy.deepcopy(smoke_config)
    preset["suites"]["mujoco"]["datasets"]["mixed"]["policy"] = "trained"
    typed = config.validate(preset)
    assert config.behaviour_inputs(typed, "mujoco", "hopper", "mixed") == [
        "resources/policies/mujoco/hopper/policy.json"
    ]
    assert config.policy_envs(typed) == [("mujoco", "hopper")]
    with pytest.raises(BenchmarkError, match="policy card missing"):
        dataset_stage.generate(_spec("ars-medium", 100, policy="trained"), in_tmp / "d", in_tmp / "d")


def test_which_datasets_need_ars_policies_is_their_generators_registration(smoke_config: dict[str, Any]) -> None:
    reading = {name for name, registered in GENERATORS.items() if registered.ars_policies}
    assert reading == {"ars-medium", "ars-expert", "ars-medium-expert", "ars-medium-replay"}
    # a generator named otherwise that reads them is checked alike: the declaration says, not the
    # name (validation never loads its function, which does not exist)
    GENERATORS.register(
        Generator("linear-rollouts", "nowhere:linear_rollouts", "mujoco", frozenset({"transitions"}), ars_policies=True)
    )
    try:
        preset = copy.deepcopy(smoke_config)
        preset["suites"]["mujoco"]["datasets"] = {
            "linear": {"source": "generated", "generator": "linear-rollouts", "transitions": 9}
        }
        assert config.policy_envs(config.validate(copy.deepcopy(preset))) == [("mujoco", "hopper")]
        preset["suites"]["mujoco"]["envs"]["halfcheetah"] = {"target_return": 6000}
        with pytest.raises(BenchmarkError, match=r"datasets\.linear\.generator': no ARS policy for halfcheetah"):
            config.validate(preset)
    finally:
        GENERATORS.unregister("linear-rollouts")  # the registry is the package's: leave it as found


def test_the_behaviour_return_is_over_complete_episodes_and_the_cut_ones_are_stated(made: dict[str, Any]) -> None:
    card = made["ars-medium"]
    # one stretch of rollouts: the transition budget cut its last episode short
    (cut,) = card["budget_cut_episodes"]
    assert cut["episode"] == card["episodes"] - 1 and card["complete_episodes"] == card["episodes"] - 1
    assert card["episode_return"]["over"] == "complete episodes"
    total = card["episode_return"]["mean"] * card["complete_episodes"] + cut["return"]
    assert card["episode_return_mean_with_cut_episodes"] == pytest.approx(total / card["episodes"])
    normalize = scores.normalizer("mujoco", "hopper")
    assert card["behaviour_normalized_return"] == pytest.approx(normalize(card["episode_return"]["mean"]))
    assert card["behaviour_normalized_return_with_cut_episodes"] == pytest.approx(
        normalize(card["episode_return_mean_with_cut_episodes"])
    )
    # a stretch per component, each ending where its share of the budget ran out
    for generator in ("ars-medium-expert", "ars-medium-replay"):
        made_card = made[generator]
        assert 1 <= len(made_card["budget_cut_episodes"]) <= len(made_card["components"])
