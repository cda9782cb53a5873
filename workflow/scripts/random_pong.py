"""What a uniform random policy scores in Pong under the suite's Atari protocol (benchmark/scores.py
quotes it): `python workflow/scripts/random_pong.py [episodes]`, ~1 min for 30 episodes on a CPU."""

from __future__ import annotations

import sys

import numpy as np

from benchmark import scores
from benchmark.envs import make_env, protocol_for


def main(episodes: int) -> None:
    env = make_env("atari", "pong", protocol_for("atari"), stack=False)
    env.action_space.seed(0)
    returns = []
    for episode in range(episodes):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    normalize = scores.normalizer("atari", "pong")
    mean, std = float(np.mean(returns)), float(np.std(returns, ddof=1))
    scale = 100.0 / (normalize.high - normalize.low)
    print(
        f"{episodes} episodes of {protocol_for('atari').name}: {mean:.2f} +- {std:.2f} (std), "
        f"normalised {normalize(mean):.2f} +- {std * scale / np.sqrt(episodes):.2f} (standard error)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
