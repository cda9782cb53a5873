"""Peak memory of loading and sampling a big Atari dataset stored as single frames, memory-mapped.

    .venv/bin/python tests/benchmarks/bench_memory.py [--transitions 500000] [--dir resources/bench_memory]

Writes a synthetic Atari dataset of N transitions in the stored format under --dir (random uint8
84x84 frames, Breakout-like episode lengths of 200-3000 steps; streamed to disk, never whole in
RAM; kept and reused by the next run with the same N). Then, in a FRESH subprocess, the way a
training run does: `benchmark.datasets.load` (hashes checked, arrays memory-mapped), d3rlpy's
dataset with 4-frame stacking at sample time (`OfflineDataset.to_d3rlpy(frame_stack=4)`), many
transition batches (CQL/BC: 32 transitions) and trajectory batches (DT: 8 x 30 steps), and at last
one pass over every frame (what a long enough training run touches). The subprocess's peak RSS
(getrusage maxrss) over the raw single-frame bytes is the number: target <= 1.3x at N = 500k,
where stacking in RAM, as d3rlpy's Atari loader and the official DT loader do, costs 4x.
Writing happens in a subprocess of its own: Linux carries a process's peak RSS over fork and
exec, so a parent that had touched the frames would inflate the measuring child's baseline.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmark import datasets, io

FRAME = (84, 84)
GB = 1e9


def write_synthetic(folder: Path, transitions: int, seed: int = 0) -> datasets.OfflineDataset:
    """A dataset in the stored format, written chunk by chunk (the frames never all in RAM)."""
    card_path = folder / datasets.CARD
    if card_path.exists() and datasets.load(folder, verify=False).card["transitions"] == transitions:
        return datasets.load(folder, verify=False)
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
    return datasets.seal(folder, datasets.OfflineDataset(observations=observations, card=card, **small))


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def measure(folder: Path, transition_batches: int, trajectory_batches: int) -> None:
    """Run in a fresh process: load, build, sample, touch every frame; print peak RSS per phase."""
    import d3rlpy  # noqa: F401  (imported before the baseline, as in a training run)

    def report(phase: str) -> None:
        # Now: anonymous memory (copies would show here) and mapped file pages (the frames).
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        anon, file = (int(status[key].split()[0]) * 1024 / GB for key in ("RssAnon", "RssFile"))
        print(
            f"  after {phase:<38} peak RSS {peak_rss_bytes() / GB:5.2f} GB (now: anonymous {anon:5.2f} GB,"
            f" file-backed {file:5.2f} GB)",
            flush=True,
        )

    report("imports (baseline)")
    baseline = peak_rss_bytes()
    started = time.time()
    data = datasets.load(folder)
    report("load (hashes checked, memory-mapped)")
    buffer = data.to_d3rlpy(frame_stack=4)
    report("building d3rlpy's dataset")
    for _ in range(transition_batches):
        batch = buffer.sample_transition_batch(32)
    assert batch.observations.shape[1:] == (4, *FRAME)
    report(f"{transition_batches} transition batches (32)")
    for _ in range(trajectory_batches):
        trajectories = buffer.sample_trajectory_batch(8, 30)
    assert trajectories.observations.shape[2:] == (4, *FRAME)
    report(f"{trajectory_batches} trajectory batches (8 x 30)")
    checksum = sum(int(data.observations[i : i + 10_000].max()) for i in range(0, len(data.observations), 10_000))
    report("a pass over every frame")
    raw = data.observations.nbytes
    print(f"  ({time.time() - started:.0f} s, checksum {checksum})")
    print(f"RATIO peak RSS / raw frame bytes: {peak_rss_bytes() / raw:.2f}x")
    print(
        f"  without the interpreter and imports ({baseline / GB:.2f} GB, the same at any N): "
        f"{(peak_rss_bytes() - baseline) / raw:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transitions", type=int, default=500_000)
    parser.add_argument("--dir", type=Path, default=Path("resources/bench_memory"))
    parser.add_argument("--transition-batches", type=int, default=2000)
    parser.add_argument("--trajectory-batches", type=int, default=200)
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)  # the writing subprocess
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the measuring subprocess
    args = parser.parse_args()
    if args.write:
        write_synthetic(args.dir, args.transitions)
        return
    if args.measure:
        measure(args.dir, args.transition_batches, args.trajectory_batches)
        return
    started = time.time()
    subprocess.run(
        [sys.executable, __file__, "--write", "--dir", str(args.dir), "--transitions", str(args.transitions)],
        check=True,
    )
    card = io.read_json(args.dir / datasets.CARD)
    raw = card["transitions"] * FRAME[0] * FRAME[1]
    print(
        f"dataset: {args.dir} ({card['transitions']} transitions, {card['episodes']} episodes; "
        f"ready in {time.time() - started:.0f} s)"
    )
    print(f"raw single-frame bytes: {raw / GB:.2f} GB ({args.transitions} x 84 x 84 uint8)")
    print(f"stacked in RAM, (N, 4, 84, 84) as d3rlpy's and the DT loader keep it: {4 * raw / GB:.2f} GB = 4.00x raw")
    print("fresh subprocess: load, build, sample")
    command = [sys.executable, __file__, "--measure", "--dir", str(args.dir)]
    command += [
        "--transition-batches",
        str(args.transition_batches),
        "--trajectory-batches",
        str(args.trajectory_batches),
    ]
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
