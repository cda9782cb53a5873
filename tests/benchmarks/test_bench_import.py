"""The dataset stage on one real-size Dopamine buffer: 1M transitions, synthetic, in the exact format.

    .venv/bin/python -m pytest -m benchmark tests/benchmarks/test_bench_import.py -s

A DQN-Replay checkpoint as Dopamine writes it (gzip'ed `np.save` arrays: `$store$_observation`
uint8 (1M, 84, 84), `$store$_action` int32, `$store$_reward` float32, `$store$_terminal` uint8,
`add_count`, `invalid_range`; a ring buffer that wrapped, 3 zero padding rows before every
episode), then the paper preset's dataset job on it (`python -m benchmark dataset`, in a fresh
subprocess): the DT paper's 1% sampler drawing the paper dataset's 500k transitions, here all
from this one buffer. Reported: the job's seconds, transitions/s, the frames it inflated and its
peak RSS (the subprocess's VmHWM: getrusage's maxrss would carry over the parent's peak through
fork and exec).

Frames: 7 GB uncompressed, so they are made cheaply, chunk by chunk, never whole in RAM: a fixed
Breakout-like screen (walls and six rows of bricks on black), and per frame a random paddle
position, a 2x2 ball, ~20 knocked-out bricks and the frame's stream position in three score-area
pixels (so the rows the sampler read can be traced). Compressed at gzip level 1 (Dopamine writes
level 9; inflating, which is what the import pays, runs at about the same speed either way).
Everything is written under a temp folder that is removed afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmark import datasets, importers

REPO = Path(__file__).resolve().parents[2]
ROWS = 1_000_000  # Dopamine's replay capacity: one checkpoint's buffer
WRAPPED = 123_457  # rows added past the capacity: storage row 0 lies mid-stream, as in a real checkpoint
TRANSITIONS = 500_000  # the paper preset's dataset size (config/paper.yaml), here from one buffer
CHUNK = 20_000  # frames generated and compressed at a time
FRAME_BYTES = 84 * 84
MB = 2**20

# The dataset job in a fresh process, then its peak RSS (VmHWM: this process image's own peak).
JOB = """
import json, sys, time
from benchmark.__main__ import main
started = time.time()
code = main(["dataset", "--spec", sys.argv[1]])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"rc": code, "wall_s": time.time() - started, "peak_rss_mb": peak / 1024}))
"""


def background() -> np.ndarray:
    """A Breakout-like screen: side and top walls, six rows of bricks of different greys."""
    screen = np.zeros((84, 84), np.uint8)
    screen[5:8, :] = 142
    screen[5:, :4] = screen[5:, 80:] = 142
    for row, grey in enumerate((100, 110, 120, 130, 140, 150)):
        screen[21 + 2 * row : 23 + 2 * row, 4:80] = grey
    return screen


def frames(start: int, stop: int, padding: np.ndarray, seed: int) -> np.ndarray:
    """Frames of stream positions start..stop-1 (zero frames where Dopamine wrote padding)."""
    rng = np.random.default_rng([seed, start])
    n = stop - start
    out = np.broadcast_to(background(), (n, 84, 84)).copy()
    rows = np.arange(n)
    for _ in range(20):  # knocked-out bricks
        brick_row, brick = rng.integers(0, 12, n), rng.integers(0, 19, n)
        for dx in range(4):
            out[rows, 21 + brick_row, 4 + 4 * brick + dx] = 0
    paddle = rng.integers(4, 72, n)
    ball_y, ball_x = rng.integers(30, 76, n), rng.integers(4, 78, n)
    for dy in range(2):
        for dx in range(2):
            out[rows, ball_y + dy, ball_x + dx] = 200
    for dx in range(8):
        out[rows, 78, paddle + dx] = out[rows, 79, paddle + dx] = 150
    position = np.arange(start, stop)
    out[:, 1, 1], out[:, 1, 2], out[:, 1, 3] = position >> 16, (position >> 8) & 255, position & 255
    out[padding[start:stop]] = 0
    return out


def positions(observations: np.ndarray) -> np.ndarray:
    """The stream positions written into the frames by `frames`."""
    pixels = np.asarray(observations[:, 1, 1:4], np.int64)
    return (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]


def save_gz(path: Path, array: np.ndarray) -> None:
    with gzip.open(path, "wb") as f:  # Dopamine: np.save into a gzip.GzipFile
        np.save(f, array, allow_pickle=False)


def write_dopamine_checkpoint(folder: Path, checkpoint: int = 0, seed: int = 0) -> int:
    """One checkpoint of a wrapped 1M-row Dopamine store; returns its observation file's size."""
    rng = np.random.default_rng(seed)
    stream = ROWS + WRAPPED
    lengths = rng.integers(200, 2500, size=stream // 200)  # Breakout episodes of a learning DQN
    lengths = lengths[: np.searchsorted(np.cumsum(lengths + importers.DOPAMINE_PADDING), stream) + 1]
    is_padding = np.concatenate([np.r_[np.ones(importers.DOPAMINE_PADDING, bool), np.zeros(n, bool)] for n in lengths])
    terminal = np.zeros(len(is_padding), np.uint8)
    terminal[np.cumsum(lengths + importers.DOPAMINE_PADDING) - 1] = 1
    is_padding, terminal = is_padding[:stream], terminal[:stream]  # the last episode is still running
    action = np.where(is_padding, 0, rng.integers(0, 4, stream)).astype(np.int32)
    reward = np.where(is_padding, 0, rng.choice([0.0, 0.0, 0.0, 1.0], stream)).astype(np.float32)
    # the ring: storage rows 0..WRAPPED-1 hold the newest stream positions ROWS.., the rest WRAPPED..ROWS-1
    storage = np.concatenate([np.arange(ROWS, stream), np.arange(WRAPPED, ROWS)])
    folder.mkdir(parents=True)
    for name, array in (("action", action), ("reward", reward), ("terminal", terminal)):
        save_gz(importers.replay_file(folder, name, checkpoint), array[storage])
    save_gz(importers.replay_file(folder, "add_count", checkpoint), np.array(stream))
    invalid = np.array([(WRAPPED - 1 + i) % ROWS for i in range(5)])  # stack 4 + update horizon 1
    save_gz(importers.replay_file(folder, "invalid_range", checkpoint), invalid)
    header = {"descr": "|u1", "fortran_order": False, "shape": (ROWS, 84, 84)}  # what np.save writes for uint8
    path = importers.replay_file(folder, "observation", checkpoint)
    with gzip.open(path, "wb", compresslevel=1) as f:
        np.lib.format.write_array_header_1_0(f, header)
        for begin, end in ((ROWS, stream), (WRAPPED, ROWS)):  # storage order
            for start in range(begin, end, CHUNK):
                f.write(frames(start, min(start + CHUNK, end), is_padding, seed).tobytes())
    return path.stat().st_size


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temp folder removed afterwards (pytest keeps its tmp_path folders; these are gigabytes)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.benchmark
def test_import_one_dopamine_buffer_of_1m_transitions(benchmark: Any, scratch: Path) -> None:
    mirror = scratch / "mirror"
    replay_logs = mirror / "dqn-replay" / "Breakout" / "1" / "replay_logs"
    observation_bytes = write_dopamine_checkpoint(replay_logs)
    spec = {
        "suite": "atari",
        "env": "breakout",
        "name": "dqn-replay-1pct",
        "source": "dqn-replay",
        "seed": 123,
        "mirror_path": str(mirror / "dqn-replay" / "breakout"),
        "behaviour": None,
        "options": {"transitions": TRANSITIONS, "num_buffers": 1, "last_checkpoint": 0, "trajectories_per_buffer": 10},
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def job() -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", JOB, json.dumps(spec)], cwd=scratch, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    result = benchmark.pedantic(job, rounds=1, iterations=1)
    assert result["rc"] == 0

    dataset = datasets.load(scratch / "resources" / "datasets" / "atari" / "breakout" / "dqn-replay-1pct", verify=False)
    assert dataset.observations.shape == (TRANSITIONS, 84, 84) and dataset.card["transitions"] == TRANSITIONS
    stream = positions(dataset.observations)
    # whole trajectories of real rows only: consecutive stream positions within each, no padding frame
    ends = dataset.episode_ends()
    steps = np.diff(stream)
    inside = np.ones(len(steps), bool)
    inside[ends[:-1]] = False
    assert (steps[inside] == 1).all()
    assert dataset.observations[:, 40:, 4:80].any(axis=(1, 2)).all()  # a ball or paddle: never a zero frame
    storage_rows = np.where(stream >= ROWS, stream - ROWS, stream)
    inflated = int(storage_rows.max()) + 1  # the sampler inflates each buffer up to its last row read
    output_bytes = TRANSITIONS * FRAME_BYTES
    card_s = dataset.card["wall_s"]
    numbers = {
        "job_s": round(result["wall_s"], 1),
        "import_s (card wall_s)": card_s,
        "transitions_per_s": round(TRANSITIONS / card_s),
        "frames_inflated": inflated,
        "inflate_mb_per_s": round(inflated * FRAME_BYTES / MB / card_s),
        "observation_file_mb": round(observation_bytes / MB),
        "peak_rss_mb": round(result["peak_rss_mb"]),
        "output_frames_mb": round(output_bytes / MB),
    }
    benchmark.extra_info.update(numbers)
    print(json.dumps(numbers, indent=1))
    # The frames are streamed, never the whole 7 GB buffer: the job holds its output (the sampled
    # frames, 3.4 GB) plus the buffer's small arrays and the interpreter.
    assert result["peak_rss_mb"] * MB < output_bytes + 1.5 * 2**30
