"""Environments and the versioned evaluation protocols.

Atari follows the Decision Transformer paper's protocol (arXiv 2106.01345, appendix A):
frameskip 4 with max-pool over the last two frames, 84x84 grayscale, 4-frame stack (zero frames
before an episode's 4th step, as training's), sticky actions off, up to 30 no-op starts, full-game
episodes (no life-loss terminals), 108k-frame cap. MuJoCo uses the gymnasium v5 tasks with their
1000-step limit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark import compat

if TYPE_CHECKING:
    import gymnasium as gym

ATARI_GAMES: dict[str, str] = {
    "breakout": "ALE/Breakout-v5",
    "pong": "ALE/Pong-v5",
    "qbert": "ALE/Qbert-v5",
    "seaquest": "ALE/Seaquest-v5",
}
MUJOCO_TASKS: dict[str, str] = {
    "halfcheetah": "HalfCheetah-v5",
    "hopper": "Hopper-v5",
    "walker2d": "Walker2d-v5",
}
SUITES: dict[str, dict[str, str]] = {"atari": ATARI_GAMES, "mujoco": MUJOCO_TASKS}
# (observation shape, discrete, action size) of each env under its protocol, as `EnvSpec.of` reads
# them from gymnasium (a test holds them to it): what the capacity plan sizes data and networks by
# without making an env (gymnasium, ALE and MuJoCo stay out of parsing and planning a preset).
SPACES: dict[tuple[str, str], tuple[tuple[int, ...], bool, int]] = {
    ("atari", "breakout"): ((4, 84, 84), True, 4),
    ("atari", "pong"): ((4, 84, 84), True, 6),
    ("atari", "qbert"): ((4, 84, 84), True, 6),
    ("atari", "seaquest"): ((4, 84, 84), True, 18),
    ("mujoco", "halfcheetah"): ((17,), False, 6),
    ("mujoco", "hopper"): ((11,), False, 3),
    ("mujoco", "walker2d"): ((17,), False, 6),
}


@dataclass(frozen=True)
class AtariProtocol:
    """The Atari evaluation protocol; `name` changes whenever what it measures changes.

    atari-dt-v2 evaluates as training sees the data: the frame stack starts with zero frames
    (v1: copies of the reset frame, gymnasium's default), and a sequence model's next step is
    conditioned on the action the env executed (v1: the one the policy chose, even where the
    evaluation epsilon replaced it). v1 records still load (`protocol_from_record`), but their
    runs are not evaluated again (`benchmark.evaluation.evaluate`): the numbers would carry v1's name.
    """

    name: str = "atari-dt-v2"
    frame_skip: int = 4  # agent acts every 4th frame; observation is the max of the last two
    screen_size: int = 84  # grayscale frames resized to 84x84
    frame_stack: int = 4  # the agent sees the last 4 processed frames
    # What fills the stack before an episode's 4th step: zeros, as d3rlpy's FrameStackTransitionPicker
    # and FrameStackTrajectorySlicer (training) and the DT code pad; "reset" repeats the first frame.
    frame_stack_padding: str = "zero"
    sticky_action_probability: float = 0.0  # sticky actions off, as in the DT paper
    noop_max: int = 30  # up to 30 random no-ops at reset
    terminal_on_life_loss: bool = False  # full-game episodes
    max_episode_frames: int = 108_000  # 30 minutes of play at 60 fps
    # Each step, the evaluator replaces the agent's action by a uniformly random one with this
    # probability (Dopamine's and d3rlpy's evaluation epsilon): a greedy policy that never
    # presses FIRE cannot stall a whole episode. The policy is told the action that ran.
    eval_epsilon: float = 0.001


@dataclass(frozen=True)
class MujocoProtocol:
    """The MuJoCo evaluation protocol. atari-dt-v2's changes measure nothing new here (no frame
    stack; without an evaluation epsilon the executed actions are the chosen ones): still v1."""

    name: str = "mujoco-v5-v1"
    max_episode_steps: int = 1000
    eval_epsilon: float = 0.0  # continuous control is evaluated with the policy's own actions


Protocol = AtariProtocol | MujocoProtocol


def protocol_for(suite: str, overrides: dict[str, Any] | None = None) -> Protocol:
    """The suite's protocol. A preset's overrides show in the name, e.g.
    `atari-dt-v2[max_episode_frames=27000]`, so no result passes for the unmodified protocol."""
    base: Protocol = AtariProtocol() if suite == "atari" else MujocoProtocol()
    changed = {k: v for k, v in (overrides or {}).items() if getattr(base, k) != v}
    if not changed:
        return base
    label = ",".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return dataclasses.replace(base, name=f"{base.name}[{label}]", **changed)


def protocol_from_record(record: dict[str, Any]) -> Protocol:
    """The protocol a run recorded (its config.json `protocol`), as it was measured."""
    filled = compat.protocol(record)  # an older version's record: the fields it predates filled in
    return AtariProtocol(**filled) if filled["name"].startswith("atari") else MujocoProtocol(**filled)


def _register_ale() -> None:
    import gymnasium as gym
    from ale_py import ALEInterface, LoggerMode

    # ALE prints its banner ("A.L.E: ...", "[Powered by Stella]") on every env: not a stage's output
    ALEInterface.setLoggerMode(LoggerMode.Error)
    # gymnasium 1.0.0's register_envs(ale_py) registers nothing.
    if "ALE/Pong-v5" not in gym.registry:
        from ale_py import registration

        registration.register_v5_envs()


def make_env(suite: str, env: str, protocol: Protocol, stack: bool = True, **kwargs: Any) -> gym.Env:
    """One environment under the protocol.

    Atari observations are uint8 (4, 84, 84) when `stack`, else single frames (1, 84, 84) as the
    datasets store them. `kwargs` go to gym.make (e.g. render_mode for MuJoCo).
    """
    import gymnasium as gym

    if suite == "atari":
        assert isinstance(protocol, AtariProtocol)
        _register_ale()
        raw = gym.make(
            ATARI_GAMES[env],
            frameskip=1,
            repeat_action_probability=protocol.sticky_action_probability,
            full_action_space=False,
            max_num_frames_per_episode=protocol.max_episode_frames,
            **kwargs,
        )
        wrapped: gym.Env = gym.wrappers.AtariPreprocessing(
            raw,
            noop_max=protocol.noop_max,
            frame_skip=protocol.frame_skip,
            screen_size=protocol.screen_size,
            terminal_on_life_loss=protocol.terminal_on_life_loss,
            grayscale_obs=True,
            grayscale_newaxis=False,
            scale_obs=False,
        )
        if stack:
            return gym.wrappers.FrameStackObservation(
                wrapped, protocol.frame_stack, padding_type=protocol.frame_stack_padding
            )
        return gym.wrappers.ReshapeObservation(wrapped, (1, protocol.screen_size, protocol.screen_size))
    assert isinstance(protocol, MujocoProtocol)
    return gym.make(MUJOCO_TASKS[env], max_episode_steps=protocol.max_episode_steps, **kwargs)


@dataclass(frozen=True)
class EnvSpec:
    """What an algorithm needs to know about an environment before training."""

    suite: str
    env: str
    observation_shape: tuple[int, ...]
    discrete: bool
    action_size: int  # number of actions (discrete) or action dimensions (continuous)
    action_meanings: tuple[str, ...] = ()
    action_low: tuple[float, ...] = ()  # continuous: the action box, per dimension
    action_high: tuple[float, ...] = ()

    @classmethod
    def of(cls, suite: str, env: str, protocol: Protocol) -> EnvSpec:
        import gymnasium as gym

        e = make_env(suite, env, protocol)
        try:
            space = e.action_space
            discrete = isinstance(space, gym.spaces.Discrete)
            meanings: tuple[str, ...] = ()
            if suite == "atari":
                meanings = tuple(e.unwrapped.get_action_meanings())  # type: ignore[attr-defined]
            return cls(
                suite=suite,
                env=env,
                observation_shape=tuple(e.observation_space.shape or ()),
                discrete=discrete,
                action_size=int(space.n) if discrete else int(np.prod(space.shape)),  # type: ignore[attr-defined]
                action_meanings=meanings,
                action_low=() if discrete else tuple(map(float, space.low.ravel())),  # type: ignore[attr-defined]
                action_high=() if discrete else tuple(map(float, space.high.ravel())),  # type: ignore[attr-defined]
            )
        finally:
            e.close()

    @classmethod
    def declared(cls, suite: str, env: str) -> EnvSpec:
        """The env's spaces from `SPACES`, without making it (no action meanings or box)."""
        observation_shape, discrete, action_size = SPACES[suite, env]
        return cls(suite, env, observation_shape, discrete, action_size)
