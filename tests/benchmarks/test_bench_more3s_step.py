"""Training-step cost and FLOP/s: MORE-3S on cached encoder outputs against d3rlpy's Decision Transformer.

For each suite of the default preset, both algorithms train on the same random dataset (stored
format, Atari 84x84 frames / Hopper vectors) with the preset's hyperparameters, transformer sizes
made equal (depth, width, heads and context of the preset's DT), the same batch of sequences and
one torch thread. MORE-3S first encodes the dataset once (its features stage, not timed as
training; its throughput is recorded). A step's cost is (time of fit(STEPS + 10) - time of
fit(10)) / STEPS, so set-up costs cancel; each round measures both algorithms back to back and
the fastest round of each counts. Targets (issue 13): MORE-3S <= 0.5x DT on Atari, <= 1.0x on MuJoCo.

FLOP/s: the FLOPs of a step are counted with `torch.utils.flop_counter.FlopCounterMode` over a
short fit (forward and backward matrix products and convolutions; it has no formula for CPU's
fused attention kernel, a small share at these contexts), divided by the measured step time, and
set against this machine's one-thread peak: the best of a few 2048^3 float32 matrix products.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import write_random_dataset
from torch.utils.flop_counter import FlopCounterMode

from benchmark import config, datasets, envs, paths
from benchmark.algorithms import Budget, get
from benchmark.training import TrainLog
from more3s import features
from more3s.hyperparameters import features_spec

pytestmark = pytest.mark.benchmark(group="more3s-step")

PRESET = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
ENVS = {"atari": "breakout", "mujoco": "hopper"}
SHARED = ("context_size", "num_layers", "num_heads", "embed_size")
STEPS = 40  # timed steps per measurement
ROUNDS = 3
TARGETS = {"atari": 0.5, "mujoco": 1.0}


def fit_seconds(name: str, suite: str, hp: dict[str, Any], steps: int, batch: int) -> float:
    env = ENVS[suite]
    spec = envs.EnvSpec.of(suite, env, envs.protocol_for(suite))
    budget = Budget(steps=steps, batch_size=batch, eval_every=steps)
    algorithm = get(name)(spec, hp, 0)
    data = datasets.load(paths.dataset_dir(suite, env, "random"))
    log = TrainLog(Path("logs") / paths.TRAIN_LOG, lambda step: None)
    started = time.perf_counter()
    algorithm.fit(data, budget, Path("logs"), log)
    return time.perf_counter() - started


def step_seconds(name: str, suite: str, hp: dict[str, Any], batch: int) -> float:
    return (fit_seconds(name, suite, hp, STEPS + 10, batch) - fit_seconds(name, suite, hp, 10, batch)) / STEPS


def flops_per_step(name: str, suite: str, hp: dict[str, Any], batch: int, steps: int = 2) -> float:
    with FlopCounterMode(display=False) as counter:
        fit_seconds(name, suite, hp, steps, batch)
    return counter.get_total_flops() / steps


@pytest.fixture(scope="module")
def matmul_peak() -> float:
    """FLOP/s of this machine's best one-thread float32 matrix product (2048^3)."""
    torch.set_num_threads(1)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best = float("inf")
    for _ in range(4):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * 2048**3 / best


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """resources/ (datasets, features caches) and logs/ of the fits go to a temp folder."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("more3s-step")
        patch.chdir(folder)
        yield folder


@pytest.mark.parametrize("suite", list(ENVS))
def test_more3s_step_against_d3rlpy_dt(
    benchmark: Any, record: Callable[..., None], matmul_peak: float, workdir: Path, suite: str
) -> None:
    env = ENVS[suite]
    preset = config.load(PRESET)
    write_random_dataset(paths.dataset_dir(suite, env, "random"), suite, episodes=20, length=100)
    key = config.RunKey(suite, env, next(iter(preset.suites[suite].datasets)), "dt", 0)
    dt = config.run_spec(preset, key)
    dt_hp = dt.hyperparameters
    hp = dict(config.run_spec(preset, config.RunKey(suite, env, key.dataset, "more3s", 0)).hyperparameters)
    hp.update({k: dt_hp[k] for k in SHARED})  # the same transformer
    card = features.build(features_spec(suite, env, "random", hp))
    batch = dt.budget.batch_size

    costs: dict[str, list[float]] = {"dt": [], "more3s": []}

    def one_round() -> None:  # both back to back, under the same load
        costs["dt"].append(step_seconds("dt", suite, dt_hp, batch))
        costs["more3s"].append(step_seconds("more3s", suite, hp, batch))

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    dt_s, more3s_s = min(costs["dt"]), min(costs["more3s"])
    dt_flops, more3s_flops = flops_per_step("dt", suite, dt_hp, batch), flops_per_step("more3s", suite, hp, batch)
    assert dt_flops > 0 and more3s_flops > 0

    record("encode_pairs_per_s", card["encode_pairs_per_s"])
    record("dt_ms_per_step", 1e3 * dt_s, "ms")
    record("more3s_ms_per_step", 1e3 * more3s_s, "ms")
    record("ratio_more3s_over_dt", more3s_s / dt_s, f"x (target <= {TARGETS[suite]})")
    record("matmul_peak_gflops_1_thread", matmul_peak / 1e9, "GFLOP/s")
    for name, flops, seconds in (("dt", dt_flops, dt_s), ("more3s", more3s_flops, more3s_s)):
        record(f"{name}_gflop_per_step", flops / 1e9, "GFLOP")
        record(f"{name}_gflops", flops / seconds / 1e9, "GFLOP/s")
        record(f"{name}_share_of_peak", flops / seconds / matmul_peak)
