"""Dataset generators: the `generated` source, data made here by behaviour policies.

A generator is one function here, declared in the generators' registry (benchmark.sources
`GENERATORS`: its name, the suite it makes data for, the preset keys it reads, the published
dataset it stands in for and whether it reads the env's ARS policies); nothing else names it.
Every generator gets the dataset's spec (`specs.DatasetSpec`). The behaviour policies are in
`benchmark.behaviour` (scripted Atari, online SAC and DQN) and `benchmark.ars` (ARS, MuJoCo);
storage (the `.npy` files and the card) is `benchmark.datasets`; the stage is
`benchmark.dataset_stage`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark import ars, behaviour, datasets, envs, io, paths, scores
from benchmark.errors import BenchmarkError
from benchmark.sources import GENERATORS, behaviour_role
from benchmark.specs import DatasetSpec

Arrays = dict[str, np.ndarray]


def generated(spec: DatasetSpec, env_spec: envs.EnvSpec, log_dir: Path) -> tuple[Arrays, dict[str, Any]]:
    """The data of the generator the spec names; the card records which."""
    options = spec.options
    arrays, details = GENERATORS.load(options["generator"])(spec.env, options, spec.seed, spec, log_dir)
    return arrays, {"generator": options["generator"], **details}


# --- Atari --------------------------------------------------------------------------------------

SCRIPTED_REPLAY = (
    "scripted stand-in for DQN-Replay: the RAM-reading paddle controller with epsilon-random actions, "
    "epsilon annealed along the buffer from {first} to {last} (one value per episode), so returns rise along "
    "the buffer as in an online learner's replay. Not a learning agent: online DQN (d3rlpy) runs at ~39 env "
    "steps/s on a CPU (1M steps ~ 7 h), too slow to get beyond random play in a CPU preset's budget; the "
    "dqn-online generator logs a real learner where a preset has the budget"
)


def _scripted(env: str, options: dict[str, Any], seed: int, anneal: bool) -> tuple[Arrays, dict[str, Any]]:
    played = list(
        behaviour.scripted_atari_episodes(
            env, options["transitions"], options["epsilons"], seed, options["max_episode_frames"], anneal
        )
    )
    if env not in behaviour.SCRIPTS:
        described = f"uniform random (no scripted controller for {env})"
    elif anneal:
        described = SCRIPTED_REPLAY.format(first=options["epsilons"][0], last=options["epsilons"][-1])
    else:
        described = "RAM-reading scripted paddle controller, epsilon-random mixture"
    details = {"behaviour": described, "episode_epsilons": [epsilon for _, epsilon in played]}
    return datasets.concatenate(episode for episode, _ in played), details


def scripted(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """The scripted controller, `epsilons` cycled per episode: mixed quality, no trend (a single
    small epsilon makes an expert dataset)."""
    return _scripted(env, options, seed, anneal=False)


def scripted_replay(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """The scripted controller with epsilon annealed along the buffer (DQN-Replay style)."""
    return _scripted(env, options, seed, anneal=True)


def dqn_online(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """Every transition d3rlpy's DoubleDQN logs while learning online."""
    _one_torch_thread()
    episodes, settings = behaviour.dqn_online_episodes(
        env,
        options["transitions"],
        options["epsilons"],
        seed,
        options["max_episode_frames"],
        options["update_interval"],
        log_dir,
    )
    described = (
        "replay of DoubleDQN (d3rlpy) learning online, every transition it logged; epsilon-greedy, "
        "epsilon following the schedule along the buffer (DQN-Replay style)"
    )
    return datasets.concatenate(episodes), {"behaviour": described, "behaviour_settings": settings}


def _one_torch_thread() -> None:
    torch.set_num_threads(1)  # the dataset rule's one core: more threads oversubscribe it (~10x slower)


# --- MuJoCo -------------------------------------------------------------------------------------


def random(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """Uniform random actions (D4RL random)."""
    episodes = behaviour.mujoco_episodes(env, options["transitions"], seed, None, f"random {env}")
    return datasets.concatenate(episodes), {"behaviour": "uniform random actions (D4RL random style)"}


def _components(
    env: str, transitions: int, policies: list[tuple[str, Callable, int, dict[str, Any]]]
) -> tuple[Arrays, list[dict[str, Any]]]:
    """Rollouts of each (name, policy, seed, record) in turn, `transitions` shared evenly (the first
    takes the rest), and a card entry per policy: its record, where its rows start, how many, and
    the return they show."""
    normalize = scores.normalizer("mujoco", env)
    share, extra = divmod(transitions, len(policies))
    episodes: list[behaviour.Episode] = []
    components = []
    for k, (name, policy, seed, record) in enumerate(policies):
        part = behaviour.mujoco_episodes(env, share + (extra if k == 0 else 0), seed, policy, f"{name} {env}")
        # over the complete episodes, as the card's behaviour return (the last one the budget cut short)
        complete = [episode for episode in part if not episode.budget_cut] or part
        mean = float(np.mean([episode.rewards.sum() for episode in complete]))
        components.append(
            {
                "policy": name,
                **record,
                "first_row": sum(len(episode.rewards) for episode in episodes),
                "transitions": sum(len(episode.rewards) for episode in part),
                "episodes": len(part),
                "episode_return_mean": mean,
                "normalized_return": normalize(mean),
            }
        )
        episodes += part
    return datasets.concatenate(episodes), components


# D4RL style from the task's shared SAC training (the workflow's `behaviour` rule).


def _sac_training(spec: DatasetSpec) -> tuple[Path, dict[str, Any]]:
    """The folder of the shared SAC training the spec's dataset is made from, and its id and card: what
    the dataset's card records as `behaviour_training`."""
    if spec.behaviour is None:  # config.dataset_spec names it for every dataset with `sac` settings
        raise BenchmarkError(
            f"dataset {spec.name!r}: generator {spec.options['generator']!r} is made from a SAC behaviour; "
            "the spec's `behaviour` is null"
        )
    folder = Path(spec.behaviour.dir)
    return folder, {"id": spec.behaviour.id, **io.read_json(folder / behaviour.BEHAVIOUR_CARD)}


def _sac_rollouts(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, names: tuple[str, ...]):
    """Rollouts (actions sampled) of the SAC policy at step M ("medium") and, for medium-expert,
    at the end of the training ("expert")."""
    _one_torch_thread()
    folder, training = _sac_training(spec)
    steps = {"medium": training["medium_step"], "expert": training["steps"]}
    files = {"medium": behaviour.MEDIUM_POLICY, "expert": behaviour.EXPERT_POLICY}
    policies = [
        (name, behaviour.sac_policy(folder, files[name], seed), seed, {"training_step": steps[name]}) for name in names
    ]
    arrays, components = _components(env, options["transitions"], policies)
    what = " and ".join(f"the SAC policy at step {steps[name]} of {training['steps']} ({name})" for name in names)
    details = {
        "behaviour": f"rollouts of {what}, actions sampled (D4RL {'-'.join(names)} style)",
        "behaviour_training": training,
        "components": components,
    }
    return arrays, details


def sac_medium(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    return _sac_rollouts(env, options, seed, spec, ("medium",))


def sac_medium_expert(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    return _sac_rollouts(env, options, seed, spec, ("medium", "expert"))


def sac_medium_replay(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """The SAC replay buffer up to the medium step (D4RL medium-replay)."""
    folder, training = _sac_training(spec)
    replay = datasets.load(folder / behaviour.REPLAY)
    details = {
        "behaviour": f"replay buffer of SAC learning online, steps 1..{training['medium_step']} "
        "(D4RL medium-replay style)",
        "behaviour_training": training,
    }
    return {field: getattr(replay, field) for field in datasets.FIELDS}, details


# D4RL style from ARS linear policies (benchmark.ars): shipped with the package, or trained by
# the workflow's `policy` rule (`policy: trained`).

SHIPPED_POLICIES = "data/policies"  # inside the benchmark package


def policy_folder(env: str, options: dict[str, Any]) -> Path:
    """Where a dataset's ARS policies are: shipped in the package, or the `policy` rule's output."""
    if options.get("policy", "shipped") == "trained":
        return paths.policy_dir("mujoco", env)
    return Path(str(resources.files("benchmark") / SHIPPED_POLICIES / "mujoco" / env))


def _noisy(policy: ars.LinearPolicy, noise: float, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """The linear policy with Gaussian action noise of std `noise` (clipped to the action box)."""
    rng = np.random.default_rng(seed)
    if noise == 0:
        return policy
    return lambda observation: np.clip(policy(observation) + noise * rng.standard_normal(len(policy.weights)), -1, 1)


def behaviour_policy(spec: DatasetSpec) -> ars.LinearPolicy | None:
    """The noiseless policy of `behaviour_role`, or None."""
    role = behaviour_role(spec)
    if role is None:
        return None
    card, snapshots = ars.load_snapshots(policy_folder(spec.env, spec.options))
    return snapshots[card[role]["snapshot"]]


def _score(chosen: dict[str, Any]) -> str:
    """A chosen snapshot's score: its fresh measurement (cards trained before it was taken: the
    measurement that chose it, which flatters it)."""
    if "fresh" not in chosen:
        return f"{chosen['normalized_return']:.1f} D4RL points over {chosen['episodes']} selection episodes"
    fresh = chosen["fresh"]
    return f"{fresh['normalized_return']:.1f} D4RL points over {fresh['episodes']} fresh episodes"


def _ars_rollouts(env: str, options: dict[str, Any], seed: int, roles: tuple[str, ...]):
    folder = policy_folder(env, options)
    card, snapshots = ars.load_snapshots(folder)
    noise = float(options.get("action_noise", 0.0))
    policies = [
        (role, _noisy(snapshots[card[role]["snapshot"]], noise, seed + k), seed + k, {"measured": card[role]})
        for k, role in enumerate(roles)
    ]
    arrays, components = _components(env, options["transitions"], policies)
    what = " and ".join(
        f"the ARS policy at iteration {card[role]['iteration']} ({role}, {_score(card[role])})" for role in roles
    )
    details = {
        "behaviour": f"rollouts of {what}, Gaussian action noise std {noise} (D4RL {'-'.join(roles)} style)",
        "behaviour_policy": {"folder": str(folder), "card": card},
        "components": components,
    }
    return arrays, details


def ars_medium(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    return _ars_rollouts(env, options, seed, ("medium",))


def ars_expert(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    return _ars_rollouts(env, options, seed, ("expert",))


def ars_medium_expert(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    return _ars_rollouts(env, options, seed, ("medium", "expert"))


def ars_medium_replay(env: str, options: dict[str, Any], seed: int, spec: DatasetSpec, log_dir: Path):
    """Rollouts of every ARS snapshot from the first to the medium one, in training order and in
    equal shares: the experience of a learner up to "medium", so returns rise along the buffer
    (D4RL medium-replay style; ARS keeps no replay buffer, so its snapshots replay it)."""
    folder = policy_folder(env, options)
    card, snapshots = ars.load_snapshots(folder)
    noise = float(options.get("action_noise", 0.0))
    last = card["medium"]["snapshot"]
    policies = [
        (
            f"snapshot {i}",
            _noisy(snapshots[i], noise, seed + i),
            seed + i,
            {"iteration": card["training_curve"][i]["iteration"]},
        )
        for i in range(last + 1)
    ]
    arrays, components = _components(env, options["transitions"], policies)
    details = {
        "behaviour": f"rollouts of the ARS snapshots 0..{last} (iterations up to the medium policy's "
        f"{card['medium']['iteration']}) in training order, Gaussian action noise std {noise} "
        "(D4RL medium-replay style)",
        "behaviour_policy": {"folder": str(folder), "card": card},
        "components": components,
    }
    return arrays, details
