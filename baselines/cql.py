"""Conservative Q-Learning (d3rlpy DiscreteCQL / CQL).

Published values: d3rlpy's reproduction scripts (reproductions/offline/discrete_cql.py and
cql.py, d3rlpy 2.x): Atari with a 200-quantile QR head, Adam eps 1e-2/32, lr 5e-5, alpha 4,
target update every 2000 steps, rewards clipped to [-1, 1], batch 32; MuJoCo with 3x256 MLPs,
actor lr 1e-4, critic lr 3e-4, fixed conservative weight, batch 256.
"""

from __future__ import annotations

from typing import Any, ClassVar

import d3rlpy

from baselines._d3rlpy import D3rlpyBaseline
from baselines.hyperparameters import CQL
from benchmark.algorithms import Budget
from benchmark.datasets import OfflineDataset


class ConservativeQLearning(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = CQL

    def make_config(self, data: OfflineDataset, budget: Budget) -> Any:
        hp = self.hyperparameters
        if self.spec.discrete:
            q_head = (
                d3rlpy.models.QRQFunctionFactory(n_quantiles=hp.n_quantiles)
                if hp.n_quantiles
                else d3rlpy.models.MeanQFunctionFactory()
            )
            return d3rlpy.algos.DiscreteCQLConfig(
                batch_size=budget.batch_size,
                learning_rate=hp.learning_rate,
                optim_factory=d3rlpy.optimizers.AdamFactory(eps=hp.adam_eps),
                alpha=hp.alpha,
                q_func_factory=q_head,
                target_update_interval=hp.target_update_interval,
                encoder_factory=d3rlpy.models.PixelEncoderFactory(feature_size=hp.feature_size),
                observation_scaler=d3rlpy.preprocessing.PixelObservationScaler(),
                reward_scaler=d3rlpy.preprocessing.ClipRewardScaler(-1.0, 1.0),
            )
        encoder = d3rlpy.models.VectorEncoderFactory(list(hp.hidden_units))
        return d3rlpy.algos.CQLConfig(
            batch_size=budget.batch_size,
            actor_learning_rate=hp.actor_learning_rate,
            critic_learning_rate=hp.critic_learning_rate,
            temp_learning_rate=hp.temp_learning_rate,
            alpha_learning_rate=hp.alpha_learning_rate,
            conservative_weight=hp.conservative_weight,
            n_action_samples=hp.n_action_samples,
            actor_encoder_factory=encoder,
            critic_encoder_factory=encoder,
        )
