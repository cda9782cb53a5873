"""results/README.md of a reference run (`python -m benchmark results-readme`): how it was made,
from what data, on what machine, how long, and every hyperparameter off its published value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark import algorithms, compat, paths, provenance, specs


def make(command: str, wall_s: float, scores_csv: Path, datasets_root: Path, features_root: Path) -> str:
    """results/README.md for a reference run: how it was made, from what, on what, how long."""
    scores = pd.read_csv(scores_csv)
    recorded = provenance.record()
    shas = sorted(set(scores["git_sha"]))
    lines = [
        "# Reference results",
        "",
        "Made by one real run of the workflow; every number here comes from it.",
        "",
        f"- command: `{command}`",
        f"- wall time: {wall_s / 60:.1f} min ({wall_s:.0f} s) for the whole command",
        f"- git sha of the runs: {', '.join(f'`{sha}`' for sha in shas)}",
        f"- machine: {recorded['machine']['cpus']} CPUs ({recorded['machine']['cpu']}), no GPU; "
        f"{recorded['machine']['platform']}",
        f"- Python {recorded['python']}; " + ", ".join(f"{k} {v}" for k, v in recorded["packages"].items()),
        f"- runs: {len(scores)} ({', '.join(sorted(set(scores['algorithm'])))} x "
        f"{scores.groupby(['suite', 'env', 'dataset']).ngroups} datasets x {scores['seed'].nunique()} seeds)",
        "",
        "## Datasets",
        "",
        "Returns over complete episodes (`cut`: episodes the transition budget cut short, left out).",
        "",
        "| dataset | transitions | episodes | return min / mean / max | normalised mean | sha256 |",
        "|---|---|---|---|---|---|",
    ]
    for card_path in sorted(datasets_root.glob(f"*/*/*/{paths.DATASET_CARD}")):
        card = json.loads(card_path.read_text())
        returns = card["episode_return"]
        normalized = card.get("behaviour_normalized_return")  # absent for clipped (DQN-Replay) rewards
        cut = len(compat.budget_cut_episodes(card))
        episodes = f"{card['episodes']} ({cut} cut)" if cut else str(card["episodes"])
        lines.append(
            f"| {card['suite']}/{card['env']}/{card['name']} | {card['transitions']} | {episodes} "
            f"| {returns['min']:.1f} / {returns['mean']:.1f} / {returns['max']:.1f} "
            f"| {'-' if normalized is None else f'{normalized:.1f}'} | `{card['dataset_sha256']}` |"
        )
    lines += _hyperparameters_not_published(scores)
    features = sorted(features_root.glob(f"*/*/*/*/{paths.FEATURES_CARD}"))
    if features:
        lines += [
            "",
            "## MORE-3S encoder caches (encode once, shared by seeds and ablations)",
            "",
            "| dataset | cache | pairs | size | encode | render | weights |",
            "|---|---|---|---|---|---|---|",
        ]
    for card_path in features:
        card = json.loads(card_path.read_text())
        spec = card["spec"]
        weights = "; ".join(f"{k}={v}" for k, v in card["pretrained"].items())
        lines.append(
            f"| {spec['suite']}/{spec['env']}/{spec['dataset']} | `{card['id']}` | {card['pairs']} "
            f"| {card['bytes'] / 1e6:.0f} MB fp16 | {card['encode_pairs_per_s']:.0f} pairs/s "
            f"| {card['frames_wall_s']:.0f} s ({spec['render']['name'] if spec.get('render') else 'game frames'}) "
            f"| {weights} |"
        )
    return "\n".join(lines) + "\n"


def _hyperparameters_not_published(scores: Any) -> list[str]:
    """A table of every hyperparameter a run used that is not its algorithm's published value
    (the preset's overrides, read back from each run's config.json), so none goes unsaid."""
    differing = set()
    for suite, env, dataset, algorithm, seed in scores[["suite", "env", "dataset", "algorithm", "seed"]].itertuples(
        index=False
    ):
        used = specs.RunRecord.read(paths.run_dir(specs.RunKey(suite, env, dataset, algorithm, int(seed)).id))
        published = algorithms.hyperparameters(algorithm, suite, {})
        for name, value in used.spec.hyperparameters.items():
            # compared as JSON: config.json gives lists where the published defaults hold tuples
            used_json, published_json = json.dumps(value), json.dumps(published.get(name))
            if used_json != published_json:
                differing.add((algorithm, suite, name, used_json, published_json))
    if not differing:
        return ["", "Every run used its algorithm's published hyperparameters."]
    return [
        "",
        "## Hyperparameters set by the preset (not the published values)",
        "",
        "| algorithm | suite | hyperparameter | used | published |",
        "|---|---|---|---|---|",
        *(f"| {a} | {s} | {n} | {u} | {p} |" for a, s, n, u, p in sorted(differing)),
    ]
