"""MORE-3S's training sampler: windows of K consecutive steps of one episode, as training draws
them and as the held-out measure (more3s.heldout) builds them at every step. Numpy only: both the
algorithm and the held-out measure import it, neither the other."""

from __future__ import annotations

import numpy as np

from benchmark.datasets import OfflineDataset


class Windows:
    """Training sequences: K consecutive steps of one episode ending at a uniformly drawn step,
    left-padded where the episode started less than K steps before (as the DT's sampler)."""

    def __init__(self, data: OfflineDataset, context: int, rng: np.random.Generator):
        n = len(data.rewards)
        ends = data.episode_ends()
        starts = np.concatenate([[0], ends[:-1] + 1])
        episode = np.repeat(np.arange(len(ends)), ends - starts + 1)
        self.episode_start = starts[episode]
        self.timesteps = np.arange(n) - self.episode_start
        # return-to-go: the rewards from t to the end of t's episode
        rewards = np.asarray(data.rewards, dtype=np.float64)
        to_end = np.cumsum(rewards[::-1])[::-1]
        after_episode = np.concatenate([to_end[ends[:-1] + 1], [0.0]])
        self.returns_to_go = (to_end - after_episode[episode]).astype(np.float32)
        self.context = context
        self.rng = rng
        self.n = n

    def sample(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (B, K) into the dataset and their validity (False = padding)."""
        return self.ending_at(self.rng.integers(0, self.n, size=batch))

    def ending_at(self, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The windows ending at steps `last`: indices (B, K) and their validity (False = padding)."""
        index = last[:, None] - np.arange(self.context - 1, -1, -1)[None, :]
        valid = index >= self.episode_start[last][:, None]
        return np.where(valid, index, last[:, None]), valid
