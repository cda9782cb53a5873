"""MORE-3S's cost as it declares it to the capacity plan: the encoder's FLOPs the measured
throughput is scaled by, and where live encoding moves the encoder's cost."""

from __future__ import annotations

from benchmark import algorithms, envs, plan
from benchmark.cost import Cost
from more3s.cost import encoder_pair_flops

HOPPER = envs.EnvSpec("mujoco", "hopper", observation_shape=(11,), discrete=False, action_size=3)


def test_the_measured_encoder_throughput_is_scaled_by_its_flops_at_the_sizes_measured() -> None:
    """plan.MEASURED holds the encoder's FLOPs a pair at the sizes its throughput was measured at
    (every other encoder's time and the CPU's FLOP rate are read from it): MORE-3S's own count."""
    measured = plan.MEASURED["features/encode"]
    at_measured = algorithms.hyperparameters("more3s", "mujoco", measured.at)
    hp = algorithms.typed("more3s", "mujoco", at_measured)
    assert encoder_pair_flops(hp.features_spec("mujoco", "hopper", "medium").encoder) == measured.scale


def test_live_encoding_moves_the_encoder_from_a_cache_into_training_and_asks_for_the_frames_store() -> None:
    hook = algorithms.declared("more3s").cost
    assert hook is not None

    def cost(storage: str) -> Cost:
        hp = algorithms.hyperparameters("more3s", "mujoco", {"features": storage})
        return hook(HOPPER, "medium", algorithms.typed("more3s", "mujoco", hp), 64)

    cached, live = cost("cache"), cost("live")
    assert live.train_step_flops > 10 * cached.train_step_flops  # LXMERT base over every pair of the batch
    assert live.train_memory_mb > 0 == cached.train_memory_mb  # the encoder's weights, in training
    assert [p.stage for p in cached.precompute] == ["features"]
    assert [p.stage for p in live.precompute] == ["frames", "features"]  # live reads drawn frames
    # a cache stores every pair's outputs (fp16); live, a text index a transition
    assert cached.precompute[0].bytes_per_transition == 56 * 768 * 2 and live.precompute[1].bytes_per_transition == 4
