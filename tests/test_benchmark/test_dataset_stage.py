"""The dataset stage, and what the README's "Adding a dataset generator" promises: a generator
dropped in from outside the package (one function, one declaration, nothing else touched) is
accepted by preset validation and makes a dataset through the stage like the built-in ones."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmark import behaviour, config, dataset_stage, datasets, envs
from benchmark.errors import BenchmarkError
from benchmark.sources import GENERATORS, SOURCES, Generator, Source
from benchmark.specs import DatasetSpec


def standing_still(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """Every action zero: the body falls and lies still (a generator, as a contributor would write
    one in benchmark/generators.py)."""
    size = envs.EnvSpec.of("mujoco", env, envs.protocol_for("mujoco")).action_size

    def still(observation: np.ndarray) -> np.ndarray:
        return np.zeros(size, np.float32)

    episodes = behaviour.mujoco_episodes(env, options["transitions"], seed, still, f"still {env}")
    return datasets.concatenate(episodes), {"behaviour": "all-zero actions"}


@pytest.fixture(name="standing_still")
def declared_standing_still() -> Iterator[str]:
    """`standing_still` declared, as a contributor would in benchmark/sources.py."""
    GENERATORS.register(Generator("standing-still", f"{__name__}:standing_still", "mujoco", frozenset({"transitions"})))
    yield "standing-still"
    GENERATORS.unregister("standing-still")  # the registry is the package's: leave it as found


def _preset(smoke_config: dict[str, Any], **dataset: Any) -> dict[str, Any]:
    preset = copy.deepcopy(smoke_config)
    preset["suites"]["mujoco"]["datasets"]["still"] = dataset
    return preset


def test_a_generator_dropped_in_is_validated_and_made_by_the_stage(
    standing_still: str, smoke_config: dict[str, Any], in_tmp: Path
) -> None:
    preset = config.validate(_preset(smoke_config, source="generated", generator=standing_still, transitions=250))
    spec = config.dataset_spec(preset, "mujoco", "hopper", "still")
    folder = in_tmp / "dataset"
    made = dataset_stage.generate(spec, folder, folder / "logs")
    loaded = datasets.load(folder, env=envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco")), name="still")
    assert loaded.card["generator"] == standing_still and loaded.card["behaviour"] == "all-zero actions"
    assert loaded.card["dataset_sha256"] == made.sha256 and len(loaded.rewards) == 250
    assert not loaded.actions.any() and loaded.card["episodes"] >= 1
    # its declaration is what validation knows of it: the keys it reads, the suite it is for
    with pytest.raises(BenchmarkError, match="transitions': required by generator 'standing-still'"):
        config.validate(_preset(smoke_config, source="generated", generator=standing_still))
    with pytest.raises(BenchmarkError, match="epsilons': not used by generator 'standing-still'"):
        config.validate(
            _preset(smoke_config, source="generated", generator=standing_still, transitions=9, epsilons=[0.1])
        )
    atari = copy.deepcopy(smoke_config)
    atari["suites"]["atari"]["datasets"]["mixed"] = {"source": "generated", "generator": standing_still}
    with pytest.raises(BenchmarkError, match="'standing-still' generates mujoco data, not atari"):
        config.validate(atari)


def test_an_unregistered_generator_is_refused_naming_the_registered_ones(smoke_config: dict[str, Any]) -> None:
    with pytest.raises(BenchmarkError) as error:
        config.validate(_preset(smoke_config, source="generated", generator="standing-still", transitions=9))
    assert "generator': 'standing-still' is not allowed; allowed: scripted, scripted-replay" in str(error.value)


def test_an_unknown_source_in_a_spec_is_one_line(in_tmp: Path) -> None:
    spec = DatasetSpec(
        suite="mujoco", env="hopper", name="x", source="rlds", seed=0, mirror_path=None, behaviour=None, options={}
    )
    with pytest.raises(BenchmarkError, match="dataset 'x': unknown source 'rlds'; known: "):
        dataset_stage.generate(spec, in_tmp / "x", in_tmp / "logs")
    assert not (in_tmp / "x").exists()


def npz(spec: DatasetSpec, env_spec: envs.EnvSpec, log_dir: Path):
    """A data source, as a contributor would write one beside benchmark/importers.py: one MuJoCo
    .npz file under the preset's mirror, holding the stored arrays by name."""
    assert spec.mirror_path is not None  # validation requires `mirror` and `path` for a mirror source
    with np.load(spec.mirror_path, allow_pickle=False) as arrays:
        stored = {field: arrays[field] for field in datasets.FIELDS}
    return stored, {"behaviour": f"the arrays of {spec.mirror_path}"}


@pytest.fixture
def npz_source() -> Iterator[str]:
    """`npz` declared, as a contributor would in benchmark/sources.py."""
    SOURCES.register(Source("npz", f"{__name__}:npz", frozenset({"mujoco"}), frozenset(), lambda name, generator: None))
    yield "npz"
    SOURCES.unregister("npz")  # the registry is the package's: leave it as found


def test_a_source_dropped_in_is_validated_and_made_by_the_stage(
    npz_source: str, standing_still: str, smoke_config: dict[str, Any], in_tmp: Path
) -> None:
    still = dataset_stage.generate(
        config.dataset_spec(
            config.validate(_preset(smoke_config, source="generated", generator=standing_still, transitions=120)),
            "mujoco",
            "hopper",
            "still",
        ),
        in_tmp / "still",
        in_tmp / "still" / "logs",
    )
    mirror = in_tmp / "mirror"
    mirror.mkdir()
    np.savez(mirror / "hopper.npz", **{field: getattr(still, field) for field in datasets.FIELDS})
    preset = _preset(smoke_config, source=npz_source, path="{env}.npz")
    preset["mirror"] = str(mirror)
    spec = config.dataset_spec(config.validate(preset), "mujoco", "hopper", "still")
    assert spec.mirror_path == str(mirror / "hopper.npz")
    folder = in_tmp / "imported"
    dataset_stage.generate(spec, folder, folder / "logs")
    loaded = datasets.load(folder, env=envs.EnvSpec.of("mujoco", "hopper", envs.protocol_for("mujoco")), name="still")
    assert loaded.card["source"] == npz_source and loaded.card["behaviour"].endswith("hopper.npz")
    assert np.array_equal(loaded.observations, still.observations) and len(loaded.rewards) == 120
    # its declaration is what validation knows of it: the schema's list, its keys, its suite, its mirror
    assert npz_source in config.load_schema()["$defs"]["dataset"]["properties"]["source"]["enum"]
    with pytest.raises(BenchmarkError, match=re.escape("still.path': required for source 'npz'")):
        config.validate(_preset(smoke_config, source=npz_source) | {"mirror": str(mirror)})
    with pytest.raises(BenchmarkError, match=re.escape("still.transitions': not used by source 'npz'")):
        config.validate(_preset(smoke_config, source=npz_source, path="{env}.npz", transitions=9))
    atari = copy.deepcopy(smoke_config) | {"mirror": str(mirror)}
    atari["suites"]["atari"]["datasets"]["mixed"] = {"source": npz_source, "path": "{env}.npz"}
    with pytest.raises(BenchmarkError, match="'npz' holds mujoco data, not atari"):
        config.validate(atari)
