"""Behaviour cloning (d3rlpy DiscreteBC / BC).

Published values: d3rlpy's defaults (d3rlpy has no BC reproduction script). Note the DT paper's
Atari BC is its transformer without returns; this one is d3rlpy's Nature-CNN / MLP BC.
"""

from __future__ import annotations

from typing import Any, ClassVar

import d3rlpy

from baselines._d3rlpy import D3rlpyBaseline
from baselines.hyperparameters import BC
from benchmark.algorithms import Budget
from benchmark.datasets import OfflineDataset


class BehaviourCloning(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = BC

    def make_config(self, data: OfflineDataset, budget: Budget) -> Any:
        hp = self.hyperparameters
        if self.spec.discrete:
            return d3rlpy.algos.DiscreteBCConfig(
                batch_size=budget.batch_size,
                learning_rate=hp.learning_rate,
                beta=hp.beta,
                encoder_factory=d3rlpy.models.PixelEncoderFactory(feature_size=hp.feature_size),
                observation_scaler=d3rlpy.preprocessing.PixelObservationScaler(),
            )
        return d3rlpy.algos.BCConfig(
            batch_size=budget.batch_size,
            learning_rate=hp.learning_rate,
            policy_type=hp.policy_type,
            encoder_factory=d3rlpy.models.VectorEncoderFactory(list(hp.hidden_units)),
        )
