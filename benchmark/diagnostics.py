"""The diagnose stage: why a run wins or loses, from cheap measurements of its last checkpoint.

A score says how a policy did, not why. Three measurements of the final checkpoint say more, each
in the same unit for every algorithm, and go to results/runs/<run>/diagnostics.json (the report
rebuilds its tables from there):

1. Held-out action error, teacher-forced: the policy acts on every step of held-out episodes (more
   of the dataset's behaviour, drawn with another seed: `config.heldout_spec`), told at each step
   the action the data logged and the reward it got, and conditioned on each episode's own return
   (so its return-to-go is the one training sees). Continuous actions: MSE per action dimension;
   discrete: accuracy of the action played (and cross-entropy where the policy exposes its action
   probabilities). Beside it, what the data allows without learning anything: the training data's
   mean action (or most frequent one), a copy of the previous action, and, where one noiseless
   policy made the data, the noise floor (the logged actions' error against that policy's).
2. The algorithm's own measurements, where it offers `diagnostics(held_out)` (MORE-3S: how much its
   prediction moves when the frames, or the texts, come from other windows).
3. A closed-loop error curve (MuJoCo, where one policy made the data): in episodes the policy plays,
   its action against the behaviour policy's on the states it visits, by time step: when it leaves
   the data.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import config, datasets, envs, generators, io, paths
from benchmark.algorithms import BatchPolicy, ClosablePolicy
from benchmark.checkpoints import load_checkpoint, verified_checkpoints
from benchmark.errors import BenchmarkError
from benchmark.evaluation import run_episodes
from benchmark.seeding import seed_everything
from benchmark.specs import RunRecord

log = logging.getLogger(__name__)

CLOSED_LOOP_EPISODES = config.CLOSED_LOOP_EPISODES
CLOSED_LOOP_BIN = 25  # time steps per point of the curve


def diagnose(run: str) -> dict[str, Any]:
    """Measure the run's last checkpoint; write results/runs/<run>/diagnostics.json."""
    run_dir = paths.run_dir(run)
    record = RunRecord.read(run_dir)
    spec = record.spec
    last = verified_checkpoints(record)[-1]  # the checkpoint folder and its cache against their manifests
    seed_everything(spec.key.seed, spec.torch_threads)
    env_spec = spec.env_spec()
    algorithm = load_checkpoint(spec, Path(last["path"]), env_spec)
    held_out_spec = config.heldout_spec(spec.dataset)
    behaviour = generators.behaviour_policy(spec.dataset)
    found: dict[str, Any] = {"run": run, "train_step": last["train_step"], "held_out": None, "closed_loop": None}
    if held_out_spec is not None:
        held_out = datasets.load(held_out_spec.folder, env=env_spec, name=held_out_spec.name)
        training_data = datasets.load(spec.dataset.folder, env=env_spec, name=spec.dataset.name)
        # an algorithm that encodes its inputs once (MORE-3S) may predict from that encoding
        cached = algorithm.teacher_forced(held_out) if hasattr(algorithm, "teacher_forced") else None
        if cached is None:
            policy = algorithm.policy()
            cached = teacher_forced(policy, held_out, env_spec)
            _close(policy)
        predicted, probabilities = cached
        found["held_out"] = {
            "dataset": held_out_spec.name,
            "dataset_sha256": held_out.sha256,
            "transitions": len(held_out.rewards),
            "policy": action_error(predicted, held_out.actions, probabilities),
            "references": references(training_data, held_out, behaviour),
        }
        if hasattr(algorithm, "diagnostics"):
            found[spec.key.algorithm] = algorithm.diagnostics(held_out)
    if behaviour is not None:
        found["closed_loop"] = closed_loop(algorithm.policy(), behaviour, spec)
    io.write_json(run_dir / paths.DIAGNOSTICS, found)
    return found


def _close(policy: BatchPolicy) -> None:
    if isinstance(policy, ClosablePolicy):
        policy.close()


def stacked_observations(data: datasets.OfflineDataset, rows: np.ndarray, env_spec: envs.EnvSpec) -> np.ndarray:
    """What the env shows the policy at dataset rows `rows`: the state, or (Atari) the last
    `frame_stack` frames of the episode, zero frames before its start (the protocol's padding)."""
    observations = np.asarray(data.observations)
    if env_spec.suite != "atari":
        return observations[rows]
    stack = env_spec.observation_shape[0]
    ends = data.episode_ends()
    starts = np.concatenate([[0], ends[:-1] + 1])
    episode_start = starts[np.searchsorted(ends, rows)]
    out = np.zeros((len(rows), stack, *observations.shape[1:]), dtype=observations.dtype)
    for k in range(stack):
        back = rows - (stack - 1 - k)
        inside = back >= episode_start
        out[inside, k] = observations[back[inside]]
    return out


def teacher_forced(
    policy: BatchPolicy, data: datasets.OfflineDataset, env_spec: envs.EnvSpec
) -> tuple[np.ndarray, np.ndarray | None]:
    """The policy's action at every step of `data`'s episodes, played side by side, each step told
    the logged action and reward, each episode conditioned on its own return; and, where the policy
    exposes them (`action_probabilities` after `act`), its action probabilities."""
    ends = data.episode_ends()
    if len(ends) == 0:
        raise BenchmarkError(f"{data.card.get('name')}: held-out data has no complete episode")
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    actions, rewards = np.asarray(data.actions), np.asarray(data.rewards)
    predicted = np.zeros_like(actions, dtype=np.float64)
    probabilities: np.ndarray | None = None
    policy.reset(len(ends), data.episode_returns())
    for t in range(int(lengths.max())):
        ids = np.flatnonzero(lengths > t)
        rows = starts[ids] + t
        last_rewards = rewards[rows - 1] if t > 0 else np.zeros(len(ids))
        predicted[rows] = policy.act(stacked_observations(data, rows, env_spec), last_rewards, ids)
        shown = getattr(policy, "action_probabilities", None)
        if shown is not None:
            if probabilities is None:
                probabilities = np.zeros((len(actions), shown.shape[-1]))
            probabilities[rows] = shown
        policy.executed(actions[rows], ids)
    return predicted, probabilities


def action_error(predicted: np.ndarray, actions: np.ndarray, probabilities: np.ndarray | None = None) -> dict:
    """Continuous: MSE per action dimension. Discrete: accuracy (+ cross-entropy in nats)."""
    actions = np.asarray(actions)
    if actions.ndim == 2:
        return {"mse_per_dim": float(np.mean(np.square(predicted - actions)))}
    error: dict[str, float] = {"accuracy": float(np.mean(predicted.astype(np.int64) == actions))}
    if probabilities is not None:
        chosen = probabilities[np.arange(len(actions)), actions.astype(np.int64)]
        error["cross_entropy"] = float(-np.mean(np.log(np.maximum(chosen, 1e-12))))
    return error


def references(
    training: datasets.OfflineDataset, held_out: datasets.OfflineDataset, behaviour: Any | None
) -> dict[str, dict[str, float]]:
    """The held-out error of predictors that learn nothing: the training data's mean (or most
    frequent) action, the previous logged action (the first step of an episode: that mean), and
    the behaviour policy's own noiseless action (the data's noise floor) where one policy made it."""
    actions = np.asarray(held_out.actions)
    train_actions = np.asarray(training.actions)
    first = np.zeros(len(actions), dtype=bool)
    first[0] = True
    first[held_out.episode_ends()[:-1] + 1] = True
    previous = np.roll(actions, 1, axis=0)
    if actions.ndim == 2:
        constant = np.broadcast_to(train_actions.mean(0), actions.shape)
        previous[first] = constant[first]
        out = {"mean_action": action_error(constant, actions), "previous_action": action_error(previous, actions)}
        if behaviour is not None:
            noiseless = np.stack([behaviour(o) for o in np.asarray(held_out.observations)])
            out["noise_floor"] = action_error(noiseless, actions)
        return out
    counts = np.bincount(train_actions.astype(np.int64), minlength=int(actions.max()) + 1)
    prior = counts / counts.sum()
    mode = np.full(len(actions), int(np.argmax(counts)))
    previous[first] = mode[first]
    return {
        "class_prior": action_error(mode, actions, np.broadcast_to(prior, (len(actions), len(prior)))),
        "previous_action": action_error(previous, actions),
    }


def closed_loop(policy: BatchPolicy, behaviour: Any, spec: Any) -> dict[str, Any]:
    """The policy's action against the behaviour policy's on the states the policy visits, as MSE
    per action dimension averaged over the live episodes in bins of CLOSED_LOOP_BIN steps."""
    squared: dict[int, list[float]] = {}  # by bin: one error per live episode and step
    episodes: dict[int, set[int]] = {}  # by bin: the episodes still live in it
    timestep = np.zeros(CLOSED_LOOP_EPISODES, dtype=np.int64)

    def observe(ids: np.ndarray, observations: np.ndarray, actions: np.ndarray) -> None:
        for i, observation, action in zip(ids, observations, actions, strict=True):
            point = int(timestep[i]) // CLOSED_LOOP_BIN
            squared.setdefault(point, []).append(float(np.mean(np.square(np.asarray(action) - behaviour(observation)))))
            episodes.setdefault(point, set()).add(int(i))
            timestep[i] += 1

    key = spec.key
    returns, lengths = run_episodes(
        policy,
        lambda: envs.make_env(key.suite, key.env, spec.protocol),
        CLOSED_LOOP_EPISODES,
        seed=1000 * key.seed + 500,  # not the evaluation's episodes
        target_return=spec.target_return,
        observe=observe,
    )
    _close(policy)
    return {
        "episodes": CLOSED_LOOP_EPISODES,
        "bin_steps": CLOSED_LOOP_BIN,
        "returns": [float(r) for r in returns],
        "lengths": [int(n) for n in lengths],
        "mse_per_dim": [float(np.mean(squared[b])) for b in sorted(squared)],
        "live_episodes": [len(episodes[b]) for b in sorted(squared)],
    }
