"""The model's contract: return-to-go acts through attention (and not in `none` mode), causality."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from more3s_helpers import CONFIG

from more3s.model import More3S


def inputs(batch: int = 3, length: int = 6) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randn(batch, length, CONFIG.embed_size, generator=generator)
    returns = torch.rand(batch, length, 1, generator=generator)
    timesteps = torch.arange(length).expand(batch, length)
    valid = torch.ones(batch, length, dtype=torch.bool)
    valid[0, :2] = False  # a left-padded sequence
    return tokens, returns, timesteps, valid


def model(**changes: object) -> More3S:
    torch.manual_seed(0)
    return More3S(dataclasses.replace(CONFIG, **changes)).eval()


@pytest.mark.parametrize("mode, acts", [("attention", True), ("token", True), ("none", False)])
def test_return_to_go_changes_the_action_distribution_only_when_it_is_used(mode: str, acts: bool) -> None:
    net = model(rtg_mode=mode)
    tokens, returns, timesteps, valid = inputs()
    with torch.no_grad():
        low = torch.softmax(net(tokens, returns, timesteps, valid), -1)
        high = torch.softmax(net(tokens, returns + 5.0, timesteps, valid), -1)
    difference = (low - high).abs().max().item()
    assert (difference > 1e-4) if acts else (difference == 0.0), difference


@pytest.mark.parametrize("mode", ["attention", "token", "none"])
def test_outputs_at_t_do_not_depend_on_later_inputs(mode: str) -> None:
    net = model(rtg_mode=mode)
    tokens, returns, timesteps, valid = inputs()
    t = 3
    later_tokens, later_returns = tokens.clone(), returns.clone()
    later_tokens[:, t + 1 :] += torch.randn_like(later_tokens[:, t + 1 :])
    later_returns[:, t + 1 :] += 7.0
    with torch.no_grad():
        before = net(tokens, returns, timesteps, valid)
        after = net(later_tokens, later_returns, timesteps, valid)
    torch.testing.assert_close(before[:, : t + 1], after[:, : t + 1])
    assert not torch.allclose(before[:, t + 1 :], after[:, t + 1 :])


def test_padding_is_invisible() -> None:
    """A left-padded sequence gives the same outputs as the same steps without the padding."""
    net = model()
    tokens, returns, timesteps, valid = inputs()
    with torch.no_grad():
        padded = net(tokens[:1], returns[:1], timesteps[:1], valid[:1])[:, 2:]
        trimmed = net(tokens[:1, 2:], returns[:1, 2:], timesteps[:1, 2:], valid[:1, 2:])
    torch.testing.assert_close(padded, trimmed)


def test_long_term_memory_is_read_in_training_only() -> None:
    net = model(memory=True)
    tokens, returns, timesteps, valid = inputs()
    net.train()
    first = net(tokens, returns, timesteps, valid)
    second = net(tokens, returns, timesteps, valid)  # now attends to the first batch's keys and values
    assert len(net.blocks[0].attn.memory.queue) == 2
    assert not torch.allclose(first, second)
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            net(tokens, returns, timesteps, valid), model(memory=True)(tokens, returns, timesteps, valid)
        )


def test_continuous_actions_are_squashed() -> None:
    net = model(discrete=False, action_size=3)
    tokens, returns, timesteps, valid = inputs()
    with torch.no_grad():
        out = net(tokens * 100, returns, timesteps, valid)
    assert out.shape == (3, 6, 3) and out.abs().max() <= 1.0
