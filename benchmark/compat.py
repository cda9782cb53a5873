"""Records made before a field existed: what the suite reads in its place, said once.

Results outlive the code that wrote them: the committed reference runs include config.json files
made before `inputs`, the data's behaviour, `dataset_transitions` or the manifests were recorded,
runs made before the diagnose stage, dataset cards made before budget-cut episodes were left out,
and atari-dt-v1 protocols, which predate `frame_stack_padding`. Every reader of such a record
(specs, envs, checkpoints, the report, the results README) asks here what a missing field means,
so each default has one home and one reason. Nothing here writes a record back: old records stay
byte for byte.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmark import io

NOT_RECORDED = "not recorded"  # what a table says of a fact that runs made before it was recorded lack

# Fields added to the Atari protocol after atari-dt-v1, with the value v1 runs were measured under:
# their frame stacks started with copies of the reset frame (gymnasium's default).
ATARI_PROTOCOL_ADDED = {"frame_stack_padding": "reset"}


def protocol(recorded: dict[str, Any]) -> dict[str, Any]:
    """A run's recorded protocol (config.json `protocol`), each field it predates filled in."""
    if recorded["name"].startswith("atari"):
        return {**ATARI_PROTOCOL_ADDED, **recorded}
    return recorded


def manifests(recorded: dict[str, str] | None) -> dict[str, str]:
    """The manifests a run recorded, by kind; none for runs made before manifests (nothing to compare with)."""
    return recorded or {}


def inputs(recorded: str | None) -> str:
    """What the algorithm reads, as config.json recorded it; NOT_RECORDED for runs made before it did."""
    return NOT_RECORDED if recorded is None else recorded


def dataset_transitions(recorded: int | None, dataset_options: dict[str, Any]) -> int | None:
    """The run's dataset size. Runs made before config.json recorded it know only their generator's
    `transitions` option (None for imported data)."""
    return dataset_options.get("transitions") if recorded is None else recorded


def behaviour(recorded: dict[str, Any] | None) -> dict[str, Any]:
    """The data's behaviour as the run recorded it from the dataset's card (description,
    episode_return_mean, normalized_return); runs made before it was recorded: none of it, the
    return NaN."""
    if recorded is None:
        return {"description": None, "episode_return_mean": math.nan, "normalized_return": None}
    return recorded


def diagnostics(path: Path) -> dict[str, Any] | None:
    """A run's diagnostics.json; None for runs made before the diagnose stage (no file)."""
    return io.read_json(path) if path.exists() else None


def budget_cut_episodes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The episodes a dataset's transition budget cut short; none on cards made before they were left out."""
    return card.get("budget_cut_episodes", [])
