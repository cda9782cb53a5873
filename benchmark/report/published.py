"""Published numbers beside ours, with every difference of protocol named.

The published tables (benchmark/data/, sources in its README) are read from the package; each of
our rows is matched to the published rows of its suite, env and algorithm on the dataset it
stands for, and every way our run differs from the published protocol is computed from the run's
own config.json: data, transitions, budget, seeds, evaluation episodes, pretraining, protocol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pandas as pd

from benchmark import scores
from benchmark.sources import GENERATORS, SOURCES

PUBLISHED_ALGORITHMS = {"DT": "dt", "DiscreteDT": "dt", "CQL": "cql", "DiscreteCQL": "cql", "BC": "bc"}
# Our generated datasets stand in for these published ones (same recipe, never the same data):
# each generator's declaration says which.
STAND_INS = {name: g.stands_for for name, g in GENERATORS.items() if g.stands_for is not None}
# unit -> the normaliser our score must use to be set beside it (None: raw returns)
UNITS: dict[str, str | None] = {
    "raw": None,
    "gamer_normalized": scores.ATARI_GAMER,
    "d4rl_normalized": scores.D4RL,
}
PROTOCOL_KEY = ["source", "table", "suite", "algorithm"]
COLUMNS = [
    "suite",
    "env",
    "published_algorithm",
    "algorithm",
    "source",
    "table",
    "url",
    "published_dataset",
    "unit",
    "published_score",
    "published_mean",
    "published_std",
    "published_seeds",
    "published_note",
    "dataset",
    "preset",
    "seeds",
    "final_mean",
    "final_std",
    "best_mean",
    "best_std",
    "differences",
]


def load() -> pd.DataFrame:
    """Every published number with the protocol it was measured under."""
    data = resources.files("benchmark") / "data"
    with (data / "published_scores.csv").open() as f:
        numbers = pd.read_csv(f)
    with (data / "published_protocols.csv").open() as f:
        protocols = pd.read_csv(f, dtype={"pretrained": str, "protocol": str, "note": str})
    return numbers.merge(protocols, on=PROTOCOL_KEY, how="left", suffixes=("", "_protocol"), validate="many_to_one")


def stands_for(source: str, generator: str | None, name: str) -> str | None:
    """The published dataset one of ours is set beside, or None: its source's declaration says."""
    return SOURCES[source].stands_for(name, generator)


def _known(value: Any) -> bool:
    return value != "" if isinstance(value, str) else not pd.isna(value)


def _count(value: Any) -> str | None:
    return f"{int(value):,}" if _known(value) else None


def _compare(what: str, ours: Any, theirs: Any) -> list[str]:
    if not _known(ours) and not _known(theirs):
        return []
    if not _known(theirs):
        return [f"{what}: ours {ours}, published not recorded"]
    if not _known(ours):
        return [f"{what}: ours not recorded, published {theirs}"]
    return [] if str(ours) == str(theirs) else [f"{what}: ours {ours}, published {theirs}"]


def _budget(steps: Any, batch: Any) -> str | None:
    return f"{_count(steps)} steps x {_count(batch)}" if _known(steps) and _known(batch) else None


def differences(ours: Mapping[str, Any], published: Mapping[str, Any]) -> list[str]:
    """Every way our run's protocol differs from the published one (empty: like for like)."""
    data = ours["data_source"] if ours["data_source"] != "generated" else f"generated here ({ours['generator']})"
    ours_budget = _budget(ours["train_steps"], ours["batch_size"])
    flags = [
        *_compare("data", data, published["data"]),
        *_compare("transitions", _count(ours["transitions"]), _count(published["transitions"])),
        *_compare("budget", ours_budget, _budget(published["train_steps"], published["batch_size"])),
        *_compare("seeds", _count(ours["seeds"]), _count(published["seeds"])),
        *_compare("evaluation episodes", _count(ours["eval_episodes"]), _count(published["eval_episodes"])),
        *_compare("pretrained", ours["pretrained"], published["pretrained"]),
        *_compare("protocol", ours["protocol"], published["protocol"]),
    ]
    if published["score"] == "unstated":
        flags.append("score: published does not say final or best")
    return flags


def beside_ours(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """One row per published number and each of our datasets standing for its dataset; a
    published number we have nothing beside still gets its row.

    `ours`: per suite x env x dataset x algorithm, the per-task table's columns (raw and
    normalised final and best mean and std, seeds) and the run facts (data_source, generator,
    transitions, train_steps, batch_size, eval_episodes, pretrained, protocol, normalizer, preset).
    """
    ours = ours.assign(
        published_dataset=[
            stands_for(*t) for t in ours[["data_source", "generator", "dataset"]].itertuples(index=False)
        ]
    )
    rows = []
    for number in published.sort_values(["suite", "env", "algorithm", "source", "table", "unit", "score"]).to_dict(
        "records"
    ):
        algorithm = PUBLISHED_ALGORITHMS.get(number["algorithm"])
        row = {
            "suite": number["suite"],
            "env": number["env"],
            "published_algorithm": number["algorithm"],
            "algorithm": algorithm or "",
            "source": number["source"],
            "table": number["table"],
            "url": number["url"],
            "published_dataset": number["dataset"],
            "unit": number["unit"],
            "published_score": number["score"],
            "published_mean": number["mean"],
            "published_std": number["std"],
            "published_seeds": number["seeds"],
            # a number's note and its protocol's, each once (a source may say the same in both)
            "published_note": "; ".join(
                dict.fromkeys(n for n in (number["note"], number["note_protocol"]) if _known(n))
            ),
        }
        matches = ours[
            (ours["suite"] == number["suite"])
            & (ours["env"] == number["env"])
            & (ours["algorithm"] == algorithm)
            & (ours["published_dataset"] == number["dataset"])
        ]
        if matches.empty:
            reason = "not in these results" if algorithm else "not an algorithm of this benchmark"
            rows.append(row | {"differences": reason})
            continue
        for match in matches.to_dict("records"):
            normalizer = UNITS[number["unit"]]
            prefix = "raw" if normalizer is None else "norm"
            comparable = normalizer is None or normalizer == match["normalizer"]
            values = {
                f"{score}_{stat}": match[f"{score}_{prefix}_{stat}"] if comparable else math.nan
                for score in ("final", "best")
                for stat in ("mean", "std")
            }
            flags = differences(match, number)
            if not comparable:
                flags.insert(0, f"unit: ours normalised with {match['normalizer']}, not comparable")
            rows.append(
                row
                | {"dataset": match["dataset"], "preset": match["preset"], "seeds": match["seeds"]}
                | values
                | {"differences": "; ".join(flags)}
            )
    return pd.DataFrame(rows, columns=COLUMNS)
