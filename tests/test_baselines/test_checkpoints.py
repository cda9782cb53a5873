"""d3rlpy baseline checkpoints load with weights_only=True whatever the environment says, and a
bad checkpoint is one line naming the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import dataset_folder, write_random_dataset

from benchmark import config, io, paths, training
from benchmark.errors import BenchmarkError


class _RunsCode:
    """An object whose unpickling runs code: what a crafted checkpoint would carry."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("touch ran",))


@pytest.fixture
def trained(smoke_config: dict[str, Any], in_tmp: Path) -> tuple[dict[str, Any], Path]:
    spec = config.run_spec(smoke_config, config.RunKey("mujoco", "hopper", "mixed", "bc", 0))
    spec["training"].update(steps=2, eval_every=2)
    write_random_dataset(dataset_folder(spec["dataset"]), "mujoco")
    training.train(spec)
    manifest = io.read_json(paths.checkpoint_dir(spec["run"]) / "checkpoints.json")
    return spec, Path(manifest["checkpoints"][-1]["path"])


def _load(spec: dict[str, Any], path: Path) -> Any:
    return training.load_checkpoint(spec, path, training.environment_spec(spec))


def test_a_checkpoint_that_would_run_code_is_refused_even_when_torch_is_told_not_to_check(
    trained: tuple[dict[str, Any], Path], monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    spec, path = trained
    assert _load(spec, path).algo is not None  # the real one loads
    torch.save({"policy": _RunsCode()}, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(BenchmarkError, match=f"{path}: not a loadable checkpoint of this run") as raised:
        _load(spec, path)
    assert "\n" not in str(raised.value)
    assert not (in_tmp / "ran").exists()


@pytest.mark.parametrize(
    "damage",
    [lambda p: p.write_bytes(b""), lambda p: p.write_bytes(p.read_bytes()[:100]), lambda p: p.unlink()],
    ids=["empty", "truncated", "missing"],
)
def test_a_damaged_checkpoint_is_one_line_naming_the_file(trained: tuple[dict[str, Any], Path], damage) -> None:
    spec, path = trained
    damage(path)
    with pytest.raises(BenchmarkError, match=f"{path}: not a loadable checkpoint") as raised:
        _load(spec, path)
    assert "\n" not in str(raised.value)
