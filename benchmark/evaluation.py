"""The evaluate stage: many episodes at once, one policy call per step for all of them.

d3rlpy evaluates one episode at a time, calling the network once per step per episode. Here the
`n` episodes of an evaluation run side by side in `n` environments (a synchronous vector of
envs without auto-reset, so finished episodes stop costing anything) and the policy sees one
batch of the live ones per step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmark import envs, io, paths
from benchmark.algorithms import BatchPolicy, ClosablePolicy
from benchmark.checkpoints import load_checkpoint, verified_checkpoints
from benchmark.errors import BenchmarkError
from benchmark.seeding import seed_everything
from benchmark.specs import RunRecord

log = logging.getLogger(__name__)


def run_episodes(
    policy: BatchPolicy,
    make_env: Callable[[], gym.Env],
    episodes: int,
    seed: int,
    target_return: float | None,
    epsilon: float = 0.0,
    observe: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns and lengths of `episodes` episodes; episode i's env is seeded with seed + i.

    With probability `epsilon` an env executes a uniformly random action instead of the
    policy's; every step the policy is told the actions that ran (`BatchPolicy.executed`).
    `observe(ids, observations, actions)`, if given, sees what the policy chose on what, each step.
    """
    pool = [make_env() for _ in range(episodes)]
    rng = np.random.default_rng(seed)
    observations = [env.reset(seed=seed + i)[0] for i, env in enumerate(pool)]
    for i, env in enumerate(pool):
        env.action_space.seed(seed + i)
    policy.reset(episodes, target_return)
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    last_rewards = np.zeros(episodes)
    live = np.ones(episodes, dtype=bool)
    with tqdm(total=episodes, desc="episodes", mininterval=10) as progress:
        while live.any():
            ids = np.flatnonzero(live)
            shown = np.stack([observations[i] for i in ids])
            executed = np.array(policy.act(shown, last_rewards[ids], ids))
            if observe is not None:
                observe(ids, shown, executed.copy())
            for row, i in enumerate(ids):
                if epsilon and rng.random() < epsilon:
                    executed[row] = pool[i].action_space.sample()
                observations[i], reward, terminated, truncated, _ = pool[i].step(executed[row])
                returns[i] += reward
                lengths[i] += 1
                last_rewards[i] = reward
                if terminated or truncated:
                    live[i] = False
                    progress.update(1)
            policy.executed(executed, ids)
    for env in pool:
        env.close()
    return returns, lengths


def evaluate(run: str) -> None:
    """Evaluate every checkpoint of a run (`episodes` each, `final_episodes` the last one);
    write results/runs/<run>/eval.csv."""
    run_dir = paths.run_dir(run)
    record = RunRecord.read(run_dir)
    spec = record.spec
    key, protocol = spec.key, spec.protocol
    current = envs.protocol_for(key.suite).name
    if protocol.name.split("[")[0] != current:  # its numbers would carry a name they were not measured under
        raise BenchmarkError(
            f"{run_dir / paths.RUN_CONFIG}: protocol {protocol.name!r} is an older version of the one this "
            f"code measures ({current!r}, benchmark/envs.py); train the run again"
        )
    checkpoints = verified_checkpoints(record)  # all of them, before the first is evaluated
    seed_everything(key.seed, spec.torch_threads)
    env_spec = spec.env_spec()
    rows = []
    for checkpoint in checkpoints:
        episodes = spec.evaluation.final if checkpoint is checkpoints[-1] else spec.evaluation.episodes
        started = time.time()
        algorithm = load_checkpoint(spec, Path(checkpoint["path"]), env_spec)
        policy = algorithm.policy()
        returns, lengths = run_episodes(
            policy,
            lambda: envs.make_env(key.suite, key.env, protocol),
            episodes,
            seed=1000 * key.seed,
            target_return=spec.target_return,
            epsilon=protocol.eval_epsilon,
        )
        if isinstance(policy, ClosablePolicy):  # freed before the next checkpoint's policy draws
            policy.close()
        wall = time.time() - started
        log.info(
            "run %s step %d: return %.1f +- %.1f over %d episodes (%.0f s)",
            run,
            checkpoint["train_step"],
            returns.mean(),
            returns.std(),
            episodes,
            wall,
        )
        rows += [
            {
                "train_step": checkpoint["train_step"],
                "episode": i,
                "return": float(r),
                "length": int(n),
                "eval_wall_s": round(wall, 2),
            }
            for i, (r, n) in enumerate(zip(returns, lengths, strict=True))
        ]
    io.write_csv(run_dir / paths.EVALUATIONS, pd.DataFrame(rows))
