"""MORE-3S, the model (arXiv 2402.12845), read top to bottom as the method section.

1. Encoding (more3s.encoder, run once per dataset): LXMERT turns the image state (36 regions) and
   the text of the previous action into a language output (20 x H) and a visual output (36 x H).
2. Fusion: the two outputs, concatenated and flattened, go through an MLP to ONE token per step
   (no separate return or action tokens, unlike the Decision Transformer's three). Optionally
   (`standardize`, a deviation from the paper) each of the 56 x H inputs is first z-scored with
   the training data's statistics, kept in the model as buffers so that live play applies them
   exactly as training did: without it, only a few % of the visual outputs' energy varies from
   state to state, and gradient descent fits the text first.
3. Sequence model: GPT-2 blocks over the tokens of the last K steps, position ids = the steps'
   timesteps in their episode (GPT-2's position embedding).
4. Return-to-go inside attention: in every layer, after Q, K, V are computed, the scalar
   return-to-go of each step is concatenated to K and, separately, to V, each then projected by
   its own Linear(d + 1 -> d); Q is untouched. Return-to-go = target return minus the rewards
   collected so far (the Decision Transformer convention).
5. Long-term memory (training only; an ablation, off by default): keys and values of previous
   batches, compressed to a narrow width and projected back, are attended to beside the current
   ones; K and V have their own projections (the authors' code used the K one for both).
6. Heads: logits over actions (cross-entropy) for discrete tasks, tanh-squashed actions (MSE)
   for continuous ones.

Ablations swap step 4 (`rtg_mode`: attention | token, a DT-style return token before each step's
token | none) and step 5 (`memory`).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.errors import BenchmarkError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelConfig:
    encoded_tokens: int  # 20 text + 36 region outputs of the encoder per step
    encoded_width: int  # the encoder's hidden size H
    embed_size: int  # d: GPT-2 width (768 in the paper: GPT-2 small)
    num_layers: int  # GPT-2 blocks (the paper: the first 6 of GPT-2 small)
    num_heads: int
    max_timestep: int  # position embeddings (timesteps beyond are clamped to the last one)
    dropout: float  # GPT-2's attention, residual and embedding dropout
    action_size: int  # number of actions (discrete) or action dimensions (continuous)
    discrete: bool
    rtg_mode: str  # attention | token | none
    memory: bool  # long-term memory of past batches' keys and values (training only)
    memory_batches: int  # batches kept in the memory queue (the authors: 20)
    memory_width: int  # compressed width of the memory (the authors: 64)
    gpt2_weights: str  # a local directory or hub id looked up in the HF cache only; "" = random init
    standardize: bool = False  # z-score the encoder outputs with the training data's statistics


# -- 2. Fusion ------------------------------------------------------------------------------------
class Fusion(nn.Module):
    """(B, T, 56, H) encoder outputs -> (B, T, d): one token per step."""

    def __init__(self, tokens: int, width: int, embed_size: int, standardize: bool):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(tokens * width, embed_size), nn.GELU(), nn.Linear(embed_size, embed_size))
        self.standardize = standardize
        if standardize:  # set from the features' statistics before training; saved with the weights
            self.register_buffer("input_mean", torch.zeros(tokens, width))
            self.register_buffer("input_std", torch.ones(tokens, width))

    def set_statistics(self, statistics: torch.Tensor) -> None:
        """(2, 56, H): the mean and std of each input dimension over the training data."""
        self.input_mean.copy_(statistics[0])
        self.input_std.copy_(statistics[1])

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        x = encoded.float()
        if self.standardize:
            x = (x - self.input_mean) / self.input_std
        return self.mlp(x.flatten(-2))


# -- 5. Long-term memory --------------------------------------------------------------------------
class LongTermMemory(nn.Module):
    """A queue of the keys and values of up to `batches` previous training batches (each averaged
    over its sequences: one slot per context position), read through a d -> m -> d bottleneck
    with separate projections for K and V."""

    def __init__(self, embed_size: int, width: int, batches: int):
        super().__init__()
        self.key = nn.Sequential(nn.Linear(embed_size, width), nn.Linear(width, embed_size))
        self.value = nn.Sequential(nn.Linear(embed_size, width), nn.Linear(width, embed_size))
        self.queue: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=batches)

    def read(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        if not self.queue:
            return None
        keys = torch.cat([k for k, _ in self.queue])
        values = torch.cat([v for _, v in self.queue])
        return self.key(keys), self.value(values)

    def write(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.queue.append((keys.detach().mean(0), values.detach().mean(0)))


# -- 4. Return-to-go inside attention -------------------------------------------------------------
class ReturnConditionedAttention(nn.Module):
    """GPT-2 attention (its pretrained Q/K/V and output projections) with the return-to-go
    concatenated to K and to V before the heads split."""

    def __init__(self, gpt2_attention: nn.Module, embed_size: int, rtg_in_kv: bool, memory: LongTermMemory | None):
        super().__init__()
        self.qkv = gpt2_attention.c_attn
        self.out = gpt2_attention.c_proj
        self.heads = gpt2_attention.num_heads
        self.attn_dropout = gpt2_attention.attn_dropout.p
        self.resid_dropout = gpt2_attention.resid_dropout
        self.key_rtg = self._rtg_projection(embed_size) if rtg_in_kv else None
        self.value_rtg = self._rtg_projection(embed_size) if rtg_in_kv else None
        self.memory = memory

    @staticmethod
    def _rtg_projection(embed_size: int) -> nn.Linear:
        """Linear(d + 1 -> d), starting as the identity on K (or V) plus a small random return
        column: a pretrained GPT-2's attention is intact at step 0, and the return already acts."""
        layer = nn.Linear(embed_size + 1, embed_size)
        with torch.no_grad():
            layer.weight.zero_()
            layer.weight[:, :embed_size] = torch.eye(embed_size)
            layer.weight[:, embed_size].normal_(0.0, 0.02)
            layer.bias.zero_()
        return layer

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, rtg: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        width = x.shape[-1]
        q, k, v = self.qkv(x).split(width, dim=2)
        if self.key_rtg is not None and self.value_rtg is not None:
            assert rtg is not None
            k = self.key_rtg(torch.cat([k, rtg], dim=-1))
            v = self.value_rtg(torch.cat([v, rtg], dim=-1))
        if self.memory is not None and self.training:
            remembered = self.memory.read()
            self.memory.write(k, v)
            if remembered is not None:
                batch = x.shape[0]
                k = torch.cat([remembered[0].expand(batch, -1, -1), k], dim=1)
                v = torch.cat([remembered[1].expand(batch, -1, -1), v], dim=1)
                seen = torch.ones(*mask.shape[:-1], remembered[0].shape[0], dtype=torch.bool, device=mask.device)
                mask = torch.cat([seen, mask], dim=-1)  # every query sees the whole memory
        y = F.scaled_dot_product_attention(
            self._split(q),
            self._split(k),
            self._split(v),
            attn_mask=mask[:, None],
            dropout_p=self.attn_dropout if self.training else 0.0,
        )
        y = y.transpose(1, 2).reshape(x.shape)
        return self.resid_dropout(self.out(y))


class Block(nn.Module):
    """A GPT-2 block (pre-norm attention + MLP) whose attention is return-conditioned."""

    def __init__(self, gpt2_block: nn.Module, attention: ReturnConditionedAttention):
        super().__init__()
        self.ln_1, self.ln_2, self.mlp = gpt2_block.ln_1, gpt2_block.ln_2, gpt2_block.mlp
        self.attn = attention

    def forward(self, x: torch.Tensor, rtg: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), rtg, mask)
        return x + self.mlp(self.ln_2(x))


# -- 3. GPT-2, pretrained when it is on this machine ----------------------------------------------
def gpt2(config: ModelConfig) -> tuple[Any, str]:
    """GPT-2 (its blocks, position embedding, final norm) and where its weights came from."""
    from transformers import GPT2Config, GPT2Model

    if config.gpt2_weights:
        try:
            model = GPT2Model.from_pretrained(config.gpt2_weights, local_files_only=True)
            if model.config.n_embd != config.embed_size or model.config.n_head != config.num_heads:
                raise BenchmarkError(
                    f"GPT-2 {config.gpt2_weights!r} is {model.config.n_embd}-wide with {model.config.n_head} heads, "
                    f"not embed_size {config.embed_size} / num_heads {config.num_heads}"
                )
            return model, f"{config.gpt2_weights} (first {config.num_layers} layers)"
        except OSError:
            log.warning("GPT-2 weights %r not found on this machine: random initialisation", config.gpt2_weights)
    gpt2_config = GPT2Config(
        n_embd=config.embed_size,
        n_layer=config.num_layers,
        n_head=config.num_heads,
        n_positions=config.max_timestep,
        vocab_size=1,  # inputs are embeddings: the word table is never used
        bos_token_id=0,
        eos_token_id=0,
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
    )
    return GPT2Model(gpt2_config), "no"


# -- the whole model ------------------------------------------------------------------------------
class More3S(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        backbone, self.gpt2_record = gpt2(config)
        d = config.embed_size
        self.fuse = Fusion(config.encoded_tokens, config.encoded_width, d, config.standardize)
        self.position = backbone.wpe
        self.embed_return = nn.Linear(1, d) if config.rtg_mode == "token" else None
        self.drop = backbone.drop
        self.blocks = nn.ModuleList(
            Block(
                block,
                ReturnConditionedAttention(
                    block.attn,
                    d,
                    rtg_in_kv=config.rtg_mode == "attention",
                    memory=LongTermMemory(d, config.memory_width, config.memory_batches) if config.memory else None,
                ),
            )
            for block in backbone.h[: config.num_layers]
        )
        self.ln_f = backbone.ln_f
        self.head = nn.Linear(d, config.action_size)

    def forward(
        self, tokens: torch.Tensor, returns_to_go: torch.Tensor, timesteps: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """tokens (B, T, d) from `fuse`, returns_to_go (B, T, 1) already scaled, timesteps (B, T),
        valid (B, T) False on left padding -> logits (discrete) or actions in [-1, 1], (B, T, A).
        Output t depends on inputs up to t only (causal attention)."""
        positions = self.position(timesteps.clamp(max=self.position.num_embeddings - 1))
        x = tokens + positions
        rtg = returns_to_go
        if self.embed_return is not None:  # DT-style: a return token before each step's token
            returns = self.embed_return(returns_to_go) + positions
            x = torch.stack([returns, x], dim=2).flatten(1, 2)
            valid = valid.repeat_interleave(2, dim=1)
        length = x.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).tril()
        # a query sees earlier valid keys, and itself (a padded query needs one key to be defined)
        mask = causal & (valid[:, None, :] | torch.eye(length, dtype=torch.bool, device=x.device))
        x = self.drop(x)
        for block in self.blocks:
            x = block(x, rtg if self.config.rtg_mode == "attention" else None, mask)
        x = self.ln_f(x)
        if self.embed_return is not None:
            x = x[:, 1::2]  # predict from each step's state token
        out = self.head(x)
        return out if self.config.discrete else torch.tanh(out)
