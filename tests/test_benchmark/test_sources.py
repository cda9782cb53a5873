"""The registry of data sources: the schema's `source` list is the registry, each source checks
the keys a preset gives it, and the report sets each beside the published dataset it names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from benchmark import config, envs
from benchmark.errors import BenchmarkError
from benchmark.sources import SOURCES


def test_the_schema_lists_exactly_the_registered_sources() -> None:
    assert config.load_schema()["$defs"]["dataset"]["properties"]["source"]["enum"] == sorted(SOURCES)
    assert set(SOURCES) == {"generated", "dqn-replay", "d4rl", "minari"}
    in_file = yaml.safe_load(config.SCHEMA_PATH.read_text())["$defs"]["dataset"]["properties"]["source"]
    assert "enum" not in in_file  # the registry is the only list: no second one to keep equal
    for source in SOURCES.values():
        assert source.suites <= set(envs.SUITES), source.name


@pytest.mark.parametrize(
    ("source", "name", "generator", "published"),
    [
        ("generated", "mixed", "ars-medium-replay", "medium-replay"),
        ("generated", "mixed", "random", None),
        ("dqn-replay", "replay", None, "dqn-replay-1pct"),
        ("d4rl", "medium-expert", None, "medium-expert"),
        ("minari", "medium", None, "medium"),
    ],
)
def test_each_source_names_the_published_dataset_it_stands_for(
    source: str, name: str, generator: str | None, published: str | None
) -> None:
    assert SOURCES[source].stands_for(name, generator) == published


def _mirror_preset(smoke_config: dict[str, Any], **dataset: Any) -> dict[str, Any]:
    preset = copy.deepcopy(smoke_config)
    preset["mirror"] = "/data/mirror"
    preset["suites"]["atari"]["datasets"]["mixed"] = dataset
    return preset


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ({"source": "d4rl", "path": "d4rl/{env}.hdf5"}, "'suites.atari.datasets.mixed.source': 'd4rl' holds mujoco"),
        (
            {"source": "dqn-replay", "path": "dqn/{env}", "epsilons": [0.1]},
            "'suites.atari.datasets.mixed.epsilons': not used by source 'dqn-replay'; allowed: algorithms, "
            "last_checkpoint, num_buffers, path, run, seed, source, trajectories_per_buffer, transitions",
        ),
        ({"source": "dqn-replay"}, "'suites.atari.datasets.mixed.path': required for source 'dqn-replay'"),
        ({"source": "dqn-replay", "path": "{game}"}, "'suites.atari.datasets.mixed.path': '{game}': only {env}"),
        (
            {"source": "dqn-replay", "path": "dqn/{env}", "num_buffers": 4, "last_checkpoint": 2},
            "'suites.atari.datasets.mixed.num_buffers': 4 is more than the 3 checkpoints 0..2",
        ),
    ],
)
def test_a_source_checks_the_keys_a_preset_gives_it(
    smoke_config: dict[str, Any], dataset: dict[str, Any], expected: str
) -> None:
    with pytest.raises(BenchmarkError) as error:
        config.validate(_mirror_preset(smoke_config, **dataset))
    assert expected in str(error.value)


def test_a_mirror_source_needs_the_preset_mirror(smoke_config: dict[str, Any]) -> None:
    preset = _mirror_preset(smoke_config, source="dqn-replay", path="dqn/{env}")
    config.validate(copy.deepcopy(preset))
    del preset["mirror"]
    with pytest.raises(BenchmarkError) as error:
        config.validate(preset)
    assert "config key 'mirror': required by dataset 'suites.atari.datasets.mixed'" in str(error.value)
