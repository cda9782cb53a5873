"""Behaviour policies that generate the embedded datasets (no download needed).

Atari (discrete, single 84x84 frames logged):
- `scripted`: a controller that reads the ALE RAM (paddle and ball positions) and tracks the ball,
  mixed with epsilon-random actions; episodes cycle through a list of epsilons, so the dataset
  spans random to near-expert play. Games without a script fall back to uniform random play.
- `scripted-replay`: the same controller with epsilon annealed along the buffer, so returns rise
  along it as in an online learner's replay (DQN-Replay). A stand-in, because online DQN is too
  slow here: d3rlpy DQN runs at ~39 env steps/s on a CPU (1M steps ~ 7 h), so a CPU budget never
  gets it beyond random play.
- `dqn-online`: the real thing for presets with the budget: d3rlpy DoubleDQN learning online,
  every transition it logged (single frames; the agent acts on, and learns from, 4-frame stacks).
MuJoCo (D4RL style), all from ONE online SAC training per (task, behaviour config) (`train_sac`,
the workflow's `behaviour` rule), so the datasets of a task share their behaviour:
- `random`: uniform random actions;
- `sac-medium`: the SAC policy at step M; `sac-medium-replay`: its replay buffer up to step M;
- `sac-medium-expert`: half medium, half the policy at the end of the training.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from benchmark import datasets, io, manifest, paths, scores
from benchmark.envs import make_env, protocol_for

if TYPE_CHECKING:
    import gymnasium as gym

# d3rlpy and torch are imported inside the functions that use them: their import takes seconds,
# which every command importing this module (Snakemake's planning reads BEHAVIOUR_FILES) would
# otherwise pay.

# RAM addresses (Atari 2600 RAM, 128 bytes) and action indices of the minimal action sets.
# Breakout actions: NOOP, FIRE, RIGHT, LEFT. Pong: NOOP, FIRE, RIGHT(up), LEFT(down), ...


def _breakout(ram: np.ndarray) -> int:
    paddle_x, ball_x, ball_y = int(ram[72]), int(ram[99]), int(ram[101])
    if ball_y == 0:  # no ball in play: launch one
        return 1
    target = ball_x - 8  # paddle x is its left edge
    if paddle_x < target - 4:
        return 2
    if paddle_x > target + 4:
        return 3
    return 0


def _pong(ram: np.ndarray) -> int:
    paddle_y, ball_y = int(ram[51]), int(ram[54])
    if ball_y == 0:
        return 1
    target = ball_y - 6
    if paddle_y < target - 2:
        return 3
    if paddle_y > target + 2:
        return 2
    return 0


SCRIPTS: dict[str, Callable[[np.ndarray], int]] = {"breakout": _breakout, "pong": _pong}

# What the `behaviour` rule writes into paths.behaviour_dir(): the two policies (actor weights,
# torch state dicts), the replay buffer up to the medium step (a dataset folder) and a card.
MEDIUM_POLICY, EXPERT_POLICY, REPLAY, BEHAVIOUR_CARD = (
    "medium_policy.pt",
    "expert_policy.pt",
    "replay",
    paths.BEHAVIOUR_CARD,
)
BEHAVIOUR_FILES = (
    MEDIUM_POLICY,
    EXPERT_POLICY,
    *(f"{REPLAY}/{field}.npy" for field in datasets.FIELDS),
    f"{REPLAY}/{paths.DATASET_CARD}",
    f"{REPLAY}/{paths.MANIFEST}",
)


@dataclass
class Episode:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool  # False: cut by a time limit or by the dataset's size
    budget_cut: bool = False  # cut short by the dataset's transition budget (not by the env): incomplete


def scheduled(schedule: Sequence[float], progress: float) -> float:
    """A schedule's value at `progress` in [0, 1]: its values evenly spaced, linear in between."""
    return float(np.interp(progress, np.linspace(0.0, 1.0, len(schedule)), schedule))


def play(
    env: gym.Env, transitions: int, seed: int, policy_for: Callable[[int, float], Callable[[Any], Any]], desc: str
) -> Iterator[Episode]:
    """Episodes until `transitions` steps are logged (the last one is cut there).

    `policy_for(episode_index, progress)` gives each episode its policy (observation -> action);
    progress is the fraction of the budget logged before the episode starts."""
    logged = 0
    index = 0
    with tqdm(total=transitions, desc=desc, mininterval=5) as progress:
        while logged < transitions:
            act = policy_for(index, logged / transitions)
            obs, _ = env.reset(seed=seed * 100_003 + index)
            observations, actions, rewards = [], [], []
            while True:
                action = act(obs)
                observations.append(obs)
                actions.append(action)
                obs, reward, terminated, truncated, _ = env.step(action)
                rewards.append(reward)
                logged += 1
                progress.update(1)
                if terminated or truncated or logged >= transitions:
                    break
            ended_by_env = terminated or truncated
            observed = (np.stack(observations), np.asarray(actions), np.asarray(rewards, np.float32))
            yield Episode(*observed, terminated, budget_cut=not ended_by_env)
            index += 1
    env.close()


def scripted_atari_episodes(
    game: str, transitions: int, epsilons: list[float], seed: int, max_episode_frames: int, anneal: bool = False
) -> Iterator[tuple[Episode, float]]:
    """Episodes (with the epsilon that played them) until `transitions` steps are logged.

    Each episode's epsilon is the next of `epsilons` in turn, or with `anneal` the schedule's value
    at the episode's start along the buffer (first value at the start, last at the end)."""
    env = make_env("atari", game, protocol_for("atari", {"max_episode_frames": max_episode_frames}), stack=False)
    script = SCRIPTS.get(game)
    rng = np.random.default_rng(seed)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    played: list[float] = []

    def policy_for(index: int, progress: float) -> Callable[[Any], int]:
        if script is None:
            epsilon = 1.0
        elif anneal:
            epsilon = scheduled(epsilons, progress)
        else:
            epsilon = epsilons[index % len(epsilons)]
        played.append(epsilon)

        def act(_: Any) -> int:
            if script is None or rng.random() < epsilon:
                return int(rng.integers(n_actions))
            return script(env.unwrapped.ale.getRAM())  # type: ignore[attr-defined]

        return act

    for index, episode in enumerate(play(env, transitions, seed, policy_for, f"scripted {game}")):
        yield dataclasses.replace(episode, observations=episode.observations[:, 0]), played[index]


class _ScheduledEpsilonGreedy:
    """d3rlpy explorer (duck-typed: fit_online only calls `sample`): epsilon follows `scheduled`
    along the run, so the epsilons of `dqn-online` mean what they mean for `scripted-replay`."""

    def __init__(self, schedule: Sequence[float], steps: int, seed: int):
        self.schedule, self.steps, self.rng = schedule, steps, np.random.default_rng(seed)

    def sample(self, algo: Any, x: np.ndarray, step: int) -> np.ndarray:
        if self.rng.random() < scheduled(self.schedule, step / self.steps):
            return self.rng.integers(algo.action_size, size=len(x))  # no forward pass when exploring
        return algo.predict(x)


# Dopamine's DQN settings with Adam: target synced every 8000 env steps at one update per 4; the
# first update after 20k steps (a tenth of smaller budgets). Rewards are clipped for learning only.
DQN_SETTINGS = {"batch_size": 32, "learning_rate": 6.25e-5, "adam_eps": 1.5e-4, "target_update_interval": 2000}


def dqn_online_episodes(
    game: str,
    transitions: int,
    epsilons: list[float],
    seed: int,
    max_episode_frames: int,
    update_interval: int,
    log_dir: Path,
) -> tuple[list[Episode], dict[str, Any]]:
    """Every transition a DoubleDQN agent (d3rlpy, Nature CNN) logs while learning online, and
    the settings it learned with."""
    import d3rlpy

    d3rlpy.seed(seed)
    protocol = protocol_for("atari", {"max_episode_frames": max_episode_frames})
    env = make_env("atari", game, protocol)  # 4-frame stacks: what the agent sees
    env.reset(seed=seed)  # seeds the env's generator; fit_online's own resets continue it
    settings = {**DQN_SETTINGS, "update_interval": update_interval, "update_start_step": min(20_000, transitions // 10)}
    dqn = d3rlpy.algos.DoubleDQNConfig(
        batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        optim_factory=d3rlpy.optimizers.AdamFactory(eps=settings["adam_eps"]),
        target_update_interval=settings["target_update_interval"],
        observation_scaler=d3rlpy.preprocessing.PixelObservationScaler(),
        reward_scaler=d3rlpy.preprocessing.ClipRewardScaler(-1.0, 1.0),  # for learning; logged unclipped
    ).create(device="cpu:0")
    buffer = d3rlpy.dataset.ReplayBuffer(
        d3rlpy.dataset.InfiniteBuffer(),
        env=env,
        # The newest frame of each stack is logged, once; the picker restacks at sample time.
        writer_preprocessor=d3rlpy.dataset.LastFrameWriterPreprocess(),
        transition_picker=d3rlpy.dataset.FrameStackTransitionPicker(protocol.frame_stack),
        cache_size=max_episode_frames // protocol.frame_skip + 1,  # longest episode
    )
    dqn.fit_online(
        env,
        buffer,
        explorer=_ScheduledEpsilonGreedy(epsilons, transitions, seed),  # type: ignore[arg-type]
        n_steps=transitions,
        n_steps_per_epoch=max(1, transitions // 10),
        update_interval=update_interval,
        update_start_step=settings["update_start_step"],
        save_interval=transitions + 1,  # no d3rlpy checkpoints (pickles): the data is the product
        logger_adapter=d3rlpy.logging.FileAdapterFactory(root_dir=str(log_dir)),
        experiment_name="behaviour_dqn",
        with_timestamp=False,
        show_progress=True,
    )
    return _logged_episodes(buffer), settings


def _logged_episodes(buffer: Any) -> list[Episode]:
    """Every transition an online d3rlpy agent logged, in the stored dtypes (single Atari frames)."""
    episodes = []
    for episode in buffer.episodes:
        observations, actions = np.asarray(episode.observations), np.asarray(episode.actions)
        if observations.dtype == np.uint8:  # (T, 1, 84, 84): the last frame of each stack
            observations, actions = observations[:, 0], actions.reshape(-1).astype(np.int64)
        else:
            observations, actions = observations.astype(np.float32), actions.astype(np.float32)
        rewards = np.asarray(episode.rewards, np.float32).reshape(-1)
        episodes.append(Episode(observations, actions, rewards, bool(episode.terminated)))
    return episodes


SAC_SETTINGS = {"batch_size": 256, "hidden_units": [256, 256]}  # D4RL's behaviour SAC sizes


def _sac(seed: int) -> Any:
    """SAC with D4RL's behaviour sizes; the same for training and for loading a saved policy."""
    import d3rlpy

    d3rlpy.seed(seed)
    encoder = d3rlpy.models.VectorEncoderFactory(SAC_SETTINGS["hidden_units"])
    config = d3rlpy.algos.SACConfig(
        batch_size=SAC_SETTINGS["batch_size"], actor_encoder_factory=encoder, critic_encoder_factory=encoder
    )
    return config.create(device="cpu:0")


def train_sac(task: str, seed: int, steps: int, medium_step: int, update_interval: int, folder: Path) -> dict[str, Any]:
    """One online SAC training shared by a task's D4RL-style datasets; writes into `folder` the
    policy at `medium_step` ("medium"), the policy at the end ("expert"), the replay buffer up to
    `medium_step` (a dataset folder) and a card with the hashes. Returns the card."""
    import d3rlpy
    import torch

    started = time.time()
    env = make_env("mujoco", task, protocol_for("mujoco"))
    env.reset(seed=seed)  # seeds the env's generator; fit_online's own resets continue it
    env.action_space.seed(seed)  # its random warm-up steps
    sac = _sac(seed)
    buffer = d3rlpy.dataset.create_infinite_replay_buffer(env=env)
    warmup = min(1000, steps // 5)

    def save(name: str, algo: Any) -> None:
        io.atomic_write(folder / name, lambda f: torch.save(algo.impl.policy.state_dict(), f))

    sac.fit_online(
        env,
        buffer,
        n_steps=steps,
        n_steps_per_epoch=max(1, steps // 10),
        update_interval=update_interval,
        update_start_step=warmup,
        random_steps=warmup,
        save_interval=steps + 1,  # no d3rlpy checkpoints (pickles): the policies are saved below
        logger_adapter=d3rlpy.logging.FileAdapterFactory(root_dir=str(folder / "logs")),
        experiment_name="behaviour_sac",
        with_timestamp=False,
        show_progress=True,
        callback=lambda algo, epoch, step: save(MEDIUM_POLICY, algo) if step == medium_step else None,
    )
    save(EXPERT_POLICY, sac)
    replay = datasets.concatenate(_logged_episodes(buffer))
    cut = {field: replay[field][:medium_step].copy() for field in datasets.FIELDS}
    ended = bool(cut["terminals"][-1] or cut["timeouts"][-1])
    if not cut["terminals"][-1]:
        cut["timeouts"][-1] = 1.0  # the episode running at the medium step ends there
    budget_cut = np.zeros(int(((cut["terminals"] > 0) | (cut["timeouts"] > 0)).sum()), bool)
    budget_cut[-1] = not ended  # the medium step cut that episode short
    cut[datasets.BUDGET_CUT] = budget_cut
    normalize = scores.normalizer("mujoco", task)
    replay_card = {"suite": "mujoco", "env": task, "behaviour": f"SAC replay buffer, steps 1..{medium_step}"}
    datasets.write(folder / REPLAY, cut, replay_card, normalize)
    whole = datasets.OfflineDataset(card={}, **{field: replay[field] for field in datasets.FIELDS})
    curve = datasets.describe(whole)["episode_return_along_buffer"]
    card = {
        "suite": "mujoco",
        "env": task,
        "seed": seed,
        "algorithm": "SAC (d3rlpy), learning online",
        **SAC_SETTINGS,
        "steps": steps,
        "medium_step": medium_step,
        "update_interval": update_interval,
        "random_steps": warmup,
        # The learning curve: mean training-episode return in each tenth of the whole run.
        "training_return_along_buffer": curve,
        "wall_s": round(time.time() - started, 1),
        "sha256": {name: manifest.sha256(folder / name) for name in (MEDIUM_POLICY, EXPERT_POLICY)},
    }
    io.write_json(folder / BEHAVIOUR_CARD, card)
    return card


def sac_policy(folder: Path, name: str, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """A saved policy of `train_sac` (its hash checked first) as observation -> sampled action."""
    import torch

    card = io.read_json(folder / BEHAVIOUR_CARD)
    path = folder / name
    manifest.verify_sha256(path, card["sha256"][name])
    sac = _sac(seed)
    env = make_env("mujoco", card["env"], protocol_for("mujoco"))
    sac.build_with_env(env)
    env.close()
    sac.impl.policy.load_state_dict(torch.load(path, weights_only=True))
    return lambda observation: sac.sample_action(observation[None].astype(np.float32))[0]


def mujoco_episodes(
    task: str, transitions: int, seed: int, policy: Callable[[np.ndarray], np.ndarray] | None, desc: str
) -> list[Episode]:
    """Episodes of `policy` (uniform random actions when None) until `transitions` steps."""
    env = make_env("mujoco", task, protocol_for("mujoco"))
    env.action_space.seed(seed)
    act = policy or (lambda _: env.action_space.sample())
    return [
        dataclasses.replace(
            episode, observations=episode.observations.astype(np.float32), actions=episode.actions.astype(np.float32)
        )
        for episode in play(env, transitions, seed, lambda index, progress: act, desc)
    ]
