"""SAGAN-style self-attention over the positions of a feature map (Zhang et al. 2019), multi-head.

``x + gamma * W_o(attention(W_q x, W_k x, W_v x))`` with 1x1 convolutions for the query, key, value
and output projections and a learned scalar ``gamma`` initialised at 0, so the block starts as the
identity and the network learns how much non-local evidence to use. As in SAGAN the query and key
have C/8 channels and the value C/2 (here split over ``heads``; at least one channel per head).
The attention is ``scaled_dot_product_attention`` (softmax(q k^T / sqrt(d)) v, SAGAN leaves out the
1/sqrt(d) scale). Usable in generators and discriminators; ``spectral_norm`` goes to the 1x1 convs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models.layers import conv2d


class SelfAttention2d(nn.Module):
    def __init__(self, channels: int, heads: int = 1, spectral_norm: bool = False) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"self-attention needs heads >= 1, got {heads}")
        self.heads = heads
        qk = heads * max(1, channels // (8 * heads))  # SAGAN's C/8, a multiple of the heads
        v = heads * max(1, channels // (2 * heads))  # SAGAN's C/2
        self.query = conv2d(channels, qk, 1, bias=False, spectral_norm=spectral_norm)
        self.key = conv2d(channels, qk, 1, bias=False, spectral_norm=spectral_norm)
        self.value = conv2d(channels, v, 1, bias=False, spectral_norm=spectral_norm)
        self.out = conv2d(v, channels, 1, bias=False, spectral_norm=spectral_norm)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, C', H, W) -> (B, heads, HW, C'/heads)
            return t.reshape(b, self.heads, -1, h * w).transpose(2, 3)

        att = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)), split(self.value(x)))
        att = att.transpose(2, 3).reshape(b, -1, h, w)
        return x + self.gamma * self.out(att)

    def extra_repr(self) -> str:
        return f"heads={self.heads}"
