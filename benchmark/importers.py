"""Importers for the real datasets a preset reads from its local `mirror` (no download here).

Hosting of DQN-Replay and D4RL has failed before (HTTP 403), so presets point `mirror:` at a
local copy; every missing file is reported with the path expected and where to obtain it:

- DQN-Replay (Agarwal et al., "An Optimistic Perspective on Offline Reinforcement Learning"):
  bucket gs://atari-replay-datasets/dqn, laid out `<Game>/<run>/replay_logs/` (CamelCase games).
  Per checkpoint i (0..50) Dopamine wrote gzip'ed `np.save` arrays `$store$_observation_ckpt.i.gz`
  (uint8 (N, 84, 84) single frames), `$store$_action_ckpt.i.gz`, `$store$_reward_ckpt.i.gz`,
  `$store$_terminal_ckpt.i.gz`, plus `add_count_ckpt.i.gz` and `invalid_range_ckpt.i.gz`; each
  buffer holds N = 1M transitions.
- D4RL (github.com/Farama-Foundation/D4RL, http://rail.eecs.berkeley.edu/datasets/offline_rl/):
  one hdf5 file per dataset with top-level `observations, actions, rewards, terminals, timeouts`
  (optionally `next_observations`, `infos/*`). Scores are normalised
  elsewhere (benchmark.scores).
- Minari (minari.farama.org): a local dataset folder `<dataset_id>/`, as `minari download` leaves
  it: `data/metadata.json` beside `data/main_data.hdf5` (hdf5 format) or one folder per episode
  (arrow format). Read with the `minari` package from the folder's path, so nothing is downloaded.

What Dopamine's store holds, beyond the file list (read from Dopamine's replay buffer and runner,
which wrote DQN-Replay):

- The store is a ring buffer: the write cursor is `add_count % N`, so when `add_count >= N` the
  oldest row is at the cursor and storage row 0 lies somewhere mid-stream.
- Before every episode `add` writes `stack_size - 1 = 3` all-zero padding rows (zero frame,
  action 0, reward 0, terminal 0) so that frame stacks never reach into the previous episode.
  They are not transitions; this importer drops them (frames are stacked at sample time).
- The runner clips rewards to [-1, 1] before the agent stores them, so the store's rewards are
  clipped, not raw game scores (confirmed by d4rl-atari's maintainer, takuseno/d4rl-atari#13).
  They are imported as stored; the card says so.
- `terminal` is 1 at every episode end, including the runner's 27,000-step cap
  (max_steps_per_episode); an episode of exactly that length was cut, so it is imported as a
  timeout, not a terminal.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from benchmark import io
from benchmark.datasets import FIELDS, OfflineDataset, fits, sha256
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.sources import DT_1PCT_DEFAULTS
from benchmark.specs import DatasetSpec

DQN_REPLAY_WHERE = (
    "DQN-Replay is in the bucket gs://atari-replay-datasets/dqn (Agarwal et al., 'An Optimistic Perspective on "
    "Offline RL'), e.g. `gsutil -m cp -R gs://atari-replay-datasets/dqn/Breakout/1 <mirror>/dqn-replay/Breakout/`"
)
MINARI_WHERE = (
    "Minari datasets are downloaded with `minari download <dataset_id>` (minari.farama.org) into "
    "MINARI_DATASETS_PATH (default ~/.minari/datasets); copy <dataset_id>/ under the mirror"
)
D4RL_WHERE = (
    "D4RL datasets come from the D4RL project (github.com/Farama-Foundation/D4RL), e.g. "
    "http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2/hopper_medium-v2.hdf5"
)

STORE_FIELDS = ("observation", "action", "reward", "terminal")  # Dopamine's `$store$_` arrays
DOPAMINE_STACK_SIZE = 4
DOPAMINE_PADDING = DOPAMINE_STACK_SIZE - 1  # zero rows Dopamine writes before each episode
DOPAMINE_MAX_EPISODE_STEPS = 27_000  # Dopamine Runner.max_steps_per_episode (108k frames)
FRAME_SHAPE = (84, 84)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# --------------------------------------------------------------------------------------------
# Dopamine checkpoints: gzip'ed np.save arrays, read as a stream (a buffer's frames are ~7 GB).


def replay_file(folder: Path, name: str, checkpoint: int) -> Path:
    """Dopamine's file name for one array of one checkpoint."""
    prefix = "$store$_" if name in STORE_FIELDS else ""
    return Path(folder) / f"{prefix}{name}_ckpt.{checkpoint}.gz"


@contextmanager
def _reading(path: Path, name: str) -> Iterator[None]:
    """Turn a gzip/npy read failure into one line naming the file and the field."""
    try:
        yield
    except BenchmarkError:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise BenchmarkError(
            f"{path}: field {name!r}: unreadable, truncated or not a gzip'ed np.save array ({_one_line(error)})"
        ) from error


class _NpyGz:
    """A gzip'ed .npy file opened for sequential row reads: never more than the rows asked for
    are held, so a 1M-frame buffer (~7 GB) is streamed, not loaded."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name
        if not path.is_file():
            raise BenchmarkError(f"{path}: missing DQN-Replay file (field {name!r}); {DQN_REPLAY_WHERE}")
        self.file: IO[bytes] = gzip.open(path, "rb")  # noqa: SIM115 (closed by close() / __exit__)
        try:
            with _reading(path, name):
                version = np.lib.format.read_magic(self.file)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(self.file)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(self.file)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
            if dtype.hasobject:
                raise BenchmarkError(f"{path}: field {name!r}: holds Python objects (pickle), not a numeric array")
            if fortran and len(shape) > 1:
                raise BenchmarkError(f"{path}: field {name!r}: Fortran-ordered array, expected np.save's C order")
        except BenchmarkError:
            self.close()
            raise
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype: np.dtype = dtype
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * dtype.itemsize
        self.data_start = self.file.tell()
        self._check_trailer()

    def _check_trailer(self) -> None:
        """A gzip member ends with its uncompressed size mod 2**32 (RFC 1952): a file cut short
        fails here, before any frame is read, even where a sample reads only its first rows."""
        size = self.data_start + int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        with open(self.path, "rb") as raw:
            raw.seek(0, 2)
            if raw.tell() < 18:  # gzip header (10) + trailer (8)
                stored = None
            else:
                raw.seek(-4, 2)
                stored = int.from_bytes(raw.read(4), "little")
        if stored != size % 2**32:
            self.close()
            raise BenchmarkError(
                f"{self.path}: field {self.name!r}: truncated or corrupt gzip (its trailer records {stored} bytes, "
                f"the .npy header of shape {self.shape} needs {size})"
            )

    def __enter__(self) -> _NpyGz:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Rows start..start+len(out) into `out` (C-contiguous, this file's dtype); forward only."""
        target = self.data_start + start * self.row_bytes
        view = memoryview(out.reshape(-1).view(np.uint8))
        with _reading(self.path, self.name):
            if self.file.tell() != target:
                self.file.seek(target)  # forward: decompresses and discards
            got = 0
            while got < len(view):
                n = self.file.readinto(view[got:])  # type: ignore[attr-defined]
                if not n:
                    raise EOFError(f"data ends after {(target - self.data_start + got) // self.row_bytes} rows")
                got += n

    def read_all(self) -> np.ndarray:
        out = np.empty(self.shape, self.dtype)
        if out.size:
            self.read_into(0, out)
        return out


def _load_small(folder: Path, name: str, checkpoint: int) -> np.ndarray:
    with _NpyGz(replay_file(folder, name, checkpoint), name) as f:
        return f.read_all()


def _check_kind(path: Path, name: str, array_dtype: np.dtype, kinds: str, expected: str) -> None:
    if array_dtype.kind not in kinds:
        raise BenchmarkError(f"{path}: field {name!r}: dtype {array_dtype}, expected {expected}")


def _check_rows(path: Path, name: str, shape: tuple[int, ...], n: int, tail: tuple[int, ...] = ()) -> None:
    if shape != (n, *tail):
        raise BenchmarkError(f"{path}: field {name!r}: shape {shape}, expected {(n, *tail)}")


def _check_frames(path: Path, shape: tuple[int, ...], dtype: np.dtype, n: int) -> None:
    if dtype != np.uint8:
        raise BenchmarkError(f"{path}: field 'observation': dtype {dtype}, expected uint8 frames")
    _check_rows(path, "observation", shape, n, FRAME_SHAPE)


@dataclass
class _Buffer:
    """One checkpoint's episode structure in chronological order (no frames held)."""

    checkpoint: int
    rows: int  # N, the store's capacity
    origin: int  # storage row of the oldest transition
    first: np.ndarray  # chronological position of each complete trajectory's first real row
    last: np.ndarray  # ... and of its terminal row
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # visiting order
    taken: int = 0  # trajectories already taken

    def storage(self, chrono: np.ndarray) -> np.ndarray:
        return (self.origin + chrono) % self.rows


def _index_buffer(folder: Path, checkpoint: int) -> _Buffer:
    """Episode boundaries of one checkpoint from its terminal and add_count arrays."""
    terminal_path = replay_file(folder, "terminal", checkpoint)
    with _NpyGz(replay_file(folder, "observation", checkpoint), "observation") as frames:
        n = frames.shape[0] if frames.shape else 0
        _check_frames(frames.path, frames.shape, frames.dtype, n)
    terminal = _load_small(folder, "terminal", checkpoint)
    _check_kind(terminal_path, "terminal", terminal.dtype, "biu", "an integer or bool 0/1 flag")
    _check_rows(terminal_path, "terminal", terminal.shape, n)
    if not np.isin(terminal, (0, 1)).all():
        raise BenchmarkError(f"{terminal_path}: field 'terminal': values other than 0 and 1")
    count_path = replay_file(folder, "add_count", checkpoint)
    add_count = _load_small(folder, "add_count", checkpoint)
    if add_count.size != 1 or add_count.dtype.kind not in "iu" or int(add_count.reshape(-1)[0]) < 0:
        raise BenchmarkError(
            f"{count_path}: field 'add_count': {add_count.dtype} array of shape {add_count.shape}, "
            "expected one non-negative integer"
        )
    count = int(add_count.reshape(-1)[0])
    full = count >= n
    origin, valid = (count % n, n) if full else (0, count)
    chrono_terminal = terminal[(origin + np.arange(valid)) % max(n, 1)] if valid else terminal[:0]
    ends = np.flatnonzero(chrono_terminal)
    if full:  # the first episode's start was overwritten: it begins after the first terminal
        starts, ends = ends[:-1] + 1, ends[1:]
    else:
        starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)[: len(ends)]
    first = starts + DOPAMINE_PADDING
    short = np.flatnonzero(first > ends)
    if len(short):
        row = int((origin + ends[short[0]]) % n)
        raise BenchmarkError(
            f"{terminal_path}: field 'terminal': episode ending at row {row} is shorter than Dopamine's "
            f"{DOPAMINE_PADDING} zero padding rows; not a Dopamine replay store"
        )
    return _Buffer(checkpoint, n, origin, first.astype(np.int64), ends.astype(np.int64))


def read_dqn_replay(folder: Path | str, checkpoint: int) -> dict[str, np.ndarray]:
    """All arrays of one Dopamine checkpoint, as stored (padding rows included), checked.

    Keys: observation (N, 84, 84) uint8, action (N,), reward (N,), terminal (N,), add_count (),
    and invalid_range when its file exists. Holds the whole buffer (~7 GB of frames for a real
    one): for inspection; `sample_dqn_replay_1pct` streams instead.
    """
    folder = Path(folder)
    arrays = {name: _load_small(folder, name, checkpoint) for name in (*STORE_FIELDS, "add_count")}
    if replay_file(folder, "invalid_range", checkpoint).is_file():
        arrays["invalid_range"] = _load_small(folder, "invalid_range", checkpoint)
    frames = arrays["observation"]
    n = len(frames) if frames.ndim else 0
    _check_frames(replay_file(folder, "observation", checkpoint), frames.shape, frames.dtype, n)
    _check_store(folder, checkpoint, arrays["action"], arrays["reward"], n)
    terminal_path = replay_file(folder, "terminal", checkpoint)
    _check_kind(terminal_path, "terminal", arrays["terminal"].dtype, "biu", "an integer or bool 0/1 flag")
    _check_rows(terminal_path, "terminal", arrays["terminal"].shape, n)
    if arrays["add_count"].size != 1:
        path = replay_file(folder, "add_count", checkpoint)
        raise BenchmarkError(f"{path}: field 'add_count': shape {arrays['add_count'].shape}, expected one integer")
    return arrays


def _check_store(folder: Path, checkpoint: int, action: np.ndarray, reward: np.ndarray, n: int) -> None:
    action_path, reward_path = replay_file(folder, "action", checkpoint), replay_file(folder, "reward", checkpoint)
    _check_kind(action_path, "action", action.dtype, "iu", "an integer action index")
    _check_rows(action_path, "action", action.shape, n)
    _check_kind(reward_path, "reward", reward.dtype, "fiu", "float")
    _check_rows(reward_path, "reward", reward.shape, n)
    bad = np.flatnonzero(~np.isfinite(reward))
    if len(bad):
        raise BenchmarkError(f"{reward_path}: field 'reward': NaN or inf at row {int(bad[0])} ({len(bad)} rows)")


@dataclass(frozen=True)
class _Take:
    """One sampled trajectory (or its cut head) in the output, in visiting order."""

    checkpoint: int
    first: int  # chronological position of its first row in the buffer
    length: int
    at: int  # row in the output
    end: str  # "terminal" or "timeout"


def sample_dqn_replay_1pct(
    folder: Path | str,
    num_steps: int,
    num_buffers: int,
    trajectories_per_buffer: int,
    seed: int,
    *,
    last_checkpoint: int = DT_1PCT_DEFAULTS["last_checkpoint"],
    action_size: int | None = None,
    episode_step_cap: int = DOPAMINE_MAX_EPISODE_STEPS,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The Decision Transformer paper's 1% DQN-Replay sample: (stored arrays, what was sampled).

    The official code (kzl/decision-transformer atari/create_dataset.py) repeats until
    `num_steps` transitions are collected: pick a buffer uniformly among the last `num_buffers`
    checkpoints (np.arange(50 - num_buffers, 50), i.e. `last_checkpoint` = 49), then read
    consecutive transitions of that buffer, continuing where its previous visit stopped, until
    `trajectories_per_buffer` trajectories have ended. Here, as there:
    uniform buffer choice, consecutive whole trajectories per visit, continuation on revisits,
    one seed for the whole draw. Deliberate differences, so that every trajectory is a real and
    whole episode: trajectories are cut at Dopamine's episode boundaries in chronological order
    (from the write cursor; the episode whose start was overwritten is skipped), Dopamine's
    zero padding rows are dropped, a buffer's first visit starts at a random whole trajectory
    (the official start, storage row 0, is an arbitrary point of the ring buffer) and later
    visits continue cyclically, each visit takes exactly `trajectories_per_buffer` trajectories
    (the official loop takes one more), the whole 1M-row buffer is used (the official code reads
    its first 100k rows), and the trajectory that crosses `num_steps` is cut there and flagged as a
    timeout (the official code overshoots by up to one visit). Episodes of exactly
    `episode_step_cap` steps were ended by Dopamine's step cap and are flagged as timeouts.

    Memory: the output plus one buffer's action/reward/terminal arrays; frames are streamed
    from the gzip files straight into the output, one buffer at a time.
    """
    folder = Path(folder)
    if num_buffers < 1 or num_buffers > last_checkpoint + 1:
        raise BenchmarkError(
            f"{folder}: num_buffers={num_buffers} must be between 1 and last_checkpoint + 1 = {last_checkpoint + 1}"
        )
    if num_steps < 1 or trajectories_per_buffer < 1:
        raise BenchmarkError(f"{folder}: num_steps and trajectories_per_buffer must be positive")
    checkpoints = list(range(last_checkpoint - num_buffers + 1, last_checkpoint + 1))
    rng = np.random.default_rng(seed)
    buffers: dict[int, _Buffer] = {}
    exhausted: set[int] = set()
    plan: list[_Take] = []
    visits: list[list[int]] = []  # [checkpoint, trajectories, transitions] in visiting order
    total, cut = 0, False
    while total < num_steps:
        open_checkpoints = [c for c in checkpoints if c not in exhausted]
        if not open_checkpoints:
            raise BenchmarkError(
                f"{folder}: checkpoints {checkpoints[0]}..{checkpoints[-1]} hold only {total} transitions in whole "
                f"trajectories; transitions={num_steps} asks for more"
            )
        checkpoint = int(rng.choice(open_checkpoints))
        if checkpoint not in buffers:
            buffer = _index_buffer(folder, checkpoint)
            count = len(buffer.first)
            start = int(rng.integers(count)) if count else 0
            buffer.order = (start + np.arange(count)) % max(count, 1)
            buffers[checkpoint] = buffer
        buffer = buffers[checkpoint]
        picked = buffer.order[buffer.taken : buffer.taken + trajectories_per_buffer]
        buffer.taken += len(picked)
        if buffer.taken >= len(buffer.order):
            exhausted.add(checkpoint)
        visit_start, visit_trajectories = total, 0
        for k in picked:
            first, length = int(buffer.first[k]), int(buffer.last[k] - buffer.first[k] + 1)
            end = "timeout" if length == episode_step_cap else "terminal"
            if total + length > num_steps:  # the trajectory crossing num_steps is cut there
                length, end, cut = num_steps - total, "timeout", True
            plan.append(_Take(checkpoint, first, length, total, end))
            total += length
            visit_trajectories += 1
            if total >= num_steps:
                break
        if visit_trajectories:
            visits.append([checkpoint, visit_trajectories, total - visit_start])

    arrays = {
        "observations": np.empty((num_steps, *FRAME_SHAPE), np.uint8),
        "actions": np.empty(num_steps, np.int64),
        "rewards": np.empty(num_steps, np.float32),
        "terminals": np.zeros(num_steps, np.float32),
        "timeouts": np.zeros(num_steps, np.float32),
    }
    files: list[dict[str, Any]] = []
    for checkpoint in sorted({take.checkpoint for take in plan}):
        takes = [take for take in plan if take.checkpoint == checkpoint]
        _read_takes(folder, buffers[checkpoint], takes, arrays, action_size)
        for name in (*STORE_FIELDS, "add_count"):
            path = replay_file(folder, name, checkpoint)
            files.append({"path": str(path), "bytes": path.stat().st_size})
    for take in plan:
        arrays["terminals" if take.end == "terminal" else "timeouts"][take.at + take.length - 1] = 1.0

    per_checkpoint: dict[str, int] = {}
    for take in plan:
        per_checkpoint[str(take.checkpoint)] = per_checkpoint.get(str(take.checkpoint), 0) + take.length
    record = {
        "checkpoints": [checkpoints[0], checkpoints[-1]],
        "trajectories": len(plan),
        "transitions": num_steps,
        "visits": visits,
        "transitions_per_checkpoint": per_checkpoint,
        "last_trajectory_cut": cut,
        "step_cap_timeouts": sum(1 for take in plan if take.end == "timeout") - int(cut),
        "reward_values": sorted({float(r) for r in np.unique(arrays["rewards"])[:50]}),
        "mirror_files": files,
    }
    return arrays, record


def _read_takes(
    folder: Path,
    buffer: _Buffer,
    takes: list[_Take],
    arrays: dict[str, np.ndarray],
    action_size: int | None,
) -> None:
    """Copy one checkpoint's sampled trajectories into the output: one pass over its frames."""
    checkpoint, n = buffer.checkpoint, buffer.rows
    action = _load_small(folder, "action", checkpoint)
    reward = _load_small(folder, "reward", checkpoint)
    _check_store(folder, checkpoint, action, reward, n)
    action_path = replay_file(folder, "action", checkpoint)
    if action.size and (int(action.min()) < 0 or (action_size is not None and int(action.max()) >= action_size)):
        raise BenchmarkError(
            f"{action_path}: field 'action': values {int(action.min())}..{int(action.max())}, "
            f"the game has actions 0..{(action_size or 1) - 1}"
        )
    pieces: list[tuple[int, int, int]] = []  # (storage row, rows, output row)
    for take in takes:
        rows = buffer.storage(np.arange(take.first, take.first + take.length))
        out = slice(take.at, take.at + take.length)
        arrays["actions"][out] = action[rows]
        arrays["rewards"][out] = reward[rows]
        padding = buffer.storage(np.arange(take.first - DOPAMINE_PADDING, take.first))
        if action[padding].any() or reward[padding].any():
            raise BenchmarkError(
                f"{action_path}: field 'action': rows {padding.tolist()} before an episode are not Dopamine's zero "
                "padding (action 0, reward 0); not a Dopamine replay store"
            )
        head = min(take.length, n - int(rows[0]))  # rows up to the end of the ring, then from row 0
        pieces.append((int(rows[0]), head, take.at))
        if head < take.length:
            pieces.append((0, take.length - head, take.at + head))
    with _NpyGz(replay_file(folder, "observation", checkpoint), "observation") as frames:
        for start, length, at in sorted(pieces):
            frames.read_into(start, arrays["observations"][at : at + length])


# --------------------------------------------------------------------------------------------
# D4RL hdf5


def read_d4rl_hdf5(path: Path | str) -> dict[str, np.ndarray]:
    """The stored arrays of one D4RL hdf5 file (float32 observations/actions, float32 flags).

    D4RL's data can end mid-episode; that last row is flagged as a timeout (the storage format
    needs every episode to end with a flag), and the card records it.
    """
    return _read_d4rl(Path(path))[0]


def _read_d4rl(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import h5py

    if not path.is_file():
        raise BenchmarkError(f"{path}: missing D4RL file; {D4RL_WHERE}")
    raw: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            for name in FIELDS:
                if name not in f or not isinstance(f[name], h5py.Dataset):
                    what = "missing" if name not in f else f"a {type(f[name]).__name__}, not an array"
                    raise BenchmarkError(
                        f"{path}: field {name!r} {what}; a D4RL file has top-level datasets {', '.join(FIELDS)} "
                        f"(found: {', '.join(sorted(f.keys())) or 'none'})"
                    )
                raw[name] = f[name][()]
            extra = sorted(set(f.keys()) - set(FIELDS))
    except BenchmarkError:
        raise
    except (OSError, ValueError, KeyError) as error:
        raise BenchmarkError(f"{path}: not a readable HDF5 file ({_one_line(error)})") from error
    n = len(raw["rewards"]) if raw["rewards"].ndim else 0
    for name in ("observations", "actions"):
        array = raw[name]
        if array.ndim != 2 or len(array) != n:
            raise BenchmarkError(f"{path}: field {name!r}: shape {array.shape}, expected ({n}, dim)")
        _check_kind(path, name, array.dtype, "f", "float")
    for name in ("rewards", "terminals", "timeouts"):
        if raw[name].shape != (n,):
            raise BenchmarkError(f"{path}: field {name!r}: shape {raw[name].shape}, expected ({n},)")
    _check_kind(path, "rewards", raw["rewards"].dtype, "fiu", "float")
    for name in ("terminals", "timeouts"):
        _check_kind(path, name, raw[name].dtype, "biuf", "a bool 0/1 flag")
        if not np.isin(raw[name], (0, 1)).all():
            raise BenchmarkError(f"{path}: field {name!r}: values other than 0 and 1")
    if n == 0:
        raise BenchmarkError(f"{path}: field 'rewards': no rows")
    for name in ("rewards", "observations", "actions"):
        bad = np.flatnonzero(~np.isfinite(raw[name]).reshape(n, -1).all(axis=1))
        if len(bad):
            raise BenchmarkError(f"{path}: field {name!r}: NaN or inf at row {int(bad[0])} ({len(bad)} rows)")
    terminals = raw["terminals"].astype(np.float32)
    timeouts = raw["timeouts"].astype(np.float32)
    both = int(((terminals > 0) & (timeouts > 0)).sum())
    timeouts[terminals > 0] = 0.0  # a row that terminated was not cut
    end_of_data_cut = not (terminals[-1] > 0 or timeouts[-1] > 0)
    if end_of_data_cut:
        timeouts[-1] = 1.0
    arrays = {
        "observations": raw["observations"].astype(np.float32, copy=False),
        "actions": raw["actions"].astype(np.float32, copy=False),
        "rewards": raw["rewards"].astype(np.float32, copy=False),
        "terminals": terminals,
        "timeouts": timeouts,
    }
    notes = {
        "last_row_cut_by_end_of_data": end_of_data_cut,
        "rows_with_terminal_and_timeout": both,
        "ignored_fields": extra,  # e.g. next_observations, infos, metadata: not stored
    }
    return arrays, notes


# --------------------------------------------------------------------------------------------
# Minari (local datasets, as `minari download` or `minari.create_dataset_from_buffers` write them)

MINARI_METADATA = "metadata.json"  # in <dataset_id>/data/, beside the episodes
MINARI_HDF5 = "main_data.hdf5"  # the hdf5 format's one file; the arrow format keeps a folder per episode
MINARI_EPISODE_FIELDS = ("observations", "actions", "rewards", "terminations", "truncations")


def read_minari(folder: Path | str) -> dict[str, np.ndarray]:
    """The stored arrays of one local Minari dataset, `<root>/<dataset_id>/`.

    Read by the `minari` package, which knows its hdf5 and arrow formats and their versions, from
    the folder alone (`data/metadata.json` and the episodes beside it): nothing is downloaded.
    Each episode's observations hold one row more than its actions (the final observation), which
    is left out. Box observations and actions only.
    """
    return _read_minari(Path(folder))[0]


def _read_minari(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any], Path]:
    """The arrays, the card's notes, and what was read: the hdf5 file, or the arrow data folder."""
    data = folder / "data"
    metadata_path = data / MINARI_METADATA
    if not metadata_path.is_file():
        raise BenchmarkError(f"{metadata_path}: missing Minari file; {MINARI_WHERE}")
    metadata = io.read_json(metadata_path)  # minari's own read would fail with no file named
    if not isinstance(metadata, dict):
        raise BenchmarkError(f"{metadata_path}: not a JSON object (Minari's dataset metadata)")
    hdf5 = metadata.get("data_format") == "hdf5"
    read_from = data / MINARI_HDF5 if hdf5 else data
    columns: dict[str, list[np.ndarray]] = {name: [] for name in FIELDS}
    try:
        dataset = _minari_dataset(data, metadata_path)
        for episode in dataset.iterate_episodes():
            _add_minari_episode(columns, episode, read_from)
    except BenchmarkError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as error:
        what = "HDF5 file" if hdf5 else "Minari dataset"
        raise BenchmarkError(f"{read_from}: not a readable {what} ({_one_line(error)})") from error
    if not columns["rewards"]:
        raise BenchmarkError(f"{read_from}: no episodes; not a Minari dataset")
    notes = {"episodes_read": len(columns["rewards"]), "minari_dataset_id": metadata.get("dataset_id")}
    return {name: np.concatenate(parts) for name, parts in columns.items()}, notes, read_from


def _minari_dataset(data: Path, metadata_path: Path) -> Any:
    """minari's reader of the local dataset in `data`, its spaces checked."""
    import gymnasium as gym
    import minari

    dataset = minari.MinariDataset(data)
    for what, space in (("observation", dataset.observation_space), ("action", dataset.action_space)):
        if not isinstance(space, gym.spaces.Box):
            raise BenchmarkError(
                f"{metadata_path}: {what} space {type(space).__name__}; Box observations and actions only "
                "(dict spaces are not supported)"
            )
    return dataset


def _add_minari_episode(columns: dict[str, list[np.ndarray]], episode: Any, path: Path) -> None:
    """Check one Minari episode and append it to the stored arrays' `columns`."""
    name = f"episode_{episode.id}"
    raw = {field_name: np.asarray(getattr(episode, field_name)) for field_name in MINARI_EPISODE_FIELDS}
    steps = len(raw["rewards"])
    for field_name, rows in (("observations", steps + 1), ("actions", steps)):
        if raw[field_name].ndim != 2 or len(raw[field_name]) != rows:
            raise BenchmarkError(f"{path}: {name}/{field_name}: shape {raw[field_name].shape}, expected ({rows}, dim)")
    for field_name in ("rewards", "observations", "actions"):
        if not np.isfinite(raw[field_name]).all():
            raise BenchmarkError(f"{path}: {name}/{field_name}: contains NaN or inf")
    terminated = bool(raw["terminations"][-1]) if steps else False
    end = np.zeros(steps, np.float32)
    end[-1:] = 1.0
    columns["observations"].append(raw["observations"][:-1].astype(np.float32))
    columns["actions"].append(raw["actions"].astype(np.float32))
    columns["rewards"].append(raw["rewards"].astype(np.float32))
    columns["terminals"].append(end if terminated else np.zeros(steps, np.float32))
    columns["timeouts"].append(np.zeros(steps, np.float32) if terminated else end)


# --------------------------------------------------------------------------------------------
# The mirror sources (benchmark.sources): what the dataset stage calls


def _resolve_case(path: Path) -> Path:
    """`path`, matching each missing component case-insensitively when exactly one sibling fits
    (the bucket's game folders are CamelCase, presets substitute lower-case env names)."""
    if path.exists():
        return path
    current = Path(path.anchor) if path.is_absolute() else Path()
    for part in path.parts[len(current.parts) :]:
        candidate = current / part
        if not candidate.exists() and current.is_dir():
            matches = [child for child in current.iterdir() if child.name.lower() == part.lower()]
            if len(matches) == 1:
                candidate = matches[0]
        current = candidate
    return current


def _mirror_path(spec: DatasetSpec) -> Path:
    if not spec.mirror_path:
        raise BenchmarkError(f"dataset {spec.name!r}: source {spec.source!r} needs `mirror` and `path` in the preset")
    return Path(spec.mirror_path)


def _fit(arrays: dict[str, np.ndarray], path: Path, env_spec: EnvSpec) -> None:
    """The imported rows fit the env the policies are evaluated in (shapes, the action box or
    range): a wrong file fails here, naming it and the row, not at training."""
    fits(OfflineDataset(card={}, **arrays), path, env_spec, named=lambda name: f"{path}: field {name!r}")


def dqn_replay(spec: DatasetSpec, env_spec: EnvSpec, log_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The Decision Transformer paper's 1% sample of one game's DQN-Replay run (sample_dqn_replay_1pct)."""
    mirror_path = _mirror_path(spec)
    options = spec.options
    settings = {key: int(options.get(key, default)) for key, default in DT_1PCT_DEFAULTS.items()}
    expected = mirror_path / str(settings["run"]) / "replay_logs"
    folder = _resolve_case(expected)
    if not folder.is_dir():
        raise BenchmarkError(
            f"{expected}: missing DQN-Replay folder (game folder / run / replay_logs, game name matched "
            f"case-insensitively); {DQN_REPLAY_WHERE}"
        )
    arrays, record = sample_dqn_replay_1pct(
        folder,
        settings["transitions"],
        settings["num_buffers"],
        settings["trajectories_per_buffer"],
        spec.seed,
        last_checkpoint=settings["last_checkpoint"],
        action_size=env_spec.action_size,
    )
    _fit(arrays, folder, env_spec)
    clipped = bool(np.all(np.abs(arrays["rewards"]) <= 1.0))
    card = {
        "source": "dqn-replay",
        "mirror_path": str(mirror_path),
        "replay_folder": str(folder),
        "protocol": {
            "name": "dt-paper-1pct",
            "reference": "Decision Transformer official code, atari/create_dataset.py (kzl/decision-transformer)",
            **settings,
            "seed": spec.seed,
        },
        "sampled": record,
        "rewards_clipped": clipped,
        "rewards_note": (
            "rewards as stored by Dopamine, which clips them to [-1, 1] before storing "
            "(takuseno/d4rl-atari#13): returns are not game scores"
        ),
        "behaviour": "DQN (Dopamine, Nature CNN) replay of one training run, epsilon-greedy",
    }
    return arrays, card


def _import_box(
    source_name: str, spec: DatasetSpec, env_spec: EnvSpec, behaviour: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A D4RL file or a Minari dataset (box observations and actions) -> the stored arrays and card fields."""
    mirror_path = _mirror_path(spec)
    path = _resolve_case(mirror_path)
    if source_name == "d4rl":
        (arrays, notes), data_file = _read_d4rl(path), path
    else:
        arrays, notes, data_file = _read_minari(path)
    width, dims = arrays["observations"].shape[1], arrays["actions"].shape[1]
    if (width,) != tuple(env_spec.observation_shape):
        raise BenchmarkError(
            f"{path}: field 'observations': {width} values per row, {env_spec.env} observes "
            f"{env_spec.observation_shape[0]}"
        )
    if dims != env_spec.action_size:
        raise BenchmarkError(
            f"{path}: field 'actions': {dims} values per row, {env_spec.env} has {env_spec.action_size}"
        )
    _fit(arrays, data_file, env_spec)
    card = {
        "source": source_name,
        "mirror_path": str(mirror_path),
        **_mirror_record(data_file),
        **notes,
        "rewards_clipped": False,
        "behaviour": behaviour,
    }
    return arrays, card


def _mirror_record(read_from: Path) -> dict[str, Any]:
    """The card's record of the mirror's data: the file read (D4RL, Minari's hdf5 format), or every
    file of the folder read (Minari's arrow format: a folder per episode)."""
    if read_from.is_file():
        return {"mirror_file": _file_record(read_from)}
    return {"mirror_files": [_file_record(path) for path in sorted(read_from.rglob("*")) if path.is_file()]}


def _file_record(path: Path) -> dict[str, Any]:
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256(path)}


def d4rl(spec: DatasetSpec, env_spec: EnvSpec, log_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """One D4RL hdf5 file (read_d4rl_hdf5)."""
    return _import_box(
        "d4rl", spec, env_spec, "D4RL dataset (how each was collected: the D4RL paper, arXiv 2004.07219)"
    )


def minari(spec: DatasetSpec, env_spec: EnvSpec, log_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """One local Minari dataset (read_minari)."""
    return _import_box(
        "minari", spec, env_spec, "Minari dataset (its metadata.json and the Minari docs say how it was collected)"
    )
