"""The batched evaluation path gives what d3rlpy's one-episode-at-a-time path gives.

`DecisionTransformerPolicy` re-implements d3rlpy's `StatefulTransformerWrapper` for a batch of
episodes, embedding each observation once, and `run_episodes` steps a pool of envs side by side;
these tests pin both to the unbatched reference on synthetic histories and real Breakout episodes
(fast and exact; the DTs are tiny, fitted 3 steps).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import d3rlpy
import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import RecordActions

from baselines import _d3rlpy
from baselines.dt import DecisionTransformer
from baselines.hyperparameters import DTAtari, DTMujoco
from benchmark.algorithms import Budget
from benchmark.datasets import OfflineDataset
from benchmark.envs import EnvSpec, make_env, protocol_for
from benchmark.errors import BenchmarkError
from benchmark.evaluation import run_episodes
from benchmark.training import TrainLog

CONTEXT = 4
LENGTHS = (11, 7, 3, 1)  # episodes of different lengths, the longest past the context window


def _dataset(observations: np.ndarray, actions: np.ndarray, length: int) -> OfflineDataset:
    n = len(observations)
    ends = np.zeros(n, np.float32)
    ends[length - 1 :: length] = 1.0
    rewards = np.random.default_rng(1).normal(size=n).astype(np.float32)
    action_size = int(actions.max()) + 1 if actions.ndim == 1 else actions.shape[1]
    return OfflineDataset(observations, actions, rewards, ends, np.zeros(n, np.float32), {"action_size": action_size})


def _trained_dt(spec: EnvSpec, hyperparameters: Any, data: OfflineDataset, tmp: Path) -> Any:
    """A DT fitted for a few steps (fitted scalers, non-initial weights) by the suite's baseline."""
    torch.set_num_threads(1)
    baseline = DecisionTransformer(spec, dataclasses.asdict(hyperparameters), seed=0)
    log = TrainLog(tmp / "train_log.csv", lambda step: None)
    baseline.fit(data, Budget(steps=3, batch_size=4, eval_every=3), tmp, log)
    return baseline


def _trained_atari_dt(tmp: Path) -> Any:
    """A tiny discrete DT on random 84x84 frames (4-frame stacks, 4 actions)."""
    rng = np.random.default_rng(0)
    data = _dataset(rng.integers(0, 256, size=(40, 84, 84), dtype=np.uint8), rng.integers(0, 4, 40), 10)
    spec = EnvSpec("atari", "breakout", (4, 84, 84), discrete=True, action_size=4)
    hp = DTAtari(context_size=CONTEXT, num_layers=1, num_heads=1, embed_size=16)
    return _trained_dt(spec, hp, data, tmp)


def _drive(
    act: Callable[[np.ndarray, np.ndarray, np.ndarray], Any], observations: list[np.ndarray], rewards: list[np.ndarray]
) -> list[list[Any]]:
    """Call `act(obs, last_rewards, ids)` for all live episodes at once, step by step."""
    outputs: list[list[Any]] = [[] for _ in observations]
    for t in range(max(len(o) for o in observations)):
        ids = np.array([i for i, o in enumerate(observations) if len(o) > t])
        last = np.array([rewards[i][t - 1] if t else 0.0 for i in ids])
        actions = act(np.stack([observations[i][t] for i in ids]), last, ids)
        for i, out in zip(ids, actions, strict=True):
            outputs[i].append(out)
    return outputs


def _synthetic_episodes(shape: tuple[int, ...], seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Observations and rewards of episodes of lengths LENGTHS."""
    rng = np.random.default_rng(seed)
    if len(shape) == 1:  # float64, as gymnasium's MuJoCo envs return
        observations = [rng.normal(size=(n, *shape)) for n in LENGTHS]
    else:
        observations = [rng.integers(0, 256, size=(n, *shape), dtype=np.uint8) for n in LENGTHS]
    return observations, [rng.normal(size=n) * 10 for n in LENGTHS]


def test_continuous_dt_matches_d3rlpy_stateful_wrapper(tmp_path: Path) -> None:
    """Batched continuous DT actions equal d3rlpy's wrapper driven one episode at a time
    (scalers, returns-to-go, left padding, sliding window past the context, subsets of envs),
    whatever train/eval mode the modules were left in."""
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(60, 5)).astype(np.float32)
    data = _dataset(observations, rng.uniform(-1, 1, (60, 2)).astype(np.float32), 15)
    spec = EnvSpec("mujoco", "hopper", (5,), discrete=False, action_size=2)
    hp = DTMujoco(context_size=CONTEXT, num_layers=1, embed_size=16, warmup_steps=1)
    baseline = _trained_dt(spec, hp, data, tmp_path)
    observations, rewards = _synthetic_episodes((5,), seed=1)
    target = 3600.0

    baseline.algo.impl.modules.set_train()  # as fit or a fresh load leaves it: no dropout in acting
    policy = baseline.policy()
    policy.reset(len(LENGTHS), target)
    ours = _drive(policy.act, observations, rewards)

    for i, (obs, rew) in enumerate(zip(observations, rewards, strict=True)):
        wrapper = baseline.algo.as_stateful_wrapper(target_return=target)
        reference = [wrapper.predict(o, float(rew[t - 1]) if t else 0.0) for t, o in enumerate(obs)]
        np.testing.assert_allclose(np.stack(ours[i]), np.stack(reference), atol=1e-5, err_msg=f"episode {i}")


class _Recorder:
    """Stands in for both samplers: records what it is given, plays a fixed action script."""

    def __init__(self, script: np.ndarray):
        self.script = script
        self.seen: list[np.ndarray] = []

    def __call__(self, logits: np.ndarray) -> int:  # d3rlpy's TransformerActionSampler
        z = np.exp(logits - logits.max())
        self.seen.append(z / z.sum())  # the softmax d3rlpy's SoftmaxTransformerActionSampler takes
        return int(self.script[len(self.seen) - 1])

    def choice(self, n: int, p: np.ndarray) -> int:  # numpy Generator.choice, as our policy uses
        self.seen.append(p)
        return int(self.script[len(self.seen) - 1])


class _RowsRng:
    """Routes the policy's per-row `rng.choice` calls to each live episode's recorder."""

    rows: Iterator[_Recorder] = iter(())

    def choice(self, n: int, p: np.ndarray) -> int:
        return next(self.rows).choice(n, p)


def test_discrete_dt_samples_from_d3rlpy_distribution(tmp_path: Path) -> None:
    """Batched discrete DT samples from the same softmax(logits) d3rlpy's wrapper would, for the
    same pixel histories (actions are scripted so both sides condition on the same ones)."""
    baseline = _trained_atari_dt(tmp_path)
    observations, rewards = _synthetic_episodes((4, 84, 84), seed=1)
    scripts = [np.random.default_rng(2).integers(0, 4, n) for n in LENGTHS]
    target = 90.0

    baseline.algo.impl.modules.set_train()  # as fit (or a fresh load) leaves it
    policy = baseline.policy()
    policy.reset(len(LENGTHS), target)
    recorders = [_Recorder(s) for s in scripts]
    rng_stand_in = _RowsRng()
    policy.rng = rng_stand_in  # type: ignore[attr-defined]

    def act(obs: np.ndarray, last: np.ndarray, ids: np.ndarray) -> np.ndarray:
        rng_stand_in.rows = iter([recorders[i] for i in ids])  # the policy samples row by row
        return policy.act(obs, last, ids)

    actions = _drive(act, observations, rewards)
    ours = [np.stack(r.seen) for r in recorders]

    for i, (obs, rew) in enumerate(zip(observations, rewards, strict=True)):
        assert actions[i] == scripts[i].tolist()
        recorder = _Recorder(scripts[i])
        wrapper = baseline.algo.as_stateful_wrapper(target_return=target, action_sampler=recorder)
        for t, o in enumerate(obs):
            wrapper.predict(o, float(rew[t - 1]) if t else 0.0)
        np.testing.assert_allclose(ours[i], np.stack(recorder.seen), atol=1e-5, err_msg=f"episode {i}")


class _SeededSampler:
    """Draws from softmax(logits) with a numpy Generator, as the batched policy does; given to
    d3rlpy's wrappers, it makes both sides draw from one seeded stream in the same order."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits: np.ndarray) -> int:  # d3rlpy's TransformerActionSampler
        p = torch.softmax(torch.as_tensor(logits), dim=-1).numpy().astype(np.float64)
        return int(self.rng.choice(len(p), p=p / p.sum()))


def test_discrete_dt_draws_the_actions_d3rlpy_wrapper_draws(tmp_path: Path) -> None:
    """Sampling seeded alike, the batched policy and d3rlpy's wrappers (one per episode, each
    conditioned on the actions it drew) choose the same action at every step of every episode."""
    baseline = _trained_atari_dt(tmp_path)
    observations, rewards = _synthetic_episodes((4, 84, 84), seed=2)
    policy = baseline.policy()
    policy.reset(len(LENGTHS), 90.0)
    policy.rng = np.random.default_rng(5)
    ours = _drive(policy.act, observations, rewards)

    sampler = _SeededSampler(5)
    wrappers = [baseline.algo.as_stateful_wrapper(target_return=90.0, action_sampler=sampler) for _ in LENGTHS]

    def act(obs: np.ndarray, last: np.ndarray, ids: np.ndarray) -> list[Any]:
        return [wrappers[i].predict(o, float(r)) for o, r, i in zip(obs, last, ids, strict=True)]

    theirs = _drive(act, observations, rewards)
    assert [[int(a) for a in episode] for episode in ours] == theirs
    assert len({a for episode in theirs for a in episode}) > 1, "every draw the same action: a weak check"


def test_discrete_dt_evaluation_plays_the_episodes_d3rlpy_wrapper_plays(tmp_path: Path) -> None:
    """On real Breakout, `run_episodes` with the batched policy and d3rlpy's wrapper stepping the
    same seeded envs, sampling seeded alike, execute the same actions: same returns and lengths."""
    baseline = _trained_atari_dt(tmp_path)
    protocol = protocol_for("atari", {"max_episode_frames": 400})
    episodes, seed = 2, 3
    pool: list[RecordActions] = []

    def make() -> gym.Env:
        pool.append(RecordActions(make_env("atari", "breakout", protocol)))
        return pool[-1]

    policy = baseline.policy()
    policy.rng = np.random.default_rng(5)
    returns, lengths = run_episodes(policy, make, episodes, seed, target_return=90.0)

    sampler = _SeededSampler(5)
    wrappers = [baseline.algo.as_stateful_wrapper(target_return=90.0, action_sampler=sampler) for _ in range(episodes)]
    reference = [RecordActions(make_env("atari", "breakout", protocol)) for _ in range(episodes)]
    observations = [env.reset(seed=seed + i)[0] for i, env in enumerate(reference)]
    their_returns, their_lengths, last = np.zeros(episodes), np.zeros(episodes, np.int64), np.zeros(episodes)
    live = np.ones(episodes, dtype=bool)
    while live.any():  # every live episode's action first, then the steps: run_episodes' order of draws
        actions = {i: wrappers[i].predict(observations[i], float(last[i])) for i in np.flatnonzero(live)}
        for i, action in actions.items():
            observations[i], last[i], terminated, truncated, _ = reference[i].step(action)
            their_returns[i] += last[i]
            their_lengths[i] += 1
            live[i] = not (terminated or truncated)
    for i in range(episodes):
        assert pool[i].actions == reference[i].actions, f"episode {i}"
    np.testing.assert_array_equal(returns, their_returns)
    np.testing.assert_array_equal(lengths, their_lengths)
    assert lengths.min() > CONTEXT


def test_discrete_dt_conditions_on_the_actions_the_envs_executed(tmp_path: Path) -> None:
    """With the evaluation epsilon at 1 every chosen action is replaced: before each step, every
    action token of an episode's history is the action its env executed at that step."""
    policy = _trained_atari_dt(tmp_path).policy()
    protocol = protocol_for("atari", {"max_episode_frames": 400})
    pool: list[RecordActions] = []
    checked = 0

    def make() -> gym.Env:
        pool.append(RecordActions(make_env("atari", "breakout", protocol)))
        return pool[-1]

    act = policy.act

    def checked_act(observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        nonlocal checked
        for env_id in env_ids:
            steps = int(policy.masks[env_id].sum())  # the episode's steps in the window (the rest: padding)
            history = [int(a) for a in policy.actions[env_id, CONTEXT - steps :, 0]] if steps else []
            ran = pool[env_id].actions
            assert history == ran[len(ran) - len(history) :], f"env {env_id}, step {len(ran)}"
            checked += len(history)
        return act(observations, rewards, env_ids)

    policy.act = checked_act  # type: ignore[method-assign]
    run_episodes(policy, make, episodes=2, seed=0, target_return=90.0, epsilon=1.0)
    assert checked > 100 and all(len(env.actions) > CONTEXT for env in pool)
    for env_id, env in enumerate(pool):  # and after the last step
        assert [int(a) for a in policy.actions[env_id, :, 0]] == env.actions[-CONTEXT:]


class _LinearPolicy:
    """Deterministic and stateless; its action depends on observation, last reward and env id."""

    def __init__(self, obs_dim: int, act_dim: int, episodes: int):
        rng = np.random.default_rng(0)
        self.weights = rng.normal(scale=0.5, size=(obs_dim, act_dim))
        self.bias = rng.normal(scale=0.5, size=(episodes, act_dim))

    def reset(self, n_envs: int, target_return: float | None) -> None:
        pass

    def act(self, observations: np.ndarray, rewards: np.ndarray, env_ids: np.ndarray) -> np.ndarray:
        rows = zip(observations, rewards, env_ids, strict=True)  # row by row: BLAS sums a batch
        return np.stack([np.tanh(o @ self.weights + self.bias[i] + 0.1 * r) for o, r, i in rows])

    def executed(self, actions: np.ndarray, env_ids: np.ndarray) -> None:
        pass


def test_run_episodes_matches_sequential_rollouts() -> None:
    """Batching changes nothing: each episode's return and length equal those of stepping its
    env alone with the same seed (seed + i), last reward and env id."""
    protocol = protocol_for("mujoco", {"max_episode_steps": 60})
    episodes, seed = 4, 7

    def make() -> gym.Env:
        return make_env("mujoco", "hopper", protocol)

    policy = _LinearPolicy(11, 3, episodes)
    returns, lengths = run_episodes(policy, make, episodes, seed, target_return=None)

    for i in range(episodes):
        env = make()
        obs, _ = env.reset(seed=seed + i)
        total, steps, reward, done = 0.0, 0, 0.0, False
        while not done:
            action = policy.act(obs[None], np.array([reward]), np.array([i]))[0]
            obs, r, terminated, truncated, _ = env.step(action)
            reward = float(r)
            total, steps, done = total + reward, steps + 1, terminated or truncated
        env.close()
        assert (returns[i], lengths[i]) == (total, steps), f"episode {i}"
    assert len(set(lengths.tolist())) > 1, "episodes should end at different steps"


def test_a_dt_policy_without_a_target_return_is_one_line(tmp_path: Path) -> None:
    policy = _trained_atari_dt(tmp_path).policy()
    with pytest.raises(BenchmarkError, match=r"^the Decision Transformer .* needs a target_return$"):
        policy.reset(2, None)


def test_continuous_dt_logs_its_loss_per_action_dimension(tmp_path: Path) -> None:
    """d3rlpy's continuous DT loss sums the squared error over action dimensions (BC's and MORE-3S's
    MSE average it): the train log holds d3rlpy's loss divided by the dimensions, the per-dimension MSE."""
    rng = np.random.default_rng(0)
    data = _dataset(rng.normal(size=(60, 5)).astype(np.float32), rng.uniform(-1, 1, (60, 3)).astype(np.float32), 15)
    spec = EnvSpec("mujoco", "hopper", (5,), discrete=False, action_size=3)
    hp = DTMujoco(context_size=CONTEXT, num_layers=1, embed_size=16, warmup_steps=1, dropout=0.0)
    baseline = _trained_dt(spec, hp, data, tmp_path)
    assert baseline.loss_scales() == {"loss": pytest.approx(1 / 3)}
    logged = np.loadtxt(tmp_path / "train_log.csv", delimiter=",", skiprows=1, ndmin=2)
    header = (tmp_path / "train_log.csv").read_text().splitlines()[0].split(",")
    assert logged[0, header.index("loss")] > 0

    algo, impl = baseline.algo, baseline.algo.impl
    sampled = _d3rlpy.to_d3rlpy(data, None).sample_trajectory_batch(8, CONTEXT)
    batch = d3rlpy.torch_utility.TorchTrajectoryMiniBatch.from_batch(
        sampled, impl.device, algo.observation_scaler, algo.action_scaler, algo.reward_scaler
    )
    with torch.no_grad():
        d3rlpy_loss = float(impl.compute_loss(batch))
        predicted = impl.modules.transformer(
            batch.observations, batch.actions, batch.returns_to_go, batch.timesteps, 1 - batch.masks
        )
        per_dimension = ((predicted - batch.actions) ** 2).mean(dim=-1).reshape(-1) * batch.masks.reshape(-1)
    assert d3rlpy_loss * baseline.loss_scales()["loss"] == pytest.approx(float(per_dimension.mean()), rel=1e-5)
