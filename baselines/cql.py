"""Conservative Q-Learning (d3rlpy DiscreteCQL / CQL).

Published values: d3rlpy's reproduction scripts (reproductions/offline/discrete_cql.py and
cql.py, d3rlpy 2.x): Atari with a 200-quantile QR head, Adam eps 1e-2/32, lr 5e-5, alpha 4,
target update every 2000 steps, rewards clipped to [-1, 1], batch 32; MuJoCo with 3x256 MLPs,
actor lr 1e-4, critic lr 3e-4, fixed conservative weight, batch 256.
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
    learning_rate: float = 5e-5  # Adam
    adam_eps: float = 1e-2 / 32  # Adam epsilon (QR-DQN's setting)
    alpha: float = 4.0  # weight of the conservative penalty
    n_quantiles: int = 200  # quantile-regression Q head; 0 for a plain mean Q head
    target_update_interval: int = 2000  # gradient steps between target-network copies
    feature_size: int = 512  # width of the Nature-CNN's last layer


@dataclass(frozen=True)
class MujocoHyperparameters:
    actor_learning_rate: float = 1e-4
    critic_learning_rate: float = 3e-4
    temp_learning_rate: float = 1e-4  # SAC temperature
    alpha_learning_rate: float = 0.0  # 0: fixed conservative weight (no Lagrangian tuning)
    conservative_weight: float = 5.0  # 10 for "medium" datasets in d3rlpy's script
    hidden_units: tuple[int, ...] = (256, 256, 256)  # actor and critic MLPs
    n_action_samples: int = 10  # actions sampled for the log-sum-exp penalty


@register("cql")
class ConservativeQLearning(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = {"atari": AtariHyperparameters(), "mujoco": MujocoHyperparameters()}

    @classmethod
    def cost(cls, env: EnvSpec, dataset: str, hyperparameters: Any, batch: int) -> Cost:
        # on Atari the QR head has n_quantiles outputs an action (0: a mean head, one)
        q_heads = (hyperparameters.n_quantiles or 1) if env.suite == "atari" else 1
        return d3rlpy_default_network(env, batch, measured="cql", q_heads=q_heads)

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
