"""Peak memory of loading and sampling a big Atari dataset stored as single frames, memory-mapped.

A synthetic Atari dataset of TRANSITIONS transitions in the stored format (random uint8 84x84
frames, Breakout-like episode lengths of 200-3000 steps; streamed to disk, never whole in RAM;
kept in pytest's cache folder and reused by the next run with the same size). Then, in a FRESH
subprocess, the way a training run does: `benchmark.datasets.load` (hashes checked, arrays
memory-mapped), d3rlpy's dataset with 4-frame stacking at sample time
(`baselines._d3rlpy.to_d3rlpy(data, frame_stack=4)`), many transition batches (CQL/BC: 32 transitions) and
trajectory batches (DT: 8 x 30 steps), and at last one pass over every frame (what a long enough
training run touches). The subprocess's peak RSS (getrusage maxrss) over the raw single-frame
bytes is the number, beside the 4.00x of stacking in RAM as d3rlpy's Atari loader and the
official DT loader do (target: <= 1.3x at 500k transitions; the interpreter and imports weigh
more at the smaller default size, so the number without them is recorded too). Writing happens
in a subprocess of its own: Linux carries a process's peak RSS over fork and exec, so a parent
that had touched the frames would inflate the measuring child's baseline.

    .venv/bin/python tests/benchmarks/test_bench_memory.py --write|--measure FOLDER TRANSITIONS  (the subprocesses)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmark import datasets, paths

pytestmark = pytest.mark.benchmark(group="memory")

TRANSITIONS = 200_000  # 1.4 GB of frames
TRANSITION_BATCHES = 2000
TRAJECTORY_BATCHES = 200
FRAME = (84, 84)
RESULT = "peak_rss.json"


def write_synthetic(folder: Path, transitions: int, seed: int = 0) -> None:
    """A dataset in the stored format, written chunk by chunk (the frames never all in RAM)."""
    card_path = folder / paths.DATASET_CARD
    if card_path.exists() and datasets.load(folder, verify=False).card["transitions"] == transitions:
        return
    folder.mkdir(parents=True, exist_ok=True)
    card_path.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    frames = np.lib.format.open_memmap(
        folder / "observations.npy", mode="w+", dtype=np.uint8, shape=(transitions, *FRAME)
    )
    for start in range(0, transitions, 10_000):
        stop = min(start + 10_000, transitions)
        frames[start:stop] = rng.integers(0, 256, size=(stop - start, *FRAME), dtype=np.uint8)
    frames.flush()
    del frames
    ends = np.cumsum(rng.integers(200, 3000, size=transitions // 200 + 1)) - 1
    terminals = np.zeros(transitions, np.float32)
    terminals[ends[ends < transitions]] = 1.0
    timeouts = np.zeros(transitions, np.float32)
    if not terminals[-1]:
        timeouts[-1] = 1.0  # the last episode is cut by the dataset's size
    small = {
        "actions": rng.integers(0, 4, size=transitions).astype(np.int64),
        "rewards": (rng.random(transitions) < 0.02).astype(np.float32),
        "terminals": terminals,
        "timeouts": timeouts,
    }
    for field, array in small.items():
        np.save(folder / f"{field}.npy", array, allow_pickle=False)
    observations = np.load(folder / "observations.npy", mmap_mode="r")
    card = {"suite": "atari", "env": "breakout", "action_size": 4, "generator": "synthetic (bench_memory)"}
    datasets.seal(folder, datasets.OfflineDataset(observations=observations, card=card, **small))


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def measure(folder: Path) -> None:
    """In a fresh process: load, build, sample, touch every frame; write the peak RSS to RESULT."""
    from baselines._d3rlpy import to_d3rlpy  # imports d3rlpy before the baseline, as a training run does

    baseline = peak_rss_bytes()
    data = datasets.load(folder)
    buffer = to_d3rlpy(data, frame_stack=4)
    for _ in range(TRANSITION_BATCHES):
        batch = buffer.sample_transition_batch(32)
    assert batch.observations.shape[1:] == (4, *FRAME)
    for _ in range(TRAJECTORY_BATCHES):
        trajectories = buffer.sample_trajectory_batch(8, 30)
    assert trajectories.observations.shape[2:] == (4, *FRAME)
    checksum = sum(int(data.observations[i : i + 10_000].max()) for i in range(0, len(data.observations), 10_000))
    assert checksum > 0
    result = {"peak_rss": peak_rss_bytes(), "imports_rss": baseline, "raw_frame_bytes": data.observations.nbytes}
    (folder / RESULT).write_text(json.dumps(result))


def test_peak_rss_of_a_memory_mapped_atari_dataset(
    benchmark: Any, record: Callable[..., None], request: pytest.FixtureRequest
) -> None:
    folder = request.config.cache.mkdir(f"bench_memory_{TRANSITIONS}")
    subprocess.run([sys.executable, __file__, "--write", str(folder), str(TRANSITIONS)], check=True)

    def fresh_process() -> None:
        subprocess.run([sys.executable, __file__, "--measure", str(folder), str(TRANSITIONS)], check=True)

    benchmark.pedantic(fresh_process, rounds=1, iterations=1)
    result = json.loads((folder / RESULT).read_text())
    raw = result["raw_frame_bytes"]
    assert raw == TRANSITIONS * FRAME[0] * FRAME[1]
    record("peak_rss_gb", result["peak_rss"] / 1e9, "GB")
    record("ratio_peak_rss_over_raw_frames", result["peak_rss"] / raw, "x (stacked in RAM: 4.00x)")
    record("ratio_without_imports", (result["peak_rss"] - result["imports_rss"]) / raw, "x")


if __name__ == "__main__":
    role, target, size = sys.argv[1:]
    if role == "--write":
        write_synthetic(Path(target), int(size))
    else:
        measure(Path(target))
