"""Behaviour policies that generate the embedded datasets (no download needed).

Atari: a scripted controller that reads the ALE RAM (paddle and ball positions) and tracks the
ball, mixed with epsilon-random actions; each episode draws its epsilon from a list, so the
dataset spans random play to near-expert play. Scripts exist for games with a paddle; other
games fall back to uniform random play (their card says so).
MuJoCo: the replay buffer of a soft actor-critic learning online (d3rlpy), D4RL
"medium-replay" style: random at first, improving along the buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmark.envs import make_env, protocol_for

# RAM addresses (Atari 2600 RAM, 128 bytes) and action indices of the minimal action sets.
# Breakout actions: NOOP, FIRE, RIGHT, LEFT. Pong: NOOP, FIRE, RIGHT(up), LEFT(down), ...


def _breakout(ram: np.ndarray) -> int:
    paddle_x, ball_x, ball_y = int(ram[72]), int(ram[99]), int(ram[101])
    if ball_y == 0:  # no ball in play: launch one
        return 1
    target = ball_x - 8  # paddle x is its left edge
    if paddle_x < target - 4:
        return 2
    if paddle_x > target + 4:
        return 3
    return 0


def _pong(ram: np.ndarray) -> int:
    paddle_y, ball_y = int(ram[51]), int(ram[54])
    if ball_y == 0:
        return 1
    target = ball_y - 6
    if paddle_y < target - 2:
        return 3
    if paddle_y > target + 2:
        return 2
    return 0


SCRIPTS: dict[str, Callable[[np.ndarray], int]] = {"breakout": _breakout, "pong": _pong}


@dataclass
class Episode:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool  # False: cut by a time limit or by the dataset's size


def scripted_atari_episodes(
    game: str, transitions: int, epsilons: list[float], seed: int, max_episode_frames: int
) -> Iterator[tuple[Episode, float]]:
    """Episodes (with the epsilon that played them) until `transitions` steps are logged."""
    env = make_env("atari", game, protocol_for("atari", {"max_episode_frames": max_episode_frames}), stack=False)
    script = SCRIPTS.get(game)
    rng = np.random.default_rng(seed)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    logged = 0
    episode_index = 0
    with tqdm(total=transitions, desc=f"scripted {game}", mininterval=5) as progress:
        while logged < transitions:
            epsilon = epsilons[episode_index % len(epsilons)] if script else 1.0
            obs, _ = env.reset(seed=seed * 100_003 + episode_index)
            frames, actions, rewards = [], [], []
            while True:
                explore = script is None or rng.random() < epsilon
                action = int(rng.integers(n_actions)) if explore else script(env.unwrapped.ale.getRAM())  # type: ignore[attr-defined]
                frames.append(obs[0])
                actions.append(action)
                next_obs, reward, terminated, truncated, _ = env.step(action)
                rewards.append(reward)
                obs = next_obs
                logged += 1
                progress.update(1)
                if terminated or truncated or logged >= transitions:
                    break
            yield (
                Episode(np.stack(frames), np.asarray(actions), np.asarray(rewards, np.float32), terminated),
                epsilon,
            )
            episode_index += 1
    env.close()


def sac_replay_episodes(task: str, transitions: int, seed: int, log_dir: Path, update_interval: int) -> list[Episode]:
    """The replay buffer of a SAC agent learning online for `transitions` environment steps."""
    import d3rlpy

    d3rlpy.seed(seed)
    env = make_env("mujoco", task, protocol_for("mujoco"))
    sac = d3rlpy.algos.SACConfig(
        batch_size=256,
        actor_encoder_factory=d3rlpy.models.VectorEncoderFactory([256, 256]),
        critic_encoder_factory=d3rlpy.models.VectorEncoderFactory([256, 256]),
    ).create(device="cpu:0")
    buffer = d3rlpy.dataset.create_fifo_replay_buffer(limit=transitions + 1, env=env)
    sac.fit_online(
        env,
        buffer,
        n_steps=transitions,
        n_steps_per_epoch=max(1, transitions // 10),
        update_interval=update_interval,
        update_start_step=min(1000, transitions // 5),
        random_steps=min(1000, transitions // 5),
        logger_adapter=d3rlpy.logging.FileAdapterFactory(root_dir=str(log_dir)),
        experiment_name="behaviour_sac",
        with_timestamp=False,
        show_progress=True,
    )
    return [
        Episode(
            np.asarray(ep.observations, np.float32),
            np.asarray(ep.actions, np.float32),
            np.asarray(ep.rewards, np.float32).reshape(-1),
            bool(ep.terminated),
        )
        for ep in buffer.episodes
    ]
