"""The algorithm registry's hyperparameters: a run's dict, written to JSON and read back, is the
algorithm's own typed dataclass again."""

from __future__ import annotations

import dataclasses
import json

import pytest

from benchmark import algorithms, envs

SETTINGS = [
    (name, suite) for name, cls in algorithms.registry().items() for suite in getattr(cls, "SUITES", envs.SUITES)
]


@pytest.mark.parametrize(("name", "suite"), SETTINGS, ids=[f"{name}-{suite}" for name, suite in SETTINGS])
def test_hyperparameters_round_trip_through_json_to_the_same_typed_object(name: str, suite: str) -> None:
    cls = algorithms.get(name)
    published = cls.default_hyperparameters(suite)
    record = json.loads(json.dumps(algorithms.hyperparameters(name, suite, {})))  # as config.json holds them
    assert algorithms.typed(cls, suite, record) == published


def test_a_tuple_set_by_the_preset_comes_back_a_tuple() -> None:
    cls = algorithms.get("cql")
    overridden = algorithms.hyperparameters("cql", "mujoco", {"hidden_units": [64, 32]})  # a YAML list
    typed = algorithms.typed(cls, "mujoco", json.loads(json.dumps(overridden)))
    assert typed.hidden_units == (64, 32) and isinstance(typed.hidden_units, tuple)
    assert json.dumps(dataclasses.asdict(typed)) == json.dumps(overridden)  # config.json's record is unchanged
