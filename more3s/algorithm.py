"""MORE-3S in the suite's grid: training on cached encoder outputs, batched evaluation on live
frames. One class runs MORE-3S and every ablation (`more3s-<variant>`): the registry declares
each with its own published hyperparameters (more3s.hyperparameters), which the run spec carries.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from benchmark import io, paths
from benchmark.algorithms import BatchPolicy, Budget, TrainLog, coerce
from benchmark.datasets import OfflineDataset
from benchmark.device import torch_device
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError
from more3s import features as cache
from more3s import heldout, prompts, swaps
from more3s.encoder import FrozenEncoder, load_weights
from more3s.hyperparameters import PUBLISHED
from more3s.model import ModelConfig, More3S
from more3s.render import StateRenderer
from more3s.windows import Windows


class More3SAlgorithm:
    def __init__(self, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int):
        self.spec = spec
        self.hp = coerce(type(PUBLISHED[spec.suite]), hyperparameters)
        self.seed = seed
        self.model: More3S | None = None
        self.features_folder: Path | None = None
        self.encoder_record: dict[str, str] = {}
        self.device = torch.device(torch_device())

    @property
    def inputs(self) -> str:
        """config.json's `inputs`: frames (MuJoCo: rendered states) and action texts, as `modality` has it."""
        return {"image+text": "pixels+text", "image": "pixels", "text": "text"}[self.hp.modality]

    @property
    def pretrained(self) -> str:
        """Per component: lxmert=..., text=..., gpt2=... ('no' = randomly initialised)."""
        gpt2 = self.model.gpt2_record if self.model is not None else "?"
        parts = {**self.encoder_record, "gpt2": gpt2}
        return "; ".join(f"{k}={v}" for k, v in parts.items())

    def _build(self, encoded_shape: tuple[int, ...]) -> More3S:
        hp = self.hp
        return More3S(
            ModelConfig(
                encoded_tokens=encoded_shape[-2],
                encoded_width=encoded_shape[-1],
                embed_size=hp.embed_size,
                num_layers=hp.num_layers,
                num_heads=hp.num_heads,
                max_timestep=hp.max_timestep,
                dropout=hp.dropout,
                action_size=self.spec.action_size,
                discrete=self.spec.discrete,
                rtg_mode=hp.rtg_mode,
                memory=hp.memory,
                memory_batches=hp.memory_batches,
                memory_width=hp.memory_width,
                gpt2_weights=hp.gpt2_weights,
                standardize=hp.standardize,
            )
        )

    def loss(
        self, out: torch.Tensor, actions: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy (discrete) or MSE (continuous) over the valid steps; + action accuracy."""
        if self.spec.discrete:
            loss = F.cross_entropy(out[valid], actions[valid].long())
            accuracy = (out[valid].argmax(-1) == actions[valid].long()).float().mean()
            return loss, {"loss": loss.item(), "action_accuracy": accuracy.item()}
        loss = F.mse_loss(out[valid], actions[valid])
        return loss, {"loss": loss.item()}

    def fit(self, data: OfflineDataset, budget: Budget, run_dir: Path, log: TrainLog) -> None:
        spec = self.hp.features_spec(self.spec.suite, self.spec.env, data.card["name"])
        self.features_folder = spec.folder
        features = cache.load(spec.folder, data)
        self.encoder_record = features.card["pretrained"]
        io.write_json(run_dir / paths.FEATURES_CARD, features.card)  # the cache's size, throughput, weights
        torch.manual_seed(self.seed)
        self.model = model = self._build(features.shape)
        if self.hp.standardize:
            model.fuse.set_statistics(torch.tensor(features.statistics()))  # a copy: the file is read-only
        model.to(self.device)
        windows = Windows(data, self.hp.context_size, np.random.default_rng(self.seed))
        # fused: AdamW's update in one pass over each parameter (same rule; the loop version re-reads
        # the 21,504-wide fusion layer's 2.8M weights once per operation: 33 -> 10 ms a Hopper step).
        # Deterministic run to run; its rounding differs from the loop's in the last bits.
        optimizer = torch.optim.AdamW(
            model.parameters(),
            lr=self.hp.learning_rate,
            betas=(0.9, 0.95),
            weight_decay=self.hp.weight_decay,
            fused=True,
        )
        warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / self.hp.warmup_steps))
        interval: list[dict[str, float]] = []
        checkpoints = set(budget.checkpoints)
        log.start()
        model.train()
        for step in tqdm(range(1, budget.steps + 1), desc="more3s", mininterval=10):
            index, valid_np = windows.sample(budget.batch_size)
            encoded = torch.as_tensor(features.rows(index.ravel())).view(*index.shape, *features.shape[1:])
            returns = torch.as_tensor(windows.returns_to_go[index] * self.hp.return_scale)[..., None]
            valid = torch.as_tensor(valid_np, device=self.device)
            out = model(
                model.fuse(encoded.to(self.device)),
                returns.to(self.device),
                torch.as_tensor(windows.timesteps[index], device=self.device),
                valid,
            )
            actions = torch.as_tensor(np.asarray(data.actions)[index], device=self.device)
            loss, metrics = self.loss(out, actions, valid)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.hp.clip_grad_norm)
            optimizer.step()
            warmup.step()
            interval.append(metrics)
            if step in checkpoints:
                log.checkpoint(step, pd.DataFrame(interval).mean().to_dict())
                interval = []
                model.train()

    def save(self, path: Path) -> list[Path]:
        """Trainable weights (a torch state dict); the features folder and records beside them."""
        assert self.model is not None
        side = {"features_folder": str(self.features_folder), "encoder_record": self.encoder_record}
        io.write_json(path.with_suffix(".json"), side)
        io.atomic_write(path, lambda f: torch.save(self.model.state_dict(), f))  # type: ignore[union-attr]
        return [path, path.with_suffix(".json")]

    @classmethod
    def load(cls, path: Path, spec: EnvSpec, hyperparameters: dict[str, Any], seed: int) -> Any:
        algorithm = cls(spec, hyperparameters, seed)
        side = io.read_json(path.with_suffix(".json"))
        algorithm.features_folder = Path(side["features_folder"])
        algorithm.encoder_record = side["encoder_record"]
        card = io.read_json(algorithm.features_folder / cache.CARD)
        algorithm.model = algorithm._build(tuple(card["shape"]))
        load_weights(algorithm.model, path)
        algorithm.model.to(algorithm.device)
        return algorithm

    def teacher_forced(self, held_out: OfflineDataset) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The diagnose stage's teacher-forced actions from the held-out data's features cache
        (more3s.heldout), or None where there is none (live features: played step by step)."""
        assert self.model is not None and self.features_folder is not None
        encoded = heldout.cached(self.features_folder, held_out)
        if encoded is None:
            return None
        windows = Windows(held_out, self.hp.context_size, np.random.default_rng(0))  # draws nothing here
        return heldout.HeldOutWindows(held_out, encoded, windows).predict(self, self.seed)

    def diagnostics(self, held_out: OfflineDataset) -> dict[str, Any]:
        """The diagnose stage's measurements of MORE-3S's own: which input it leans on (more3s.swaps)."""
        assert self.model is not None
        return swaps.swap_sensitivity(self, held_out, Windows(held_out, self.hp.context_size, np.random.default_rng(0)))

    def policy(self) -> BatchPolicy:
        assert self.model is not None and self.features_folder is not None
        card = io.read_json(self.features_folder / cache.CARD)
        spec = cache.FeaturesSpec.from_dict(card["spec"])
        encoder = FrozenEncoder.load(self.features_folder)
        encoder.model.to(self.device)  # live frames are encoded where the model runs
        return More3SPolicy(self, spec, encoder)


class More3SPolicy:
    """Live play for many episodes at once: each step, the frozen encoder encodes the current
    frames with the text of each episode's previous action, the fusion makes one token, and the
    model reads the last K tokens with their returns-to-go (target minus rewards so far).
    Discrete actions are sampled from the softmax, as the Decision Transformer's. The text names
    the action the env executed at the previous step (`executed`), as in training on logged
    actions, which differs from the chosen one where the evaluation epsilon replaced it."""

    def __init__(self, algorithm: More3SAlgorithm, spec: cache.FeaturesSpec, encoder: FrozenEncoder):
        assert algorithm.model is not None
        self.model = algorithm.model.eval()
        self.hp = algorithm.hp
        self.discrete = algorithm.spec.discrete
        self.encoder = encoder
        self.frames = cache.frames_of(spec)
        self.texts = cache.ActionTexts(spec, algorithm.spec.action_meanings, algorithm.seed)
        self.rng = np.random.default_rng(algorithm.seed)
        self.device = algorithm.device

    def reset(self, n_envs: int, target_return: float | np.ndarray | None) -> None:
        if target_return is None:
            raise BenchmarkError("MORE-3S is return-conditioned: the env needs a target_return")
        context = self.hp.context_size
        self.tokens: list[deque[torch.Tensor]] = [deque(maxlen=context) for _ in range(n_envs)]
        self.returns: list[deque[float]] = [deque(maxlen=context) for _ in range(n_envs)]
        self.timesteps: list[deque[int]] = [deque(maxlen=context) for _ in range(n_envs)]
        self.return_rest = np.broadcast_to(np.asarray(target_return, np.float64), (n_envs,)).copy()
        self.action_probabilities: np.ndarray | None = None  # of the last `act` (discrete)
        self.timestep = np.zeros(n_envs, dtype=np.int64)  # of the current step in its episode
        self.previous: list[Any] = [None] * n_envs

    @torch.no_grad()
    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        token_ids, masks = prompts.tokenize([self.texts(self.previous[e]) for e in env_ids])
        encoded = self.encoder.encode(self.frames(observations), token_ids, masks, image=self.hp.modality != "text")
        new_tokens = self.model.fuse(encoded.to(self.device)).cpu()
        for i, e in enumerate(env_ids):
            self.return_rest[e] -= rewards[i]
            self.tokens[e].append(new_tokens[i])
            self.returns[e].append(self.return_rest[e] * self.hp.return_scale)
            self.timesteps[e].append(int(self.timestep[e]))
            self.timestep[e] += 1
        context = self.hp.context_size
        batch = len(env_ids)
        tokens = torch.zeros(batch, context, new_tokens.shape[-1])
        returns = torch.zeros(batch, context, 1)
        timesteps = torch.zeros(batch, context, dtype=torch.long)
        valid = torch.zeros(batch, context, dtype=torch.bool)
        for i, e in enumerate(env_ids):  # left padding, as in training
            length = len(self.tokens[e])
            tokens[i, context - length :] = torch.stack(list(self.tokens[e]))
            returns[i, context - length :, 0] = torch.as_tensor(list(self.returns[e]))
            timesteps[i, context - length :] = torch.as_tensor(list(self.timesteps[e]))
            valid[i, context - length :] = True
        inputs = (tokens, returns, timesteps, valid)
        last = self.model(*(x.to(self.device) for x in inputs))[:, -1].cpu()
        if self.discrete:
            probs = torch.softmax(last, dim=-1).numpy().astype(np.float64)
            chosen: np.ndarray = np.array([self.rng.choice(len(p), p=p / p.sum()) for p in probs])
            self.action_probabilities = probs
        else:
            chosen = last.numpy()
        self.executed(chosen, env_ids)  # until the evaluator reports what ran
        return chosen

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        for action, e in zip(actions, env_ids, strict=True):
            self.previous[e] = action

    def close(self) -> None:
        """Free the live renderer (MuJoCo) now rather than when the policy is collected."""
        if isinstance(self.frames, StateRenderer):
            self.frames.close()
