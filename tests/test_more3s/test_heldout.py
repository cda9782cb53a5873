"""more3s.heldout: MORE-3S teacher-forced from a features cache of the held-out data predicts what
the diagnose stage's step-by-step play of its live policy predicts; no cache, no shortcut."""

from __future__ import annotations

from pathlib import Path

import pytest
from more3s_helpers import random_dataset, trained

from benchmark import datasets, diagnostics, envs, io, paths
from benchmark.errors import BenchmarkError
from more3s import features, heldout


@pytest.mark.parametrize("suite", ["atari", "mujoco"])
def test_cached_teacher_forcing_is_the_live_policys(in_tmp: Path, suite: str) -> None:
    """The same trained model, from the cache (here the training data is its own held-out data) and
    played live by the diagnose stage: equal up to the cache's fp16 rounding."""
    data = random_dataset(suite, episodes=3, length=12)
    algorithm, _ = trained("more3s", suite, steps=20)
    env_spec = envs.EnvSpec.of(suite, data.card["env"], envs.protocol_for(suite))
    held_out = datasets.load(paths.dataset_dir(suite, data.card["env"], "random"), env=env_spec, name="random")
    found = algorithm.teacher_forced(held_out)
    assert found is not None
    cached = diagnostics.action_error(found[0], held_out.actions, found[1])
    policy = algorithm.policy()
    predicted, probabilities = diagnostics.teacher_forced(policy, held_out, env_spec)
    policy.close()
    live = diagnostics.action_error(predicted, held_out.actions, probabilities)
    if suite == "mujoco":
        assert cached["mse_per_dim"] == pytest.approx(live["mse_per_dim"], rel=0.02)
    else:  # sampled actions differ draw by draw; the probabilities do not
        assert cached["cross_entropy"] == pytest.approx(live["cross_entropy"], rel=0.02)
        assert 0.0 <= cached["accuracy"] <= 1.0


def test_live_features_have_no_cache_to_share_and_another_encoder_is_refused(in_tmp: Path) -> None:
    random_dataset("atari", episodes=2, length=10)
    algorithm, _ = trained("more3s", "atari", steps=2, features="live")
    held_out = datasets.load(paths.dataset_dir("atari", "breakout", "random"))
    assert algorithm.teacher_forced(held_out) is None
    cached, _ = trained("more3s", "atari", steps=2)
    other, _ = trained("more3s", "atari", steps=2, encoder_seed=1)
    with pytest.raises(BenchmarkError, match="frozen encoder differs"):
        heldout.same_encoder(cached.features_folder, other.features_folder)
    assert (
        features.FeaturesSpec.from_dict(io.read_json(cached.features_folder / features.CARD)["spec"])
        .held_out("random.heldout")
        .dataset
        == "random.heldout"
    )
