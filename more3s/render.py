"""MuJoCo states -> frames: MORE-3S needs an image of each state, the D4RL-style datasets store
only the observation vector.

The simulator is set from the observation itself: gymnasium's v5 observations are qpos without
the x position, then qvel (clipped to +-10 for Hopper and Walker2d, which changes nothing visible
but the velocity, not drawn). x is set to 0: the tracking camera follows the torso, so the frame
is the same wherever the body is. The same renderer draws the dataset (once, in the features
stage) and the live states at evaluation, so train and test images come from one function.
"""

from __future__ import annotations

import numpy as np

from benchmark import envs


class StateRenderer:
    def __init__(self, env: str, size: int = 84):
        import gymnasium as gym

        self.env: gym.Env = envs.make_env(
            "mujoco", env, envs.protocol_for("mujoco"), render_mode="rgb_array", width=size, height=size
        )
        self.env.reset(seed=0)
        model = self.env.unwrapped.model  # type: ignore[attr-defined]
        self.nq, self.nv = int(model.nq), int(model.nv)

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """(B, obs_dim) -> (B, size, size, 3) uint8."""
        frames = []
        for observation in observations:
            qpos = np.concatenate([[0.0], observation[: self.nq - 1]])
            qvel = np.asarray(observation[self.nq - 1 : self.nq - 1 + self.nv], dtype=np.float64)
            self.env.unwrapped.set_state(qpos, qvel)  # type: ignore[attr-defined]
            frames.append(self.env.render())
        return np.stack(frames)

    def close(self) -> None:
        self.env.close()
