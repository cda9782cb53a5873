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

import copy
from typing import Any, ClassVar

import d3rlpy
import numpy as np
import torch

from baselines._d3rlpy import D3rlpyBaseline
from baselines.hyperparameters import DT
from benchmark.algorithms import BatchPolicy, Budget
from benchmark.datasets import OfflineDataset
from benchmark.errors import BenchmarkError


class DecisionTransformer(D3rlpyBaseline):
    PUBLISHED: ClassVar[dict[str, Any]] = DT

    def loss_scales(self) -> dict[str, float]:
        # d3rlpy's continuous DT loss is the squared error summed over action dimensions (BC's and
        # MORE-3S's MSE average them): logged per dimension. The discrete one is a cross-entropy.
        return {} if self.spec.discrete else {"loss": 1.0 / self.spec.action_size}

    def policy(self) -> BatchPolicy:
        return DecisionTransformerPolicy(self.algo, self.spec.discrete, self.seed)

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


class DecisionTransformerPolicy:
    """d3rlpy's Decision Transformer rolled out for many episodes at once.

    Follows d3rlpy's StatefulTransformerWrapper per episode (return-to-go = target minus rewards
    so far, the pending action padded, timesteps from 1, left-padding with zero observations and
    an attention mask), but stacks the live episodes into one batch for a single forward pass per
    step. Each observation is embedded by the model's state encoder (Atari: the CNN) once, when it
    arrives: every env keeps a window of its last `context` steps' embeddings (the padding's zero
    observation embedded once per reset), and the transformer reads those with its encoder
    bypassed, instead of encoding the whole window again at every step.
    Discrete actions are sampled from the softmax (temperature 1), as in the DT paper. The action
    token of a step is the action the env executed (`executed`), as in the logged training data,
    which differs from the chosen one where the evaluation epsilon replaced it.
    """

    def __init__(self, algo: Any, discrete: bool, seed: int):
        self.algo = algo
        self.discrete = discrete
        self.rng = np.random.default_rng(seed)
        self.context = algo.config.context_size
        transformer = algo.impl.modules.transformer
        self.encoder = transformer._encoder
        # the same transformer (its parameters shared) taking embeddings where d3rlpy's takes observations
        self.transformer = copy.copy(transformer)
        self.transformer._modules = {**transformer._modules, "_encoder": torch.nn.Identity()}

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        if target_return is None:
            raise BenchmarkError("the Decision Transformer is return-conditioned: the env needs a target_return")
        impl = self.algo.impl
        # Per env, its last `context` steps, oldest first; the padding before an episode's first step
        # is d3rlpy's: zero observations, pad actions (0 or zeros), returns and timesteps 0, mask 0.
        with torch.no_grad():
            padding = self._embed(torch.zeros(1, *impl.observation_shape, device=impl.device))
        self.embeddings = padding.expand(n_envs, self.context, -1).clone()
        self.actions = np.zeros((n_envs, self.context, 1 if self.discrete else impl.action_size), np.float32)
        self.returns_to_go = np.zeros((n_envs, self.context, 1), np.float32)
        self.timesteps = np.zeros((n_envs, self.context), np.int64)
        self.masks = np.zeros((n_envs, self.context), np.float32)  # 1 on the episode's steps
        self.timestep = np.ones(n_envs, np.int64)  # the next step's
        self.return_rest = np.broadcast_to(np.asarray(target_return, np.float64), (n_envs,)).copy()
        self.action_probabilities: np.ndarray | None = None  # of the last `act` (discrete)

    def _embed(self, observations: torch.Tensor) -> torch.Tensor:
        scaler = self.algo.config.observation_scaler
        return self.encoder(scaler.transform(observations) if scaler is not None else observations)

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        impl = self.algo.impl
        config = self.algo.config
        impl.modules.set_eval()  # as d3rlpy's predict: no dropout, inference token layout
        self.transformer.eval()  # the bypassing copy's own mode (its submodules are the model's)
        if observations.dtype == np.float64:  # gymnasium's MuJoCo observations
            observations = observations.astype(np.float32)
        self.return_rest[env_ids] -= rewards
        with torch.no_grad():
            rows = torch.as_tensor(env_ids, device=impl.device)
            _push(self.embeddings, rows, self._embed(torch.as_tensor(observations, device=impl.device)))
            _push(self.actions, env_ids, 0.0)  # the pending action, until `executed` reports it
            _push(self.returns_to_go, env_ids, self.return_rest[env_ids, None])
            _push(self.timesteps, env_ids, self.timestep[env_ids])
            _push(self.masks, env_ids, 1.0)
            self.timestep[env_ids] = np.minimum(self.timestep[env_ids] + 1, config.max_timestep)
            actions_t = torch.as_tensor(self.actions[env_ids], device=impl.device)
            rtg_t = torch.as_tensor(self.returns_to_go[env_ids], device=impl.device)
            if config.action_scaler is not None and not self.discrete:
                actions_t = config.action_scaler.transform(actions_t)
            if config.reward_scaler is not None:
                rtg_t = config.reward_scaler.transform(rtg_t)
            out = self.transformer(
                self.embeddings[rows],
                actions_t if not self.discrete else actions_t.long(),
                rtg_t,
                torch.as_tensor(self.timesteps[env_ids], device=impl.device),
                1 - torch.as_tensor(self.masks[env_ids], device=impl.device),
            )
            last = (out[1] if self.discrete else out)[:, -1]
            if self.discrete:
                probs = torch.softmax(last, dim=-1).cpu().numpy().astype(np.float64)
                chosen: np.ndarray = np.array([self.rng.choice(len(p), p=p / p.sum()) for p in probs])
                self.action_probabilities = probs
            else:
                chosen = last.cpu().numpy()
                if config.action_scaler is not None:
                    chosen = config.action_scaler.reverse_transform_numpy(chosen)
        self.executed(chosen, env_ids)  # until the evaluator reports what ran
        return chosen

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        self.actions[env_ids, -1] = np.asarray(actions, np.float32).reshape(len(env_ids), -1)


def _push(windows: Any, rows: Any, latest: Any) -> None:
    """Slide the windows `rows` (numpy arrays or tensors, (envs, context, ...)) one step left and
    put `latest` in their last slot."""
    windows[rows, :-1] = windows[rows, 1:]  # the right side is gathered (a copy) before the write
    windows[rows, -1] = latest
