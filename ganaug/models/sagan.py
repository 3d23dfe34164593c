"""SAGAN-style GAN (Zhang et al. 2019): DCGAN-style generator and projection discriminator with self-attention.

Both networks are the DCGAN ones of ``dcgan.py`` (class embedding concatenated to the noise in G,
projection head in D; SAGAN itself uses a ResNet with conditional BatchNorm) with a multi-head
``SelfAttention2d`` block after the hidden layer at each of ``attention_resolutions``. Spectral
norm is on by default in both networks, as in SAGAN (so D has no BatchNorm; G keeps it).

Options: ``attention_resolutions`` (list of ints, default [16]): feature-map sizes (px) that get an
attention block. Each is moved to the nearest size the network has (on a log scale, ties going
up), so [16] means 16x16 at 32 and 64 px, 14x14 at 28 px, 4x4 at 8 px; ``[]`` means no attention.
The sizes actually used are in the model's ``attention_resolutions`` attribute. ``heads`` (default 1,
as SAGAN): attention heads. Plus the options of ``cdcgan`` (``norm`` on G, ``minibatch_std`` and
``minibatch_discrimination`` on D).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from ganaug.models.attention import SelfAttention2d
from ganaug.models.common import conv_plan, place_attention
from ganaug.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganaug.models.registry import DISCRIMINATORS, GENERATORS


def _check_heads(heads: int) -> None:
    if not isinstance(heads, int) or heads < 1:
        raise ValueError(f"heads must be a positive int, got {heads!r}")


class SAGANGenerator(DCGANGenerator):
    def __init__(self, image_size: int, channels: int, attention_resolutions: Sequence[int] = (16,), heads: int = 1,
                 spectral_norm: bool = True, **kwargs) -> None:
        _check_heads(heads)
        base, n_up, _ = conv_plan(image_size)
        used = place_attention(attention_resolutions, [base * 2**i for i in range(n_up)])
        block = partial(_attention, heads=heads, spectral_norm=spectral_norm)
        super().__init__(image_size, channels, spectral_norm=spectral_norm, extra_blocks={r: block for r in used},
                         **kwargs)
        self.attention_resolutions = used


class SAGANDiscriminator(DCGANDiscriminator):
    def __init__(self, image_size: int, channels: int, attention_resolutions: Sequence[int] = (16,), heads: int = 1,
                 spectral_norm: bool = True, **kwargs) -> None:
        _check_heads(heads)
        _, n_down, work = conv_plan(image_size)
        used = place_attention(attention_resolutions, [work // 2**i for i in range(1, n_down + 1)])
        block = partial(_attention, heads=heads, spectral_norm=spectral_norm)
        super().__init__(image_size, channels, spectral_norm=spectral_norm, extra_blocks={r: block for r in used},
                         **kwargs)
        self.attention_resolutions = used


def _attention(channels: int, heads: int, spectral_norm: bool) -> SelfAttention2d:
    return SelfAttention2d(channels, heads, spectral_norm)


@GENERATORS.register("sagan")
def sagan_generator(**kwargs) -> SAGANGenerator:
    """DCGAN-style generator with self-attention and spectral norm; conditional by label embedding."""
    return SAGANGenerator(**kwargs)


@DISCRIMINATORS.register("sagan")
def sagan_discriminator(**kwargs) -> SAGANDiscriminator:
    """DCGAN-style projection discriminator with self-attention and spectral norm."""
    return SAGANDiscriminator(**kwargs)
