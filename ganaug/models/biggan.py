"""BigGAN (Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High Fidelity Natural Image Synthesis").

Generator: a linear map of the first chunk of z to a base x base map, then one ResNet up-block per
doubling (BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3, plus a 1x1-conv shortcut, upsampled), then
BN-ReLU-conv3x3 and Tanh. Every BatchNorm of the up-blocks is class-conditional: its per-sample
gain ``1 + W_g c`` and bias ``W_b c`` are linear in ``c`` = the shared class embedding concatenated
with this block's chunk of z (hierarchical z). Discriminator: pre-activation ResNet down-blocks
(the first one BigGAN's "optimized" block, without the leading ReLU), the last two at the last
size without downsampling, ReLU, global sum pooling, a linear adversarial head plus a projection
head (Miyato & Koyama 2018): ``adv = w.h + embed(y).h``. Orthogonal initialisation everywhere.
``num_classes=0`` gives the unconditional pair: no projection, and the BatchNorms are conditioned
on the z chunks only (plain BatchNorm without ``hier``).

Widths (``width``, i.e. ``gan.g_width`` / ``gan.d_width``): G's first three blocks have ``width``
channels, each later one half the previous (from 64 px); D's last four blocks have ``width``,
each earlier one half. At 32 px this is the CIFAR layout of BigGAN: G 3 blocks of 4 x ch, D 4
blocks of 2 x ch. ganaug's biggan default is ch = 32 (g_width 128, d_width 64); the paper width of
PyTorch-StudioGAN's CIFAR-10 BigGAN (g_conv_dim = d_conv_dim = 96) is ``gan.g_width=384
gan.d_width=192`` (StudioGAN also uses z_dim 80 and a shared embedding of 128).

Options (factory kwargs, from ``gan.generator_kwargs`` / ``gan.discriminator_kwargs``):

- ``hier`` (G, default True): hierarchical z, split into one chunk for the linear layer and one
  per up-block (near-equal sizes; the first takes the remainder). False: all of z goes to the
  linear layer and the BatchNorms see the class embedding only.
- ``shared_dim`` (G, default 128): size of the shared class embedding.
- ``attention_resolutions`` (G and D, default [16], as BigGAN at 32-128 px): feature-map sizes
  (px) that get a self-attention block (``attention.SelfAttention2d``) after the first block
  making that size, each moved to the nearest size the network has (as in ``sagan``); ``[]``: none.
  ``heads`` (default 1): attention heads.
- ``spectral_norm`` (G and D, default True): spectral normalisation of every conv and linear layer
  (BigGAN uses it in both; the class embedding of G stays plain).

Truncation: ``G(z, y, truncation_psi=0.5)`` maps z through the normal CDF onto the normal truncated
to [-2, 2] and scales it by psi (as the BigGAN TF-Hub modules sample). BatchNorm runs in fp32 under
autocast (``ConditionalBatchNorm2d``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.attention import SelfAttention2d
from ganaug.models.common import check_gan_args, conv_plan, place_attention
from ganaug.models.registry import DISCRIMINATORS, GENERATORS

TRUNCATION_THRESHOLD = 2.0  # |z| bound of the truncated normal that truncation_psi scales


def block_widths(width: int, n: int, full: int) -> list[int]:
    """``n`` block widths, widest first: ``full`` blocks of ``width``, then halving, never below min(width, 16)."""
    return [max(width // 2 ** max(0, i - full + 1), min(width, 16)) for i in range(n)]


def z_chunks(z_dim: int, slots: int) -> list[int]:
    """Sizes of ``slots`` chunks of z: equal ones for the blocks, the first (the linear layer's) takes the rest."""
    if z_dim < slots:
        raise ValueError(f"hierarchical z needs z_dim >= {slots} (one chunk per up-block and one more), got {z_dim}")
    each = z_dim // slots
    return [z_dim - each * (slots - 1)] + [each] * (slots - 1)


def truncated(z: torch.Tensor, psi: float, threshold: float = TRUNCATION_THRESHOLD) -> torch.Tensor:
    """``psi`` times z mapped, by the normal CDF, onto the standard normal truncated to [-threshold, threshold]."""
    low = 0.5 * math.erfc(threshold / math.sqrt(2.0))  # the normal CDF at -threshold
    u = low + torch.special.ndtr(z.float()) * (1.0 - 2.0 * low)  # fp32: MPS has no float64
    return (psi * torch.special.ndtri(u)).to(z.dtype)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm with a per-sample gain ``1 + W_g c`` and bias ``W_b c`` linear in a condition vector ``c``.

    ``cond_dim=0``: plain BatchNorm with a learned scale and shift. The statistics, and the affine
    part, are computed in fp32 whatever the input dtype (autocast off), and the result cast back.
    """

    def __init__(self, channels: int, cond_dim: int = 0, spectral_norm: bool = False) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=cond_dim == 0)
        self.affine = L.linear(cond_dim, 2 * channels, bias=False, spectral_norm=spectral_norm) if cond_dim else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            h = self.bn(x.float())
            if self.affine is not None:
                gain, bias = self.affine(c.float())[:, :, None, None].chunk(2, dim=1)
                h = h * (1.0 + gain) + bias
        return h.to(x.dtype)


class GBlock(nn.Module):
    """BigGAN's up-block: cBN-ReLU-upsample-conv3x3-cBN-ReLU-conv3x3, plus a 1x1-conv shortcut, upsampled.

    The shortcut convolves before upsampling (nearest upsampling commutes with a 1x1 conv: same result, 4x cheaper).
    """

    def __init__(self, c_in: int, c_out: int, cond_dim: int, spectral_norm: bool) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(c_in, cond_dim, spectral_norm)
        self.conv1 = L.conv2d(c_in, c_out, 3, 1, 1, spectral_norm=spectral_norm)
        self.bn2 = ConditionalBatchNorm2d(c_out, cond_dim, spectral_norm)
        self.conv2 = L.conv2d(c_out, c_out, 3, 1, 1, spectral_norm=spectral_norm)
        self.shortcut = L.conv2d(c_in, c_out, 1, spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, c)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), c)))
        return h + F.interpolate(self.shortcut(x), scale_factor=2, mode="nearest")


class BigGANGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 120, width: int = 128,
                 shared_dim: int = 128, hier: bool = True, attention_resolutions: Sequence[int] = (16,),
                 heads: int = 1, spectral_norm: bool = True) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width, z_dim=z_dim, shared_dim=shared_dim, heads=heads)
        base, n_up, self.work_size = conv_plan(image_size)
        self.image_size, self.z_dim, self.num_classes, self.base = image_size, z_dim, num_classes, base
        self.z_sizes = z_chunks(z_dim, n_up + 1) if hier else [z_dim]
        self.shared = nn.Embedding(num_classes, shared_dim) if num_classes else None
        cond_dim = (shared_dim if num_classes else 0) + (self.z_sizes[1] if hier else 0)
        widths = block_widths(width, n_up, full=3)
        self.linear = L.linear(self.z_sizes[0], widths[0] * base * base, spectral_norm=spectral_norm)
        self.attention_resolutions = place_attention(attention_resolutions, [base * 2 ** (i + 1) for i in range(n_up)])
        blocks: list[nn.Module] = []
        c_in = widths[0]
        for i, c_out in enumerate(widths):
            blocks.append(GBlock(c_in, c_out, cond_dim, spectral_norm))
            if base * 2 ** (i + 1) in self.attention_resolutions:
                blocks.append(SelfAttention2d(c_out, heads, spectral_norm))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.out_bn = ConditionalBatchNorm2d(c_in)
        self.out_conv = L.conv2d(c_in, channels, 3, 1, 1, spectral_norm=spectral_norm)
        init_orthogonal(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, truncation_psi: float = 1.0) -> torch.Tensor:
        """Images in [-1, 1] for noise ``z`` (B, z_dim) and labels ``y`` (B,); ``truncation_psi`` < 1: truncated z."""
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass labels y")
        if truncation_psi != 1.0:
            z = truncated(z, truncation_psi)
        chunks = list(torch.split(z, self.z_sizes, dim=1))
        shared = [self.shared(y).to(z.dtype)] if self.shared is not None else []
        h = self.linear(chunks[0]).view(len(z), -1, self.base, self.base)
        k = 0
        for block in self.blocks:
            if isinstance(block, GBlock):
                parts = shared + chunks[1 + k : 2 + k]  # the class embedding and this block's chunk of z
                h = block(h, torch.cat(parts, dim=1) if parts else None)
                k += 1
            else:
                h = block(h)
        x = torch.tanh(self.out_conv(F.relu(self.out_bn(h))))
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bilinear", antialias=True, align_corners=False)
        return x


class DBlock(nn.Module):
    """Pre-activation down-block: ReLU-conv3x3-ReLU-conv3x3-avgpool, plus an avgpool-1x1-conv shortcut.

    ``first``: BigGAN's optimized first block (no ReLU on the input image). The shortcut pools before its
    1x1 conv (the two commute: same result, cheaper) and is the identity when neither size nor width changes.
    """

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool, spectral_norm: bool) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = L.conv2d(c_in, c_out, 3, 1, 1, spectral_norm=spectral_norm)
        self.conv2 = L.conv2d(c_out, c_out, 3, 1, 1, spectral_norm=spectral_norm)
        changes = c_in != c_out or down
        self.shortcut = L.conv2d(c_in, c_out, 1, spectral_norm=spectral_norm) if changes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        s = F.avg_pool2d(x, 2) if self.down else x
        if self.down:
            h = F.avg_pool2d(h, 2)
        return h + (s if self.shortcut is None else self.shortcut(s))


class BigGANDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 64,
                 attention_resolutions: Sequence[int] = (16,), heads: int = 1, spectral_norm: bool = True) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width, heads=heads)
        self.image_size, self.num_classes = image_size, num_classes
        self.work_size = conv_plan(image_size)[2]
        sizes = [self.work_size // 2]  # each block's output size: halve down to 8 px or less ...
        while sizes[-1] > 8:
            sizes.append(sizes[-1] // 2)
        sizes += sizes[-1:] * 2  # ... then two blocks at that size, as BigGAN's CIFAR discriminator
        widths = block_widths(width, len(sizes), full=4)[::-1]
        self.attention_resolutions = place_attention(attention_resolutions, sorted(set(sizes)))
        blocks: list[nn.Module] = []
        c_in, previous = channels, self.work_size
        for i, (size, c_out) in enumerate(zip(sizes, widths)):
            blocks.append(DBlock(c_in, c_out, down=size < previous, first=i == 0, spectral_norm=spectral_norm))
            if size < previous and size in self.attention_resolutions:
                blocks.append(SelfAttention2d(c_out, heads, spectral_norm))
            c_in, previous = c_out, size
        self.blocks = nn.Sequential(*blocks)
        self.adv = L.linear(c_in, 1, spectral_norm=spectral_norm)
        self.embed = L.embedding(num_classes, c_in, spectral_norm) if num_classes else None
        init_orthogonal(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": real/fake logits (B,), "features": sum-pooled last-block features (B, F)}``."""
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        h = F.relu(self.blocks(x)).float().sum(dim=(2, 3))
        logits = self.adv(h).flatten().float()
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            logits = logits + (self.embed(y) * h).sum(dim=1)  # projection term
        return {"adv": logits, "features": h}


def init_orthogonal(module: nn.Module) -> None:
    """BigGAN's initialisation: orthogonal weights (rows of the flattened weight orthonormal) for every conv, linear
    and embedding, zero biases; under spectral norm the unnormalised weight, then the power iteration re-settled."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                nn.init.orthogonal_(L.trainable_weight(m))
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
    L.settle_spectral_norm(module)


@GENERATORS.register("biggan")
def biggan_generator(**kwargs) -> BigGANGenerator:
    """BigGAN's ResNet generator: conditional BatchNorm from a shared class embedding and hierarchical z."""
    return BigGANGenerator(**kwargs)


@DISCRIMINATORS.register("biggan")
def biggan_discriminator(**kwargs) -> BigGANDiscriminator:
    """BigGAN's ResNet discriminator with spectral norm and a projection head."""
    return BigGANDiscriminator(**kwargs)
