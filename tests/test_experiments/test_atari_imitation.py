"""The atari-imitation preset's DT probes (experiments/atari-imitation/) on a tiny Breakout dataset:
the learning-rate probe's rows measure the model it trains, and the saturation report reads a
seed's checkpoint, train log and data as the committed dt_saturation.txt shows them."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import REPO, write_random_dataset

from benchmark import datasets

SCRIPTS = REPO / "experiments" / "atari-imitation"
LEARNING_RATE = 6e-4
SEED = 1


@pytest.fixture(scope="module")
def scripts() -> Iterator[dict[str, ModuleType]]:
    """The scripts imported as `python experiments/atari-imitation/<script>.py` runs them: their
    folder first on sys.path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(SCRIPTS))
        yield {name: importlib.import_module(name) for name in ("dt_embedding", "dt_lr_probe", "dt_saturation")}


@pytest.fixture(scope="module")
def probed(scripts: dict[str, ModuleType], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list]:
    """A workdir with 520 random Breakout frames (the probes stack 512), and the DT the learning-rate
    probe trained there for 2 steps, with the rows it emitted."""
    workdir = tmp_path_factory.mktemp("atari-imitation")
    write_random_dataset(workdir / scripts["dt_embedding"].DATASET, "atari", episodes=13, length=40)
    rows: list[dict[str, Any]] = []
    dt = scripts["dt_lr_probe"].probe(workdir, SEED, LEARNING_RATE, rows.append, steps=2, every=1)
    return workdir, dt, rows


def embedding_of(scripts: dict[str, ModuleType], workdir: Path, dt: Any) -> Any:
    embedding = scripts["dt_embedding"]
    data = datasets.load(workdir / embedding.DATASET)
    return embedding.state_embedding(dt, embedding.stacked_frames(np.asarray(data.observations)))


def test_the_learning_rate_probe_measures_the_model_it_trains_at_each_checkpoint(
    scripts: dict[str, ModuleType], probed: tuple[Path, Any, list]
) -> None:
    workdir, dt, rows = probed
    assert [row["step"] for row in rows] == [1, 2]
    assert {(row["seed"], row["learning_rate"]) for row in rows} == {(SEED, LEARNING_RATE)}
    assert all(np.isfinite(row["loss"]) and 0.0 <= row["share_beyond_3"] <= 1.0 for row in rows)
    final = embedding_of(scripts, workdir, dt)
    assert rows[-1]["mean_abs_h"] == round(float(final.abs().mean()), 3)  # the trained model's embedding
    assert json.loads(json.dumps(rows[-1])) == rows[-1]  # one JSON row each, as dt_lr_probe.txt holds them


def test_the_saturation_report_reads_each_seeds_final_checkpoint_and_losses(
    scripts: dict[str, ModuleType], probed: tuple[Path, Any, list], capsys: pytest.CaptureFixture[str]
) -> None:
    workdir, dt, rows = probed
    saturation = scripts["dt_saturation"]
    run = workdir / saturation.RUNS / f"seed{SEED}"
    run.mkdir(parents=True)
    dt.save(workdir / saturation.CHECKPOINTS / "atari/breakout/expert/dt" / f"seed{SEED}" / "step00000002.pt")
    config = {"training": {"steps": 2, "batch_size": 4, "eval_every": 1}, "hyperparameters": vars(dt.hyperparameters)}
    (run / "config.json").write_text(json.dumps(config))
    train_log = pd.DataFrame({"train_step": [row["step"] for row in rows], "loss": [row["loss"] for row in rows]})
    train_log.to_csv(run / "train_log.csv", index=False)

    saturation.main([str(workdir)])
    marginal_line, seed_line = capsys.readouterr().out.splitlines()

    actions = np.asarray(datasets.load(workdir / scripts["dt_embedding"].DATASET).actions)
    entropy = scipy.stats.entropy(np.bincount(actions, minlength=4))
    assert marginal_line.startswith("action marginal [") and marginal_line.endswith(f"entropy {entropy:.3f} nats")
    final = embedding_of(scripts, workdir, dt)  # the checkpoint loaded is the model saved
    assert seed_line.startswith(f"seed{SEED}: loss by checkpoint {[row['loss'] for row in rows]}; ")
    assert f"mean |h| {final.abs().mean():.3f}, spread across frames {final.std(0).mean():.3f}" in seed_line
