"""d3rlpy baseline checkpoints load with weights_only=True whatever the environment says; every
checkpoint file is checked against the sha256 in its folder's manifest before it is loaded, and a
bad checkpoint is one line naming the file."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import write_random_dataset

from benchmark import algorithms, checkpoints, config, io, manifest, paths, training
from benchmark.errors import BenchmarkError
from benchmark.preset import Preset
from benchmark.specs import RunRecord, RunSpec


class _RunsCode:
    """An object whose unpickling runs code: what a crafted checkpoint would carry."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("touch ran",))


@pytest.fixture
def trained(smoke: Preset, in_tmp: Path) -> tuple[RunSpec, Path]:
    spec = config.run_spec(smoke, config.RunKey("mujoco", "hopper", "mixed", "bc", 0))
    spec = dataclasses.replace(spec, budget=dataclasses.replace(spec.budget, steps=2, eval_every=2))
    write_random_dataset(spec.dataset.folder, "mujoco", name="mixed")
    training.train(spec)
    listing = io.read_json(paths.checkpoint_dir(spec.run) / "checkpoints.json")
    return spec, Path(listing["checkpoints"][-1]["path"])


def _load(spec: RunSpec, path: Path) -> Any:
    """As evaluation loads: every checkpoint of the run verified first."""
    checkpoints.verified_checkpoints(RunRecord.read(paths.run_dir(spec.run)))
    return checkpoints.load_checkpoint(spec, path, spec.env_spec())


def _load_unverified(spec: RunSpec, path: Path) -> Any:
    """The class's own load, past the manifest's hashes: what torch.load itself lets through."""
    cls = algorithms.get(spec.key.algorithm)
    return cls.load(path, spec.env_spec(), spec.hyperparameters, 0)


def test_a_checkpoint_that_would_run_code_is_refused_even_when_torch_is_told_not_to_check(
    trained: tuple[RunSpec, Path], monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    spec, path = trained
    assert _load(spec, path).algo is not None  # the real one loads
    torch.save({"policy": _RunsCode()}, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(BenchmarkError, match=f"{path}: not a loadable checkpoint of this run") as raised:
        _load_unverified(spec, path)
    assert "\n" not in str(raised.value)
    assert not (in_tmp / "ran").exists()


def _flip_last_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.write_bytes(b""), "{path}: sha256 "),
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "{path}: sha256 "),
        (_flip_last_byte, "{path}: sha256 "),
        (lambda p: _flip_last_byte(p.with_suffix(".json")), "{json}: sha256 "),
        (lambda p: p.unlink(), "{path}: missing; "),
    ],
    ids=["empty", "truncated", "flipped-byte", "flipped-config-byte", "missing"],
)
def test_a_damaged_checkpoint_is_one_line_naming_the_file(trained: tuple[RunSpec, Path], damage, expected: str) -> None:
    spec, path = trained
    assert _load_unverified(spec, path).algo is not None
    damage(path)
    with pytest.raises(BenchmarkError) as raised:
        _load(spec, path)
    message = str(raised.value)
    assert message.startswith(expected.format(path=path, json=path.with_suffix(".json"))), message
    assert "\n" not in message


def test_the_manifest_records_a_sha256_of_every_checkpoint_file(trained: tuple[RunSpec, Path]) -> None:
    spec, path = trained
    listing = io.read_json(paths.checkpoint_dir(spec.run) / "checkpoints.json")
    recorded = listing["checkpoints"][-1]["sha256"]
    assert recorded == {f.name: manifest.sha256(f) for f in (path, path.with_suffix(".json"))}
