"""Pretrained weights load from a local directory through the project's loaders; their absence
falls back to random initialisation, recorded, without a network call."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from more3s_helpers import CONFIG

from more3s.encoder import EncoderSpec, build
from more3s.model import More3S

SPEC = EncoderSpec(
    hidden_size=32,
    num_heads=2,
    language_layers=1,
    cross_layers=1,
    visual_layers=1,
    weights="",
    language_init="none",
    seed=0,
    regions="grid",
)


def test_lxmert_loads_from_a_local_directory(tmp_path: Path) -> None:
    from transformers import LxmertConfig, LxmertModel

    torch.manual_seed(1)
    saved = LxmertModel(
        LxmertConfig(hidden_size=32, num_attention_heads=2, intermediate_size=64, l_layers=1, x_layers=1, r_layers=1)
    )
    saved.save_pretrained(tmp_path / "lxmert")
    model, record = build(dataclasses.replace(SPEC, weights=str(tmp_path / "lxmert")), visual_feat_dim=196)
    assert record["lxmert"].startswith(str(tmp_path / "lxmert")) and "re-initialised" in record["lxmert"]
    torch.testing.assert_close(model.encoder.x_layers[0].state_dict(), saved.encoder.x_layers[0].state_dict())
    assert model.encoder.visn_fc.visn_fc.in_features == 196  # grid features, not 2048-d detector features
    assert not any(p.requires_grad for p in model.parameters())  # frozen


def test_missing_weights_fall_back_to_a_recorded_random_init() -> None:
    model, record = build(dataclasses.replace(SPEC, weights="no-such-org/no-such-lxmert"), visual_feat_dim=196)
    assert record == {"lxmert": "no", "text": "no"}
    again, _ = build(dataclasses.replace(SPEC, weights="no-such-org/no-such-lxmert"), visual_feat_dim=196)
    torch.testing.assert_close(model.state_dict(), again.state_dict())  # seeded: the same encoder every time


def test_gpt2_loads_from_a_local_directory(tmp_path: Path) -> None:
    from transformers import GPT2Config, GPT2Model

    torch.manual_seed(2)
    saved = GPT2Model(GPT2Config(n_embd=32, n_head=2, n_layer=3, n_positions=100, vocab_size=5))
    saved.save_pretrained(tmp_path / "gpt2")
    net = More3S(dataclasses.replace(CONFIG, gpt2_weights=str(tmp_path / "gpt2")))
    assert net.gpt2_record == f"{tmp_path / 'gpt2'} (first 2 layers)"
    assert len(net.blocks) == 2
    torch.testing.assert_close(net.blocks[1].mlp.state_dict(), saved.h[1].mlp.state_dict())
    assert More3S(dataclasses.replace(CONFIG, gpt2_weights="no-such-org/no-such-gpt2")).gpt2_record == "no"
