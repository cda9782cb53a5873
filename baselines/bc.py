"""Behaviour cloning (d3rlpy DiscreteBC / BC).

Published values: d3rlpy's defaults (d3rlpy has no BC reproduction script). Note the DT paper's
Atari BC is its transformer without returns; this one is d3rlpy's Nature-CNN / MLP BC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import d3rlpy

from baselines._d3rlpy import D3rlpyBaseline
from benchmark.algorithms import Budget, register
from benchmark.cost import Cost, d3rlpy_default_network
from benchmark.datasets import OfflineDataset
from benchmark.envs import EnvSpec


@dataclass(frozen=True)
class AtariHyperparameters:
    learning_rate: float = 1e-3  # Adam
    beta: float = 0.5  # weight of the logits' L2 penalty (d3rlpy DiscreteBC)
    feature_size: int = 512  # width of the Nature-CNN's last layer


@dataclass(frozen=True)
class MujocoHyperparameters:
    learning_rate: float = 1e-3  # Adam
    hidden_units: tuple[int, ...] = (256, 256)  # MLP policy
    policy_type: str = "deterministic"  # d3rlpy BC: deterministic (MSE) or stochastic


@register("bc")
class BehaviourCloning(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = {"atari": AtariHyperparameters(), "mujoco": MujocoHyperparameters()}

    @classmethod
    def cost(cls, env: EnvSpec, dataset: str, hyperparameters: Any, batch: int) -> Cost:
        return d3rlpy_default_network(env, batch, measured="bc")

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
