"""Offline datasets: one storage format, cards with hashes, integrity checks.

On disk a dataset is a folder of plain `.npy` files (openable with numpy alone, memory-mapped on
load, no pickle) and a `dataset.json` card:

    observations.npy  (N, 84, 84) uint8 single Atari frames | (N, obs_dim) float32
    actions.npy       (N,) int64 | (N, act_dim) float32
    rewards.npy       (N,) float32
    terminals.npy     (N,) float32   1 where the episode ended by termination
    timeouts.npy      (N,) float32   1 where it was cut (time limit, end of data)

Atari frames are stored once and stacked at sample time (d3rlpy's frame-stack pickers, through
`baselines._d3rlpy.to_d3rlpy`), not stored as four stacked copies.

Every load checks the folder's manifest (benchmark.manifest: every file's sha256, the card's
too) and the files' contents (finite numbers, dtypes, actions within range); a run's load also
checks that the card is the run's dataset and that observations and actions fit the env's spaces.
Contents are checked chunk by chunk on the memory map, so a large dataset is never copied into
memory whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import io, manifest, paths
from benchmark.envs import EnvSpec
from benchmark.errors import BenchmarkError
from benchmark.manifest import sha256

FIELDS = ("observations", "actions", "rewards", "terminals", "timeouts")
# On a generated dataset's card: the indices of the episodes its transition budget cut short (the
# last of each stretch of rollouts); an imported dataset's card has none.
BUDGET_CUT = "budget_cut_episode_indices"
ACTION_TOLERANCE = 1e-3  # continuous actions may pass the action box by this much (float rounding of imported data)
_CHUNK_BYTES = 1 << 26  # content checks read 64 MiB of a memory-mapped array at a time


def dataset_sha256(card: dict[str, Any]) -> str:
    """One hash for the whole dataset: the hash of its files' hashes, in field order."""
    joined = "".join(card["sha256"][f"{field}.npy"] for field in FIELDS)
    return hashlib.sha256(joined.encode()).hexdigest()


@dataclass
class OfflineDataset:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminals: np.ndarray
    timeouts: np.ndarray
    card: dict[str, Any]

    @property
    def sha256(self) -> str:
        return dataset_sha256(self.card)

    def episode_ends(self) -> np.ndarray:
        return np.flatnonzero((self.terminals > 0) | (self.timeouts > 0))

    def episode_returns(self) -> np.ndarray:
        ends = self.episode_ends()
        cumulative = np.concatenate([[0.0], np.cumsum(self.rewards, dtype=np.float64)])
        starts = np.concatenate([[0], ends[:-1] + 1])
        return cumulative[ends + 1] - cumulative[starts]


def load(folder: Path, verify: bool = True, env: EnvSpec | None = None, name: str | None = None) -> OfflineDataset:
    """Memory-map a stored dataset; with `verify`, first every file of the folder must match its
    manifest. With the run's `env` and dataset `name`: the card must be that dataset of that env,
    and its observations and actions must fit the env's spaces."""
    card_path = folder / paths.DATASET_CARD
    if not card_path.exists():
        raise BenchmarkError(f"{card_path}: dataset card missing (was the dataset stage run?)")
    if verify:
        manifest.verify(folder, reads=[paths.DATASET_CARD, *(f"{field}.npy" for field in FIELDS)])
    card = io.read_json(card_path)
    if not isinstance(card, dict) or not isinstance(card.get("sha256"), dict):
        raise BenchmarkError(f"{card_path}: not a dataset card (no 'sha256' of the files)")
    if env is not None:
        made_for = "/".join(str(card.get(field)) for field in ("suite", "env", "name"))
        wanted = f"{env.suite}/{env.env}/{name}"
        if made_for != wanted:
            raise BenchmarkError(f"{card_path}: the card is of dataset {made_for}, not of the run's {wanted}")
    arrays: dict[str, np.ndarray] = {}
    for field in FIELDS:
        path = folder / f"{field}.npy"
        if not path.exists():
            raise BenchmarkError(f"{path}: dataset file missing")
        try:
            arrays[field] = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            raise BenchmarkError(f"{path}: not a readable .npy array ({error})") from error
    dataset = OfflineDataset(card=card, **arrays)
    validate(dataset, folder)
    if env is not None:
        fits(dataset, folder, env)
    return dataset


def _chunks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) of `array`, about _CHUNK_BYTES at a time."""
    row_bytes = max(1, array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64)))
    rows = max(1, _CHUNK_BYTES // row_bytes)
    for start in range(0, len(array), rows):
        yield start, np.asarray(array[start : start + rows])


def _first_bad_row(array: np.ndarray, bad: Callable[[np.ndarray], np.ndarray]) -> int | None:
    """The first row holding an element for which `bad` (elementwise) is true, or None."""
    for start, chunk in _chunks(array):
        rows = bad(chunk).reshape(len(chunk), -1).any(axis=1)
        if rows.any():
            return start + int(np.argmax(rows))
    return None


def _check_rows(file: str, array: np.ndarray, bad: Callable, what: str) -> None:
    row = _first_bad_row(array, bad)
    if row is not None:
        raise BenchmarkError(f"{file}: {what} (first at row {row})")


def fits(dataset: OfflineDataset, where: Path | str, env: EnvSpec, named: Callable[[str], str] | None = None) -> None:
    """Observations and actions fit the env's spaces (Atari rows are single frames: the stack's
    last two dimensions); one line naming file and field otherwise. `named(field)` is how the
    line names a field (default: its .npy file in folder `where`; importers name the file read)."""
    name = named or (lambda field: f"{where}/{field}.npy")
    observations, actions = dataset.observations, dataset.actions
    row_shape = env.observation_shape[1:] if env.suite == "atari" else env.observation_shape
    dtype = np.uint8 if env.suite == "atari" else np.float32
    if observations.shape[1:] != row_shape or observations.dtype != dtype:
        raise BenchmarkError(
            f"{name('observations')}: rows of shape {observations.shape[1:]} {observations.dtype}, "
            f"{env.env} observes {row_shape} {np.dtype(dtype)}"
        )
    if env.discrete:
        if actions.ndim != 1:
            raise BenchmarkError(f"{name('actions')}: shape {actions.shape}, {env.env} takes one discrete action (N,)")
        _check_rows(
            name("actions"),
            actions,
            lambda a: a >= env.action_size,
            f"holds actions outside {env.env}'s 0..{env.action_size - 1}",
        )
        return
    if actions.ndim != 2 or actions.shape[1] != env.action_size:
        raise BenchmarkError(
            f"{name('actions')}: shape {actions.shape}, {env.env} takes (N, {env.action_size}) actions"
        )
    low = np.asarray(env.action_low, np.float32) - ACTION_TOLERANCE
    high = np.asarray(env.action_high, np.float32) + ACTION_TOLERANCE
    _check_rows(
        name("actions"),
        actions,
        lambda a: (a < low) | (a > high),
        f"holds actions outside {env.env}'s action box [{min(env.action_low)}, {max(env.action_high)}]",
    )


def validate(dataset: OfflineDataset, where: Path | str) -> None:
    """Shapes, dtypes, finiteness and episode ends; one line naming file and field on failure."""
    n = len(dataset.rewards)
    for field in FIELDS:
        array = getattr(dataset, field)
        if len(array) != n:
            raise BenchmarkError(f"{where}/{field}.npy: {len(array)} rows, rewards has {n}")
    if dataset.observations.dtype not in (np.uint8, np.float32):
        raise BenchmarkError(f"{where}/observations.npy: dtype {dataset.observations.dtype}, expected uint8 or float32")
    for field in ("rewards", "terminals", "timeouts"):
        array = getattr(dataset, field)
        if array.ndim != 1:
            raise BenchmarkError(f"{where}/{field}.npy: shape {array.shape}, expected (N,)")
    if dataset.rewards.dtype.kind != "f":
        raise BenchmarkError(f"{where}/rewards.npy: dtype {dataset.rewards.dtype}, expected float32")
    not_finite = lambda a: ~np.isfinite(a)  # noqa: E731
    _check_rows(f"{where}/rewards.npy", dataset.rewards, not_finite, "contains NaN or inf")
    if dataset.observations.dtype.kind == "f":
        _check_rows(f"{where}/observations.npy", dataset.observations, not_finite, "contains NaN or inf")
    actions = dataset.actions
    if actions.ndim == 1:  # discrete: indices into the game's actions
        if actions.dtype.kind not in "iu":
            raise BenchmarkError(f"{where}/actions.npy: dtype {actions.dtype}, expected integers (discrete actions)")
        size = dataset.card.get("action_size")
        if not isinstance(size, int):
            raise BenchmarkError(f"{where}/{paths.DATASET_CARD}: no integer action_size, which discrete actions need")
        _check_rows(
            f"{where}/actions.npy", actions, lambda a: (a < 0) | (a >= size), f"holds actions outside 0..{size - 1}"
        )
    elif actions.ndim == 2 and actions.dtype.kind == "f":
        _check_rows(f"{where}/actions.npy", actions, not_finite, "contains NaN or inf")
    else:
        raise BenchmarkError(
            f"{where}/actions.npy: shape {actions.shape} {actions.dtype}; expected (N,) integers or (N, dims) floats"
        )
    if n == 0:
        raise BenchmarkError(f"{where}/rewards.npy: no transitions (the dataset is empty)")
    if not (dataset.terminals[-1] > 0 or dataset.timeouts[-1] > 0):
        raise BenchmarkError(f"{where}/terminals.npy: the last episode has no end flag (terminal or timeout)")


def write(
    folder: Path,
    arrays: dict[str, np.ndarray],
    card: dict[str, Any],
    normalize: Callable[[float], float] | None = None,
) -> OfflineDataset:
    """Write the arrays atomically, then the card (with their hashes) last, atomically. `arrays`
    may hold BUDGET_CUT (`concatenate`'s): it goes on the card, not into a file."""
    folder.mkdir(parents=True, exist_ok=True)
    for field in FIELDS:
        io.atomic_write(folder / f"{field}.npy", lambda f, a=arrays[field]: np.save(f, a, allow_pickle=False))
    if BUDGET_CUT in arrays:
        card = card | {BUDGET_CUT: np.flatnonzero(arrays[BUDGET_CUT]).tolist()}
    return seal(folder, OfflineDataset(card=card, **{field: arrays[field] for field in FIELDS}), normalize)


def seal(folder: Path, dataset: OfflineDataset, normalize: Callable[[float], float] | None = None) -> OfflineDataset:
    """Check the dataset whose files are in `folder`, then write its card (summary, hashes) and,
    last, its manifest: from then on the dataset exists. For writers that stream their own files
    (too big for RAM)."""
    validate(dataset, folder)
    hashes = {f"{field}.npy": sha256(folder / f"{field}.npy") for field in FIELDS}
    card = {**dataset.card, **describe(dataset, normalize), "sha256": hashes}
    card["dataset_sha256"] = dataset_sha256(card)
    io.write_json(folder / paths.DATASET_CARD, card)
    manifest.write(folder, known=hashes)
    dataset.card = card
    return dataset


def describe(dataset: OfflineDataset, normalize: Callable[[float], float] | None = None) -> dict[str, Any]:
    """The quality summary on a card: returns, their trend along the buffer, the actions taken
    (histogram if discrete, per-dimension mean and std if continuous)."""
    returns = dataset.episode_returns()
    deciles = [float(chunk.mean()) for chunk in np.array_split(returns, min(10, len(returns)))]
    cut = np.zeros(len(returns), bool)
    cut[dataset.card.get(BUDGET_CUT, [])] = True
    # The behaviour's return is over complete episodes: one cut short by the transition budget
    # scores less than its policy does (Hopper medium: 28.89 with it, 29.19 without). Data made
    # of nothing but cut episodes keeps them all (and says so).
    complete = returns[~cut] if (~cut).any() else returns
    summary: dict[str, Any] = {
        "transitions": len(dataset.rewards),
        "episodes": len(returns),
        "complete_episodes": int((~cut).sum()),
        "episode_return": {
            "over": "complete episodes" if (~cut).any() else "every episode (none complete)",
            "min": float(complete.min()),
            "mean": float(complete.mean()),
            "max": float(complete.max()),
        },
        # the episodes the budget cut (their index among the episodes, their return), and the mean
        # return with them (what cards said before they were left out)
        "budget_cut_episodes": [{"episode": int(i), "return": float(returns[i])} for i in np.flatnonzero(cut)],
        "episode_return_mean_with_cut_episodes": float(returns.mean()),
        # Mean episode return in each tenth of the buffer, first to last: a replay-style
        # dataset shows it rising.
        "episode_return_along_buffer": deciles,
    }
    if normalize is not None:
        summary["behaviour_normalized_return"] = normalize(float(complete.mean()))
        summary["behaviour_normalized_return_with_cut_episodes"] = normalize(float(returns.mean()))
    if dataset.actions.ndim == 1:
        counts = np.bincount(dataset.actions, minlength=int(dataset.card["action_size"]))
        summary["action_histogram"] = counts.tolist()
    else:
        actions = np.asarray(dataset.actions, np.float64)
        summary["action_summary"] = {"mean": actions.mean(0).tolist(), "std": actions.std(0).tolist()}
    return summary


def concatenate(episodes: Iterable[Any]) -> dict[str, np.ndarray]:
    """Episodes (observations, actions, rewards, terminated, budget_cut) -> the stored arrays, and
    BUDGET_CUT: per episode, whether the transition budget cut it short (`write` puts it on the card)."""
    columns: dict[str, list[np.ndarray]] = {field: [] for field in FIELDS}
    cut = []
    for episode in episodes:
        cut.append(episode.budget_cut)
        length = len(episode.rewards)
        end = np.zeros(length, np.float32)
        end[-1] = 1.0
        columns["observations"].append(episode.observations)
        columns["actions"].append(episode.actions)
        columns["rewards"].append(episode.rewards.astype(np.float32))
        columns["terminals"].append(end if episode.terminated else np.zeros(length, np.float32))
        columns["timeouts"].append(np.zeros(length, np.float32) if episode.terminated else end)
    return {field: np.concatenate(parts) for field, parts in columns.items()} | {BUDGET_CUT: np.array(cut, bool)}
