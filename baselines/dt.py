"""Decision Transformer (d3rlpy DiscreteDecisionTransformer / DecisionTransformer).

Published values: the DT paper (arXiv 2106.01345, appendix A) as d3rlpy's reproduction scripts
encode them (reproductions/offline/discrete_decision_transformer.py, decision_transformer.py).
Atari: 6 layers, 8 heads, 128-d, context 30, AdamW (0.9, 0.95) lr 6e-4 wd 0.1, clip 1.0, linear
warm-up over 512*20 tokens then cosine decay to 10% at 2*N*K*3 tokens, GELU, tanh embeddings,
global position encoding up to the longest episode. (The paper uses context 50 and batch 512 for
Pong; this suite uses one setting per suite.) MuJoCo: 3 layers, 1 head, 128-d, context 20, ReLU,
AdamW lr 1e-4 wd 1e-4, clip 0.25, 10k warm-up steps, standardised states, returns x 1/1000.
"""

from __future__ import annotations

from typing import Any, ClassVar

import d3rlpy
import numpy as np

from baselines._d3rlpy import D3rlpyBaseline
from baselines.hyperparameters import DT
from benchmark.algorithms import Budget
from benchmark.datasets import OfflineDataset


class DecisionTransformer(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = DT

    def loss_scales(self) -> dict[str, float]:
        # d3rlpy's continuous DT loss is the squared error summed over action dimensions (BC's and
        # MORE-3S's MSE average them): logged per dimension. The discrete one is a cross-entropy.
        return {} if self.spec.discrete else {"loss": 1.0 / self.spec.action_size}

    def make_config(self, data: OfflineDataset, budget: Budget) -> Any:
        hp = self.hyperparameters
        dropouts = {"attn_dropout": hp.dropout, "resid_dropout": hp.dropout, "embed_dropout": hp.dropout}
        if self.spec.discrete:
            longest_episode = int(np.diff(np.concatenate([[-1], data.episode_ends()])).max())
            return d3rlpy.algos.DiscreteDecisionTransformerConfig(
                batch_size=budget.batch_size,
                context_size=hp.context_size,
                learning_rate=hp.learning_rate,
                num_layers=hp.num_layers,
                num_heads=hp.num_heads,
                encoder_factory=d3rlpy.models.PixelEncoderFactory(
                    feature_size=hp.embed_size, exclude_last_activation=True
                ),
                optim_factory=d3rlpy.optimizers.GPTAdamWFactory(
                    betas=(0.9, 0.95), weight_decay=hp.weight_decay, clip_grad_norm=hp.clip_grad_norm
                ),
                warmup_tokens=hp.warmup_tokens,
                final_tokens=2 * len(data.rewards) * hp.context_size * 3,
                observation_scaler=d3rlpy.preprocessing.PixelObservationScaler(),
                max_timestep=longest_episode + 1,
                position_encoding_type=d3rlpy.PositionEncodingType.GLOBAL,
                activation_type="gelu",
                embed_activation_type="tanh",
                **dropouts,
            )
        return d3rlpy.algos.DecisionTransformerConfig(
            batch_size=budget.batch_size,
            context_size=hp.context_size,
            learning_rate=hp.learning_rate,
            num_layers=hp.num_layers,
            num_heads=hp.num_heads,
            encoder_factory=d3rlpy.models.VectorEncoderFactory([hp.embed_size], exclude_last_activation=True),
            optim_factory=d3rlpy.optimizers.GPTAdamWFactory(
                weight_decay=hp.weight_decay,
                clip_grad_norm=hp.clip_grad_norm,
                lr_scheduler_factory=d3rlpy.optimizers.WarmupSchedulerFactory(warmup_steps=hp.warmup_steps),
            ),
            observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
            reward_scaler=d3rlpy.preprocessing.MultiplyRewardScaler(hp.return_scale),
            max_timestep=hp.max_timestep,
            activation_type="relu",
            **dropouts,
        )
