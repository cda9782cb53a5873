"""The algorithm registry's hyperparameters: a run's dict, written to JSON and read back, is the
algorithm's own typed dataclass again."""

from __future__ import annotations

import dataclasses
import json

import pytest

from benchmark import algorithms

SETTINGS = [(name, suite) for name, declaration in algorithms.ALGORITHMS.items() for suite in declaration.suites]


@pytest.mark.parametrize(("name", "suite"), SETTINGS, ids=[f"{name}-{suite}" for name, suite in SETTINGS])
def test_hyperparameters_round_trip_through_json_to_the_same_typed_object(name: str, suite: str) -> None:
    published = algorithms.declared(name).published[suite]
    record = json.loads(json.dumps(algorithms.hyperparameters(name, suite, {})))  # as config.json holds them
    assert algorithms.typed(name, suite, record) == published


def test_a_tuple_set_by_the_preset_comes_back_a_tuple() -> None:
    overridden = algorithms.hyperparameters("cql", "mujoco", {"hidden_units": [64, 32]})  # a YAML list
    typed = algorithms.typed("cql", "mujoco", json.loads(json.dumps(overridden)))
    assert typed.hidden_units == (64, 32) and isinstance(typed.hidden_units, tuple)
    assert json.dumps(dataclasses.asdict(typed)) == json.dumps(overridden)  # config.json's record is unchanged
