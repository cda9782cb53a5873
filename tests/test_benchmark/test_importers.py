"""Real-dataset importers on tiny fixtures written in the sources' exact formats at test time.

DQN-Replay: a Dopamine `replay_logs/` folder (gzip'ed np.save arrays per checkpoint, written by a
ring buffer that pads each episode with 3 zero rows, as Dopamine's does). D4RL: an hdf5 file with
the top-level datasets D4RL ships. Minari: local datasets written by `minari` itself, in its hdf5
and arrow formats. Each fixture frame encodes (checkpoint, episode, step), so a
sampled trajectory can be traced back to the episode it came from.
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from benchmark import config, dataset_stage, datasets, importers, manifest
from benchmark.errors import BenchmarkError
from benchmark.specs import DatasetSpec

REPO = Path(__file__).resolve().parents[2]
CAPACITY = 300  # rows per fixture buffer (the real ones hold 1M)


@dataclass
class FakeDopamineBuffer:
    """Dopamine's OutOfGraphReplayBuffer `add` logic: ring storage, zero padding per episode."""

    capacity: int
    store: dict[str, np.ndarray] = field(init=False)
    add_count: int = 0

    def __post_init__(self) -> None:
        self.store = {
            "observation": np.zeros((self.capacity, 84, 84), np.uint8),
            "action": np.zeros(self.capacity, np.int32),
            "reward": np.zeros(self.capacity, np.float32),
            "terminal": np.zeros(self.capacity, np.uint8),
        }

    def _add(self, observation: np.ndarray, action: int, reward: float, terminal: int) -> None:
        cursor = self.add_count % self.capacity
        for name, value in zip(self.store, (observation, action, reward, terminal), strict=True):
            self.store[name][cursor] = value
        self.add_count += 1

    def add(self, observation: np.ndarray, action: int, reward: float, terminal: int) -> None:
        cursor = self.add_count % self.capacity
        if self.add_count == 0 or self.store["terminal"][cursor - 1] == 1:
            for _ in range(3):  # stack_size - 1 zero transitions
                self._add(np.zeros((84, 84), np.uint8), 0, 0.0, 0)
        self._add(observation, action, reward, terminal)


def frame(checkpoint: int, episode: int, step: int) -> np.ndarray:
    image = np.zeros((84, 84), np.uint8)
    image[0, :5] = [checkpoint + 1, episode // 256, episode % 256, step // 256, step % 256]
    return image


def decode(frames: np.ndarray) -> np.ndarray:
    """(checkpoint, episode, step) of each stored frame."""
    f = frames[:, 0, :5].astype(np.int64)
    return np.stack([f[:, 0] - 1, f[:, 1] * 256 + f[:, 2], f[:, 3] * 256 + f[:, 4]], axis=1)


@dataclass
class Replay:
    folder: Path
    episodes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]  # (checkpoint, episode) -> actions, rewards
    buffers: dict[int, FakeDopamineBuffer]


def save_gz(path: Path, array: np.ndarray) -> None:
    with gzip.open(path, "wb") as f:  # Dopamine: np.save into a gzip.GzipFile
        np.save(f, array, allow_pickle=False)


def write_checkpoint(folder: Path, checkpoint: int, buffer: FakeDopamineBuffer) -> None:
    for name, array in buffer.store.items():
        save_gz(importers.replay_file(folder, name, checkpoint), array)
    save_gz(importers.replay_file(folder, "add_count", checkpoint), np.array(buffer.add_count))
    cursor = buffer.add_count % buffer.capacity
    invalid = np.array([(cursor - 1 + i) % buffer.capacity for i in range(5)])  # stack 4 + horizon 1
    save_gz(importers.replay_file(folder, "invalid_range", checkpoint), invalid)


def write_replay(folder: Path, checkpoints: int = 3, seed: int = 0) -> Replay:
    """Checkpoint 0 half full (starts at row 0); later ones wrapped once or more, ending mid-episode."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    episodes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    buffers = {}
    episode = 0
    for checkpoint in range(checkpoints):
        buffer = FakeDopamineBuffer(CAPACITY)
        target = CAPACITY // 2 if checkpoint == 0 else CAPACITY * checkpoint + 37
        while buffer.add_count < target:
            length = int(rng.integers(4, 30))
            actions = rng.integers(0, 4, size=length)
            rewards = rng.choice([-1.0, 0.0, 0.0, 1.0], size=length).astype(np.float32)
            unfinished = buffer.add_count + length + 3 > target and checkpoint > 0
            for step in range(length):
                last = step == length - 1 and not unfinished
                buffer.add(frame(checkpoint, episode, step), int(actions[step]), float(rewards[step]), int(last))
            episodes[(checkpoint, episode)] = (actions, rewards)
            episode += 1
        write_checkpoint(folder, checkpoint, buffer)
        buffers[checkpoint] = buffer
    return Replay(folder, episodes, buffers)


@pytest.fixture
def replay(tmp_path: Path) -> Replay:
    return write_replay(tmp_path / "mirror" / "dqn-replay" / "Breakout" / "1" / "replay_logs")


def trajectories(arrays: dict[str, np.ndarray]) -> list[slice]:
    ends = np.flatnonzero((arrays["terminals"] > 0) | (arrays["timeouts"] > 0))
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [slice(int(s), int(e) + 1) for s, e in zip(starts, ends, strict=True)]


def assert_one_line(error: pytest.ExceptionInfo[BenchmarkError], *parts: str) -> None:
    message = str(error.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


# --- DQN-Replay --------------------------------------------------------------------------------


def test_read_dqn_replay_returns_the_stored_arrays(replay: Replay) -> None:
    arrays = importers.read_dqn_replay(replay.folder, 1)
    buffer = replay.buffers[1]
    for name, expected in buffer.store.items():
        np.testing.assert_array_equal(arrays[name], expected)
        assert arrays[name].dtype == expected.dtype
    assert int(arrays["add_count"]) == buffer.add_count
    assert arrays["invalid_range"].shape == (5,)


def test_1pct_sample_is_whole_trajectories_from_the_last_buffers(replay: Replay) -> None:
    arrays, record = importers.sample_dqn_replay_1pct(replay.folder, 250, 2, 2, seed=0, last_checkpoint=2)
    assert {k: v.dtype for k, v in arrays.items()} == {
        "observations": np.uint8,
        "actions": np.int64,
        "rewards": np.float32,
        "terminals": np.float32,
        "timeouts": np.float32,
    }
    assert len(arrays["rewards"]) == 250 and arrays["observations"].shape == (250, 84, 84)
    origin = decode(arrays["observations"])
    assert set(origin[:, 0]) <= {1, 2}  # only the last num_buffers=2 checkpoints
    assert set(record["transitions_per_checkpoint"]) <= {"1", "2"}
    pieces = trajectories(arrays)
    assert len(pieces) == record["trajectories"]
    seen = set()
    for k, piece in enumerate(pieces):
        checkpoint, episode, steps = origin[piece, 0], origin[piece, 1], origin[piece, 2]
        assert len(set(checkpoint)) == 1 and len(set(episode)) == 1
        key = (int(checkpoint[0]), int(episode[0]))
        assert key not in seen
        seen.add(key)
        np.testing.assert_array_equal(steps, np.arange(len(steps)))  # from its first step, no padding
        actions, rewards = replay.episodes[key]
        np.testing.assert_array_equal(arrays["actions"][piece], actions[: len(steps)])
        np.testing.assert_array_equal(arrays["rewards"][piece], rewards[: len(steps)])
        last = piece.stop - 1
        if arrays["terminals"][last]:
            assert len(steps) == len(actions) and not arrays["timeouts"][last]
        else:  # only the trajectory crossing num_steps is cut
            assert k == len(pieces) - 1 and record["last_trajectory_cut"]
    assert sum(visit[2] for visit in record["visits"]) == 250
    assert all(visit[1] <= 2 for visit in record["visits"])  # trajectories_per_buffer


def test_1pct_sample_is_deterministic_for_a_seed(replay: Replay) -> None:
    def draw(seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return importers.sample_dqn_replay_1pct(replay.folder, 200, 3, 1, seed=seed, last_checkpoint=2)

    (first, first_record), (again, again_record), (_, other_record) = draw(7), draw(7), draw(8)
    for name in datasets.FIELDS:
        np.testing.assert_array_equal(first[name], again[name])
    assert first_record == again_record
    assert other_record["visits"] != first_record["visits"]


def test_episodes_at_the_step_cap_are_timeouts(replay: Replay) -> None:
    arrays, _ = importers.sample_dqn_replay_1pct(replay.folder, 100, 1, 3, seed=0, last_checkpoint=2)
    pieces = trajectories(arrays)
    cap = pieces[0].stop - pieces[0].start
    capped, record = importers.sample_dqn_replay_1pct(
        replay.folder, 100, 1, 3, seed=0, last_checkpoint=2, episode_step_cap=cap
    )
    assert capped["timeouts"][pieces[0].stop - 1] == 1 and capped["terminals"][pieces[0].stop - 1] == 0
    assert record["step_cap_timeouts"] >= 1


def test_asking_more_than_the_buffers_hold_fails_in_one_line(replay: Replay) -> None:
    with pytest.raises(BenchmarkError) as error:
        importers.sample_dqn_replay_1pct(replay.folder, 10_000, 2, 10, seed=0, last_checkpoint=2)
    assert_one_line(error, str(replay.folder), "transitions=10000")


def dqn_spec(mirror: Path, **options: int) -> DatasetSpec:
    defaults = {"transitions": 300, "num_buffers": 2, "trajectories_per_buffer": 3, "last_checkpoint": 2}
    return DatasetSpec(
        suite="atari",
        env="breakout",
        name="dqn-replay-1pct",
        source="dqn-replay",
        seed=123,
        mirror_path=str(mirror / "dqn-replay" / "breakout"),  # the bucket's folder is Breakout/
        behaviour=None,
        options={**defaults, **options},
    )


def test_generate_imports_dqn_replay_into_a_loadable_dataset(replay: Replay, tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    dataset_stage.generate(dqn_spec(tmp_path / "mirror"), folder, folder / "logs")
    loaded = datasets.load(folder)
    card = loaded.card
    assert set(card["sha256"]) == {f"{name}.npy" for name in datasets.FIELDS}
    assert card["dataset_sha256"] == loaded.sha256
    assert card["source"] == "dqn-replay" and card["replay_folder"] == str(replay.folder)
    assert card["action_size"] == 4 and card["action_meanings"] == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert card["protocol"]["transitions"] == 300 and card["protocol"]["run"] == 1
    assert card["sampled"]["mirror_files"] and card["rewards_clipped"]
    assert "behaviour_normalized_return" not in card  # clipped returns are not game scores
    assert loaded.observations.shape == (300, 84, 84) and loaded.actions.dtype == np.int64


def test_missing_mirror_names_the_expected_path_and_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError) as error:
        dataset_stage.generate(dqn_spec(tmp_path / "nowhere"), tmp_path / "dataset", tmp_path / "logs")
    assert_one_line(error, str(tmp_path / "nowhere" / "dqn-replay" / "breakout" / "1" / "replay_logs"), "gs://")


def test_missing_checkpoint_file_is_named(replay: Replay) -> None:
    path = importers.replay_file(replay.folder, "observation", 2)
    path.unlink()
    with pytest.raises(BenchmarkError) as error:
        importers.sample_dqn_replay_1pct(replay.folder, 50, 1, 2, seed=0, last_checkpoint=2)
    assert_one_line(error, str(path), "'observation'", "gs://atari-replay-datasets/dqn")


def corrupt_nan_reward(folder: Path) -> tuple[Path, str]:
    reward = importers.read_dqn_replay(folder, 2)["reward"]
    reward[5] = np.nan
    path = importers.replay_file(folder, "reward", 2)
    save_gz(path, reward)
    return path, "'reward'"


def corrupt_truncate(folder: Path) -> tuple[Path, str]:
    path = importers.replay_file(folder, "observation", 2)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path, "'observation'"


def corrupt_shape(folder: Path) -> tuple[Path, str]:
    path = importers.replay_file(folder, "terminal", 2)
    save_gz(path, np.zeros((CAPACITY, 2), np.uint8))
    return path, "'terminal'"


def corrupt_dtype(folder: Path) -> tuple[Path, str]:
    path = importers.replay_file(folder, "observation", 2)
    save_gz(path, np.zeros((CAPACITY, 84, 84), np.float32))
    return path, "'observation'"


@pytest.mark.parametrize("corrupt", [corrupt_nan_reward, corrupt_truncate, corrupt_shape, corrupt_dtype])
def test_bad_replay_files_are_named_with_their_field(replay: Replay, corrupt: Any) -> None:
    path, name = corrupt(replay.folder)
    with pytest.raises(BenchmarkError) as error:
        importers.sample_dqn_replay_1pct(replay.folder, 50, 1, 2, seed=0, last_checkpoint=2)
    assert_one_line(error, str(path), name)


# --- D4RL --------------------------------------------------------------------------------------


def write_d4rl(path: Path, n: int = 250, obs_dim: int = 11, act_dim: int = 3, **override: np.ndarray) -> dict:
    """A D4RL-style file: float32 arrays, bool flags, episodes of 60 steps (a timeout every 100th),
    data ending mid-episode, plus the extra datasets real files carry."""
    rng = np.random.default_rng(0)
    data: dict[str, np.ndarray] = {
        "observations": rng.normal(size=(n, obs_dim)).astype(np.float32),
        "actions": rng.uniform(-1, 1, size=(n, act_dim)).astype(np.float32),
        "rewards": rng.normal(size=n).astype(np.float32),
        "terminals": np.zeros(n, bool),
        "timeouts": np.zeros(n, bool),
    }
    data["terminals"][59::60] = True
    data["timeouts"][99::100] = True
    data["terminals"][-1] = data["timeouts"][-1] = False
    data.update(override)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for name, array in data.items():
            f.create_dataset(name, data=array)
        f.create_dataset("next_observations", data=data["observations"])
        f.create_dataset("infos/qpos", data=np.zeros((n, 6), np.float32))
    return data


def test_read_d4rl_hdf5_returns_the_stored_arrays(tmp_path: Path) -> None:
    data = write_d4rl(tmp_path / "hopper_medium-v2.hdf5")
    arrays = importers.read_d4rl_hdf5(tmp_path / "hopper_medium-v2.hdf5")
    for name in ("observations", "actions", "rewards"):
        np.testing.assert_array_equal(arrays[name], data[name])
    assert all(arrays[name].dtype == np.float32 for name in datasets.FIELDS)
    np.testing.assert_array_equal(arrays["terminals"], data["terminals"].astype(np.float32))
    expected_timeouts = data["timeouts"].astype(np.float32)
    expected_timeouts[-1] = 1.0  # the data ends mid-episode: cut by the end of data
    np.testing.assert_array_equal(arrays["timeouts"], expected_timeouts)


def d4rl_spec(mirror: Path) -> DatasetSpec:
    return DatasetSpec(
        suite="mujoco",
        env="hopper",
        name="medium",
        source="d4rl",
        seed=0,
        mirror_path=str(mirror / "d4rl" / "hopper_medium-v2.hdf5"),
        behaviour=None,
        options={},
    )


def test_generate_imports_d4rl_into_a_loadable_dataset(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_d4rl(mirror / "d4rl" / "hopper_medium-v2.hdf5")
    folder = tmp_path / "dataset"
    dataset_stage.generate(d4rl_spec(mirror), folder, folder / "logs")
    loaded = datasets.load(folder)
    card = loaded.card
    assert set(card["sha256"]) == {f"{name}.npy" for name in datasets.FIELDS}
    assert card["source"] == "d4rl" and card["action_size"] == 3
    assert card["mirror_file"]["sha256"] == manifest.sha256(mirror / "d4rl" / "hopper_medium-v2.hdf5")
    assert card["last_row_cut_by_end_of_data"] and "next_observations" in card["ignored_fields"]
    assert "behaviour_normalized_return" in card
    assert loaded.observations.shape == (250, 11)


def test_d4rl_file_of_another_task_is_refused(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_d4rl(mirror / "d4rl" / "hopper_medium-v2.hdf5", obs_dim=17, act_dim=6)  # halfcheetah's widths
    with pytest.raises(BenchmarkError) as error:
        dataset_stage.generate(d4rl_spec(mirror), tmp_path / "dataset", tmp_path / "logs")
    assert_one_line(error, "hopper_medium-v2.hdf5", "'observations'")


@pytest.mark.parametrize("value", [1.5, -7.0])
def test_d4rl_actions_outside_the_action_box_are_refused_at_import(tmp_path: Path, value: float) -> None:
    mirror = tmp_path / "mirror"
    actions = np.random.default_rng(0).uniform(-1, 1, size=(250, 3)).astype(np.float32)
    actions[42, 1] = value
    write_d4rl(mirror / "d4rl" / "hopper_medium-v2.hdf5", actions=actions)
    with pytest.raises(BenchmarkError) as error:
        dataset_stage.generate(d4rl_spec(mirror), tmp_path / "dataset", tmp_path / "logs")
    assert_one_line(
        error, "hopper_medium-v2.hdf5: field 'actions': holds actions outside hopper's action box", "row 42"
    )
    assert not (tmp_path / "dataset").exists()  # nothing written


def test_missing_d4rl_file_names_the_expected_path(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError) as error:
        dataset_stage.generate(d4rl_spec(tmp_path / "mirror"), tmp_path / "dataset", tmp_path / "logs")
    assert_one_line(error, str(tmp_path / "mirror" / "d4rl" / "hopper_medium-v2.hdf5"), "Farama-Foundation/D4RL")


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"rewards": np.where(np.arange(250) == 9, np.nan, 0.0).astype(np.float32)}, "'rewards'"),
        ({"rewards": np.zeros((250, 1), np.float32)}, "'rewards'"),
        ({"observations": np.zeros(250, np.float32)}, "'observations'"),
        ({"timeouts": np.zeros(249, bool)}, "'timeouts'"),
    ],
)
def test_bad_d4rl_fields_are_named(tmp_path: Path, override: dict[str, np.ndarray], name: str) -> None:
    path = tmp_path / "hopper_medium-v2.hdf5"
    write_d4rl(path, **override)
    with pytest.raises(BenchmarkError) as error:
        importers.read_d4rl_hdf5(path)
    assert_one_line(error, str(path), name)


# --- the paper preset ---------------------------------------------------------------------------


def test_paper_preset_points_every_dataset_at_the_mirror() -> None:
    paper = config.load(REPO / "config" / "paper.yaml")
    spec = config.dataset_spec(paper, "atari", "qbert", "dqn-replay-1pct")
    assert spec.mirror_path == "/data/offline-rl-mirror/dqn-replay/qbert"
    assert spec.options["transitions"] == 500_000 and spec.options["trajectories_per_buffer"] == 10
    spec = config.dataset_spec(paper, "mujoco", "walker2d", "medium-replay")
    assert spec.mirror_path == "/data/offline-rl-mirror/d4rl/walker2d_medium_replay-v2.hdf5"
    assert paper.seeds == (123, 231, 312)


def test_mirror_source_keys_are_checked(tmp_path: Path) -> None:
    paper = config.read(REPO / "config" / "paper.yaml")
    paper["suites"]["mujoco"]["datasets"]["medium"]["num_buffers"] = 5
    with pytest.raises(BenchmarkError, match=r"medium\.num_buffers': not used by source 'd4rl'"):
        config.validate(paper)


# --- Minari ------------------------------------------------------------------------------------


def write_minari_episodes(home: Path, dataset_id: str, episodes: list[dict[str, np.ndarray]], data_format: str) -> Path:
    """A local Minari dataset written by `minari` itself (in `home`, as MINARI_DATASETS_PATH), in
    its hdf5 or arrow format, from episodes whose observations carry the final observation (one
    row more than actions); its folder. Hopper's spaces: 11 observations, 3 actions in [-1, 1]."""
    import gymnasium as gym
    import minari
    from minari.data_collector import EpisodeBuffer

    observation_space = gym.spaces.Box(-np.inf, np.inf, (11,), np.float64)
    # the arrow format stores each array as its space's dtype, and refuses another
    buffers = [
        EpisodeBuffer(id=i, **{**episode, "observations": episode["observations"].astype(observation_space.dtype)})
        for i, episode in enumerate(episodes)
    ]
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setenv("MINARI_DATASETS_PATH", str(home))
        warnings.simplefilter("ignore", UserWarning)  # minari warns that a fixture names no env: it has none
        minari.create_dataset_from_buffers(
            dataset_id,
            buffers,
            observation_space=observation_space,
            action_space=gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
            algorithm_name="random",
            author="test",
            author_email="test@example.org",
            code_permalink="https://example.org",
            description="a test fixture",
            data_format=data_format,
        )
    return home / dataset_id


def write_minari(
    home: Path,
    dataset_id: str = "mujoco/hopper/test-v0",
    lengths: tuple[int, ...] = (30, 45, 20),
    terminated: tuple[bool, ...] = (True, False, True),
    data_format: str = "hdf5",
) -> list[dict[str, np.ndarray]]:
    """Random Hopper episodes of `lengths` steps, each ending terminated or truncated, as a local
    Minari dataset (write_minari_episodes); the episodes."""
    rng = np.random.default_rng(1)
    episodes = []
    for steps, ended in zip(lengths, terminated, strict=True):
        last = np.eye(1, steps, steps - 1, dtype=bool)[0]
        episodes.append(
            {
                "observations": rng.normal(size=(steps + 1, 11)),
                "actions": rng.uniform(-1, 1, size=(steps, 3)).astype(np.float32),
                "rewards": rng.normal(size=steps),
                "terminations": last if ended else np.zeros(steps, bool),
                "truncations": np.zeros(steps, bool) if ended else last,
            }
        )
    write_minari_episodes(home, dataset_id, episodes, data_format)
    return episodes


@pytest.mark.parametrize("data_format", ["hdf5", "arrow"])
def test_minari_dataset_is_imported_episode_by_episode(tmp_path: Path, data_format: str) -> None:
    mirror = tmp_path / "mirror"
    episodes = write_minari(mirror / "minari", data_format=data_format)
    spec = replace(d4rl_spec(mirror), source="minari", mirror_path=str(mirror / "minari/mujoco/hopper/test-v0"))
    folder = tmp_path / "dataset"
    loaded = dataset_stage.generate(spec, folder, folder / "logs")
    np.testing.assert_allclose(loaded.observations[:30], episodes[0]["observations"][:-1].astype(np.float32))
    np.testing.assert_allclose(loaded.rewards[30:75], episodes[1]["rewards"].astype(np.float32))
    ends = np.flatnonzero(loaded.terminals + loaded.timeouts)
    assert list(ends) == [29, 74, 94]
    assert list(loaded.terminals[ends]) == [1.0, 0.0, 1.0]  # the second episode was truncated
    assert loaded.card["minari_dataset_id"] == "mujoco/hopper/test-v0"
    data = mirror / "minari/mujoco/hopper/test-v0/data"
    if data_format == "hdf5":
        assert loaded.card["mirror_file"]["sha256"] == manifest.sha256(data / "main_data.hdf5")
    else:  # a folder per episode: every file of it recorded
        recorded = {Path(file["path"]): file["sha256"] for file in loaded.card["mirror_files"]}
        assert recorded == {path: manifest.sha256(path) for path in data.rglob("*") if path.is_file()}
    direct = importers.read_minari(mirror / "minari/mujoco/hopper/test-v0")
    np.testing.assert_array_equal(direct["actions"], loaded.actions)
    assert datasets.load(folder).sha256 == loaded.card["dataset_sha256"]


def test_the_two_minari_formats_import_to_the_same_dataset(tmp_path: Path) -> None:
    cards = []
    for data_format in ("hdf5", "arrow"):
        write_minari(tmp_path / data_format, data_format=data_format)
        spec = replace(
            d4rl_spec(tmp_path), source="minari", mirror_path=str(tmp_path / data_format / "mujoco/hopper/test-v0")
        )
        cards.append(dataset_stage.generate(spec, tmp_path / f"{data_format}-dataset", tmp_path / "logs").card)
    assert cards[0]["dataset_sha256"] == cards[1]["dataset_sha256"]


def test_missing_minari_dataset_names_the_expected_file(tmp_path: Path) -> None:
    spec = replace(d4rl_spec(tmp_path), source="minari", mirror_path=str(tmp_path / "minari/hopper-v0"))
    with pytest.raises(BenchmarkError) as error:
        dataset_stage.generate(spec, tmp_path / "dataset", tmp_path / "logs")
    assert_one_line(error, str(tmp_path / "minari/hopper-v0/data/metadata.json"), "minari download")
