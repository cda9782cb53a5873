"""The shared d3rlpy glue (baselines._d3rlpy): the stored data as d3rlpy reads it, the fit calls of
a checkpoint schedule, the train log it reports to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_random_dataset

from baselines._d3rlpy import _Reporter, _segments, to_d3rlpy
from benchmark import datasets
from benchmark.specs import Budget


def test_atari_frames_are_stored_once_and_stacked_at_sample_time(tmp_path: Path) -> None:
    dataset = write_random_dataset(tmp_path, "atari")
    assert dataset.observations.shape[1:] == (84, 84)
    loaded = datasets.load(tmp_path)
    assert isinstance(loaded.observations, np.memmap)
    buffer = to_d3rlpy(loaded, frame_stack=4)
    episode = buffer.episodes[0]
    transition = buffer.transition_picker(episode, 10)
    assert transition.observation.shape == (4, 84, 84)
    # the stack ends with frame 10 and starts 3 frames earlier
    np.testing.assert_array_equal(transition.observation[-1], loaded.observations[10])
    np.testing.assert_array_equal(transition.observation[0], loaded.observations[7])


@pytest.mark.parametrize(
    ("steps", "eval_every", "segments"),
    [(25, 10, [(10, 2), (5, 1)]), (20, 10, [(10, 2)]), (7, 7, [(7, 1)]), (9, 4, [(4, 2), (1, 1)])],
)
def test_the_fit_calls_end_an_epoch_at_each_checkpoint(steps: int, eval_every: int, segments: list) -> None:
    budget = Budget(steps=steps, batch_size=1, eval_every=eval_every)
    assert _segments(budget) == segments
    ends = np.cumsum([epoch_steps for epoch_steps, epochs in segments for _ in range(epochs)])
    assert ends.tolist() == budget.checkpoints


def test_a_reported_loss_is_scaled_before_the_train_log(tmp_path: Path) -> None:
    logged: list[dict[str, float]] = []

    class Log:
        def start(self) -> None:
            pass

        def checkpoint(self, step: int, metrics: dict[str, float]) -> None:
            logged.append(dict(metrics))

    reporter = _Reporter(Log(), {"loss": 0.25})
    reporter.before_write_metric(0, 4)
    reporter.write_metric(0, 4, "loss", 6.0)
    reporter.write_metric(0, 4, "time_step", 0.5)
    reporter.save_model(4, None)
    assert logged == [{"loss": 1.5, "time_step": 0.5}]
