"""The dataset stage: make one dataset from its spec (specs.DatasetSpec), from the source the spec names.

Every source (benchmark.sources) gives the rows and what the card says of them; this stage loads
the source's function (`generated`: benchmark.generators; the mirror sources:
benchmark.importers), adds what every card holds and writes the dataset (benchmark.datasets, the
storage format).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmark import datasets, envs, scores
from benchmark.errors import BenchmarkError
from benchmark.sources import SOURCES
from benchmark.specs import DatasetSpec


def generate(spec: DatasetSpec, folder: Path, log_dir: Path) -> datasets.OfflineDataset:
    """Make the dataset of `spec` (config.dataset_spec's) in `folder`; the card is written last."""
    started = time.time()
    suite, env = spec.suite, spec.env
    env_spec = envs.EnvSpec.of(suite, env, envs.protocol_for(suite))
    if spec.source not in SOURCES:
        raise BenchmarkError(f"dataset {spec.name!r}: unknown source {spec.source!r}; known: {', '.join(SOURCES)}")
    arrays, details = SOURCES.load(spec.source)(spec, env_spec, log_dir)
    card: dict[str, Any] = {
        "suite": suite,
        "env": env,
        "name": spec.name,
        "source": spec.source,
        "options": spec.options,
        "seed": spec.seed,
        "action_size": env_spec.action_size,
        "action_meanings": list(env_spec.action_meanings),
        **details,
        "wall_s": round(time.time() - started, 1),
    }
    # Clipped rewards (DQN-Replay) give clipped returns: normalising them by game scores would
    # put a wrong number on the card, so none is written.
    normalize = None if details.get("rewards_clipped") else scores.normalizer(suite, env)
    return datasets.write(folder, arrays, card, normalize)
