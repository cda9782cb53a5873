"""Encode once: the cache equals on-the-fly encoding; texts pair each frame with the previous action."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from more3s_helpers import lxmert_forward, random_dataset, spec_of

from benchmark import config, envs, io, manifest, paths
from more3s import features, prompts
from more3s.encoder import FrozenEncoder
from more3s.hyperparameters import features_spec
from more3s.regions import GridRegions


@pytest.mark.parametrize("suite", ["atari", "mujoco"])
def test_cached_features_equal_on_the_fly_encoding(in_tmp: Path, suite: str) -> None:
    data = random_dataset(suite, episodes=2, length=20)
    spec = spec_of(suite=suite)
    card = features.build(spec)
    cached = features.load(spec.folder, data)
    assert cached.encoded.dtype == np.float16 and cached.encoded.shape == (40, 56, 384)
    assert card["pretrained"]["lxmert"] == "no" and card["pretrained"]["text"].startswith("all-MiniLM-L6-v2")
    # on the fly: a freshly built encoder (seeded, so the same weights) on the raw frames and texts
    encoder = FrozenEncoder.build(spec.encoder, features.frames_of(spec)(data.observations[:1]).shape[1:])
    ids, masks = prompts.tokenize([cached.texts[i] for i in cached.text_index[10:20]])
    live = encoder.encode(features.frames_of(spec)(data.observations[10:20]), ids, masks).numpy()
    np.testing.assert_allclose(cached.encoded[10:20].astype(np.float32), live, rtol=1e-2, atol=1e-2)


def test_the_language_layers_run_once_per_distinct_text_and_change_no_bit(one_thread: None) -> None:
    encoder = FrozenEncoder.build(spec_of(suite="mujoco").encoder, (84, 84, 3))
    texts = ["the thigh flexes hard", "every joint rests", "the foot extends gently, the leg flexes hard"]
    frames = np.random.default_rng(0).integers(0, 256, size=(6, 84, 84, 3), dtype=np.uint8)
    batches = [[0, 1, 0, 2, 1, 0], [2, 2, 1, 0, 0, 1]]  # repeated texts; the second call has no new one
    expected = []
    for order in batches:  # LxmertModel's own forward pass, nothing cached
        ids, masks = prompts.tokenize([texts[i] for i in order])
        expected.append(lxmert_forward(encoder, frames, ids, masks))
    language_rows: list[int] = []
    encoder.model.encoder.layer[0].register_forward_hook(lambda _, inputs, __: language_rows.append(len(inputs[0])))
    for order, reference in zip(batches, expected, strict=True):
        ids, masks = prompts.tokenize([texts[i] for i in order])
        encoded = encoder.encode(frames, ids, masks)
        assert torch.equal(encoded, reference), f"max abs diff {(encoded - reference).abs().max():.3g}"
    assert language_rows == [3]  # three distinct texts, each through the language layers once


def test_frames_are_paired_with_the_previous_action(in_tmp: Path) -> None:
    data = random_dataset(episodes=2, length=5)
    meanings = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari")).action_meanings
    texts = features.ActionTexts(spec_of(), meanings, seed=0)
    words = prompts.atari_texts("breakout", meanings, 1)
    paired = features.step_texts(data, texts, "previous")
    assert paired[0] == paired[5] == prompts.NO_ACTION[0]  # episode starts
    assert paired[1:5] == [words[a][0] for a in data.actions[0:4]]
    leaky = features.step_texts(data, texts, "leaky")
    assert leaky == [words[a][0] for a in data.actions]


def test_modalities_blank_the_text_or_the_image(in_tmp: Path) -> None:
    data = random_dataset(episodes=1, length=8)
    meanings = envs.EnvSpec.of("atari", "breakout", envs.protocol_for("atari")).action_meanings
    image_only = features.step_texts(data, features.ActionTexts(spec_of(modality="image"), meanings, 0), "previous")
    assert set(image_only) == {prompts.BLANK}
    spec = spec_of(modality="text")
    features.build(spec)
    cached = features.load(spec.folder, data)
    same_text = cached.text_index == cached.text_index[1]
    rows = np.flatnonzero(same_text)
    assert len(rows) >= 2  # different frames, same text -> the same encoding when regions are zeroed
    np.testing.assert_array_equal(cached.encoded[rows[0]], cached.encoded[rows[1]])


def test_every_action_text_fits_twenty_tokens_and_paraphrases_differ() -> None:
    for game in prompts.ATARI_WORDS:
        meanings = envs.EnvSpec.of("atari", game, envs.protocol_for("atari")).action_meanings
        texts = prompts.atari_texts(game, meanings, features.PARAPHRASES)
        flat = [t for action in texts for t in action] + list(prompts.NO_ACTION)
        ids, _ = prompts.tokenize(flat)
        assert (ids[:, -1] == 0).all(), f"{game}: a text is cut at {prompts.MAX_TOKENS} tokens"
        assert len({action[0] for action in texts}) == len(set(meanings)), f"{game}: two actions share a text"
        assert all(len(set(action)) > 1 for action in texts if action[0] != texts[0][0]), game
    for env, joints in prompts.JOINTS.items():
        action = np.linspace(-1, 1, len(joints))
        ids, _ = prompts.tokenize([prompts.describe_continuous(env, action, k) for k in range(3)])
        assert (ids[:, -1] == 0).all(), env


def test_grid_regions_cover_the_frame_row_by_row() -> None:
    frame = np.arange(84 * 84, dtype=np.int64).reshape(1, 84, 84) % 251
    features_, boxes = GridRegions()(frame.astype(np.uint8))
    assert features_.shape == (1, 36, 196) and boxes.shape == (1, 36, 4)
    np.testing.assert_allclose(features_[0, 7].reshape(14, 14), frame[0, 14:28, 14:28] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(boxes[0, 7], [1 / 6, 1 / 6, 2 / 6, 2 / 6], rtol=1e-6)


def test_a_cache_from_another_dataset_is_refused(in_tmp: Path) -> None:
    random_dataset(episodes=1, length=8)
    spec = spec_of()
    features.build(spec)
    other = random_dataset(episodes=1, length=8, seed=1)  # the dataset changed after the cache was made
    with pytest.raises(features.BenchmarkError, match="rerun the features stage"):
        features.load(spec.folder, other)


def test_a_damaged_cache_is_refused_naming_the_file(in_tmp: Path) -> None:
    data = random_dataset(episodes=1, length=8)
    spec = spec_of()
    features.build(spec)
    path = spec.folder / "features.npy"
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # one flipped byte in the last row's outputs
    path.write_bytes(bytes(raw))
    with pytest.raises(features.BenchmarkError, match=r"features\.npy: sha256 .* does not match"):
        features.load(spec.folder, data)


@pytest.mark.parametrize("suite", ["atari", "mujoco"])
def test_live_features_are_the_cached_rows(in_tmp: Path, suite: str, one_thread: None) -> None:
    data = random_dataset(suite, episodes=2, length=12)
    cached_spec, live_spec = spec_of(suite=suite), spec_of(suite=suite, features="live")
    assert live_spec.folder != cached_spec.folder and cached_spec.id == spec_of(suite=suite, features="cache").id
    features.build(cached_spec)
    if live_spec.frames is not None:
        assert suite == "mujoco"
        features.build_frames(live_spec.frames)
    card = features.build(live_spec)
    assert not (live_spec.folder / "features.npy").exists() and "bytes" not in card
    cached, live = features.load(cached_spec.folder, data), features.load(live_spec.folder, data)
    index = np.array([3, 17, 3, 0, 23, 11])  # repeats, as overlapping windows have
    rows = live.rows(index)
    assert rows.dtype == np.float16 and rows.shape == (6, *cached.shape[1:])
    np.testing.assert_array_equal(rows, cached.rows(index))


def test_live_features_need_their_frames_store(in_tmp: Path) -> None:
    data = random_dataset("mujoco", episodes=1, length=8)
    spec = spec_of(suite="mujoco", features="live")
    features.build(spec)
    with pytest.raises(features.BenchmarkError, match=r"frames\.json: missing"):
        features.load(spec.folder, data)


@pytest.mark.parametrize("live", [False, True])
def test_a_dataset_card_of_another_env_is_refused_before_encoding_or_drawing(in_tmp: Path, live: bool) -> None:
    random_dataset("mujoco", episodes=1, length=8)
    card_path = paths.dataset_dir("mujoco", "hopper", "random") / paths.DATASET_CARD
    io.write_json(card_path, {**io.read_json(card_path), "env": "walker2d"})
    manifest.write(card_path.parent)  # the card as its maker wrote it, not changed later
    spec = spec_of(suite="mujoco", features="live" if live else "cache")
    with pytest.raises(features.BenchmarkError) as error:
        features.build_frames(spec.frames) if live else features.build(spec)
    assert str(error.value) == (
        f"{card_path}: the card is of dataset mujoco/walker2d/random, not of the run's mujoco/hopper/random"
    )
    assert not spec.folder.exists() and (spec.frames is None or not spec.frames.folder.exists())


@pytest.mark.parametrize("storage", ["cache", "live"])
def test_the_statistics_are_each_output_dimensions_mean_and_floored_std(in_tmp: Path, storage: str) -> None:
    data = random_dataset("atari", episodes=2, length=20)
    features.build(spec_of())
    outputs = features.load(spec_of().folder, data).encoded.astype(np.float64)  # every pair, as stored
    assert outputs.shape == (40, 56, 384)
    spec = spec_of(features=storage)
    card = features.build(spec)
    mean, std = features.load(spec.folder, data).statistics()
    np.testing.assert_allclose(mean, outputs.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, np.maximum(outputs.std(0), features.STD_FLOOR), rtol=1e-4, atol=1e-5)
    assert card["statistics"]["pairs"] == 40 and 0 < card["statistics"]["varying_energy_share"]["visual"] < 1


def test_a_dimension_that_never_varies_is_divided_by_the_floor() -> None:
    moments = features.Moments((1, 2))
    moments.add(np.array([[[1.0, 2.0]], [[1.0, 4.0]]]))
    np.testing.assert_array_equal(moments.result(), np.float32([[[1.0, 3.0]], [[features.STD_FLOOR, 1.0]]]))


def test_statistics_missing_from_an_older_card_are_one_line(in_tmp: Path) -> None:
    data = random_dataset("atari", episodes=1, length=8)
    spec = spec_of()
    card = features.build(spec)
    del card["statistics"]
    io.write_json(spec.folder / features.CARD, card)
    manifest.write(spec.folder)  # resealed as the features stage of that time would have
    with pytest.raises(features.BenchmarkError, match=r"features\.json: made before encoder-output statistics"):
        features.load(spec.folder, data).statistics()


def test_the_default_presets_stores_keep_their_folder_names() -> None:
    """A features or frames folder is named by its spec's id: the caches already on disk (these
    are the reference run's, results/runs/*/*/*/more3s/seed*/features.json) stay found; beside
    each, the held-out data's cache by the same encoder."""
    preset = config.load(REPO / "config" / "config.yaml")
    assert sorted(map(str, config.features_grid(preset))) == [
        "resources/features/atari/breakout/expert.heldout/image-text-canonical-previous-ddcd5ea433",
        "resources/features/atari/breakout/expert/image-text-canonical-previous-95fb7fe6d4",
        "resources/features/mujoco/hopper/medium.heldout/image-text-canonical-previous-01f1fb5264",
        "resources/features/mujoco/hopper/medium.heldout/text-canonical-previous-201953cb88",
        "resources/features/mujoco/hopper/medium/image-text-canonical-previous-29fb030034",
        "resources/features/mujoco/hopper/medium/text-canonical-previous-6241da1184",
    ]
    hopper = config.run_spec(preset, config.RunKey("mujoco", "hopper", "medium", "more3s", 0)).hyperparameters
    live = features_spec("mujoco", "hopper", "medium", {**hopper, "features": "live"})
    assert live.id == "image-text-canonical-previous-live-e257228071"
    assert live.frames is not None and live.frames.id == "mujoco-render-v2-84-eddf13f8e4"
    assert [spec.id for spec in config.frames_grid(preset).values()] == ["mujoco-render-v2-84-eddf13f8e4"]
