"""``style-lite``: a small StyleGAN2-inspired generator (Karras et al. 2020) and a residual discriminator.

This is not StyleGAN: it keeps the ideas that fit 32-64 px and a CPU (it works from 8 to 96 px),
and leaves out the rest. Kept: a mapping network (z normalised, concatenated with a normalised class
embedding when conditional, as StyleGAN2-ADA does, then ``mapping_layers`` equalised-learning-rate
fully-connected layers at ``mapping_lr_mul``) giving ``w``; synthesis from a learned constant through
modulated 3x3 convs with weight demodulation, per-layer noise inputs with learned strength, and
skip-connected toRGB layers; truncation with a tracked average ``w``. Left out: style mixing, path
length regularisation, FIR-filtered up/downsampling (bilinear here), lazy regularisation, and the
many-layer mapping (2 layers by default, StyleGAN2-ADA's CIFAR-10 setting; StyleGAN uses 8).
Adapted to ganaug: the constant is ``base x base`` of ``conv_plan`` (4x4 at 32 and 64 px, 7x7 at 28,
3x3 at 96) and the output goes through Tanh so images lie in [-1, 1]. Channels: ``width`` at the
constant, halving per upsampling, at least 16.

Truncation: ``G(z, y, truncation_psi=0.7)`` returns ``w_avg + psi * (w - w_avg)``; ``w_avg`` is a
buffer updated (exponential moving average, ``w_avg_beta``) on every forward pass in training mode,
one average per class when conditional (so truncating keeps the class). ``noise_mode``: "random"
(default), "const" (fixed noise buffers, for reproducible images) or "none".

Discriminator: a residual one (StyleGAN2's "resnet" D without its equalised learning rate): 1x1
fromRGB, per resolution two 3x3 convs + 2x average pool with a 1x1 skip, scaled by 1/sqrt(2); at
``base x base`` the minibatch standard deviation (on by default, as StyleGAN2), a 3x3 conv and a
fully-connected layer give ``features``; a linear layer gives ``adv`` and a projection term the class.
Options: ``spectral_norm`` (default False), ``minibatch_std`` (default True), ``mbstd_group_size`` (4).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import check_gan_args, conv_plan, layer_widths
from ganaug.models.registry import DISCRIMINATORS, GENERATORS

NOISE_MODES = ("random", "const", "none")


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * math.sqrt(2.0)  # StyleGAN's gain-corrected LeakyReLU


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * torch.rsqrt(x.float().square().mean(dim=1, keepdim=True) + eps).to(x.dtype)


class EqualLinear(nn.Module):
    """Fully-connected layer with StyleGAN's equalised learning rate (weights N(0, 1), scaled at run time)."""

    def __init__(self, f_in: int, f_out: int, bias_init: float = 0.0, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(f_out, f_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((f_out,), float(bias_init)))
        self.weight_gain, self.lr_mul = lr_mul / math.sqrt(f_in), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution: per-sample input-channel scales from ``w``, then weight demodulation."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, w_dim: int, demodulate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel_size, kernel_size))
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)  # styles start at 1
        self.gain, self.demodulate, self.padding = 1.0 / math.sqrt(c_in * kernel_size**2), demodulate, kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        b, c, h, wd = x.shape
        weight = self.weight[None] * self.gain * self.affine(w)[:, None, :, None, None]  # (B, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        out = F.conv2d(x.reshape(1, b * c, h, wd), weight.flatten(0, 1).to(x.dtype), padding=self.padding, groups=b)
        return out.reshape(b, -1, h, wd)


class StyledConv(nn.Module):
    """[2x bilinear upsample] -> modulated 3x3 conv -> noise * learned strength -> bias -> LeakyReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int, up: bool) -> None:
        super().__init__()
        self.up = up
        self.conv = ModulatedConv2d(c_in, c_out, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = self.conv(x, w)
        if noise_mode == "random":
            x = x + self.noise_strength * torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        elif noise_mode == "const":
            x = x + self.noise_strength * self.noise_const.to(x.dtype)
        return _lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    def __init__(self, c_in: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(c_in, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class StyleLiteGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 128,
                 w_dim: int = 128, mapping_layers: int = 2, mapping_lr_mul: float = 0.01,
                 w_avg_beta: float = 0.995) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width, z_dim=z_dim, w_dim=w_dim, mapping_layers=mapping_layers)
        if not mapping_lr_mul > 0 or not 0.0 <= w_avg_beta < 1.0:
            raise ValueError(f"need mapping_lr_mul > 0 and w_avg_beta in [0, 1), got {mapping_lr_mul}, {w_avg_beta}")
        self.image_size, self.z_dim, self.num_classes, self.w_dim = image_size, z_dim, num_classes, w_dim
        self.w_avg_beta = w_avg_beta
        base, n_up, self.work_size = conv_plan(image_size)
        # mapping network
        self.embed = nn.Embedding(num_classes, w_dim) if num_classes else None
        f_in = z_dim + (w_dim if num_classes else 0)
        self.mapping = nn.ModuleList(
            EqualLinear(f_in if i == 0 else w_dim, w_dim, lr_mul=mapping_lr_mul) for i in range(mapping_layers))
        self.register_buffer("w_avg", torch.zeros(max(num_classes, 1), w_dim))  # one average w per class
        # synthesis network
        widths = layer_widths(width, n_up + 1)
        self.const = nn.Parameter(torch.randn(widths[0], base, base))
        self.convs = nn.ModuleList([StyledConv(widths[0], widths[0], w_dim, base, up=False)])
        self.to_rgb = nn.ModuleList([ToRGB(widths[0], channels, w_dim)])
        for i in range(1, n_up + 1):
            res = base * 2**i
            self.convs.append(StyledConv(widths[i - 1], widths[i], w_dim, res, up=True))
            self.convs.append(StyledConv(widths[i], widths[i], w_dim, res, up=False))
            self.to_rgb.append(ToRGB(widths[i], channels, w_dim))
        self.num_ws = len(self.convs) + 1  # one w per modulated conv, and the last toRGB's

    def map(self, z: torch.Tensor, y: torch.Tensor | None = None, truncation_psi: float = 1.0) -> torch.Tensor:
        """z (and y) -> w (B, w_dim); updates ``w_avg`` in training mode, then truncates towards it."""
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass labels y")
        h = normalize_2nd_moment(z)
        if self.embed is not None:
            h = torch.cat([h, normalize_2nd_moment(self.embed(y).to(h.dtype))], dim=1)
        for layer in self.mapping:
            h = _lrelu(layer(h))
        idx = y if self.num_classes else torch.zeros(len(h), dtype=torch.long, device=h.device)
        if self.training:
            self._track_w_avg(h.detach().float(), idx)
        if truncation_psi != 1.0:
            h = self.w_avg[idx].to(h.dtype).lerp(h, truncation_psi)
        return h

    @torch.no_grad()
    def _track_w_avg(self, w: torch.Tensor, idx: torch.Tensor) -> None:
        k = self.w_avg.shape[0]
        sums = torch.zeros_like(self.w_avg).index_add_(0, idx, w)
        counts = torch.bincount(idx, minlength=k).to(w.dtype)[:, None]
        present = counts > 0
        means = sums / counts.clamp_min(1)
        self.w_avg.copy_(torch.where(present, means.lerp(self.w_avg, self.w_avg_beta), self.w_avg))

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        """One w (B, w_dim) for every layer, or one per layer (B, num_ws, w_dim: stylegan2's style mixing) -> images
        (B, C, H, W) in [-1, 1]. Conv j takes ws[:, j]; each toRGB the w of the conv after it (the last ws[:, -1])."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.dim() == 2:
            ws = ws[:, None].expand(-1, self.num_ws, -1)
        x = self.const[None].expand(len(ws), -1, -1, -1).to(ws.dtype)
        x = self.convs[0](x, ws[:, 0], noise_mode)
        rgb = self.to_rgb[0](x, ws[:, 1])
        for i in range(1, len(self.to_rgb)):
            x = self.convs[2 * i - 1](x, ws[:, 2 * i - 1], noise_mode)
            x = self.convs[2 * i](x, ws[:, 2 * i], noise_mode)
            up = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            rgb = up + self.to_rgb[i](x, ws[:, 2 * i + 1])
        img = torch.tanh(rgb)
        if self.work_size != self.image_size:
            img = F.interpolate(img, size=self.image_size, mode="bilinear", antialias=True, align_corners=False)
        return img

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, truncation_psi: float = 1.0,
                noise_mode: str = "random") -> torch.Tensor:
        return self.synthesis(self.map(z, y, truncation_psi), noise_mode)


class ResidualDBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, spectral_norm: bool) -> None:
        super().__init__()
        self.conv0 = L.conv2d(c_in, c_in, 3, padding=1, spectral_norm=spectral_norm)
        self.conv1 = L.conv2d(c_in, c_out, 3, padding=1, spectral_norm=spectral_norm)
        self.skip = L.conv2d(c_in, c_out, 1, bias=False, spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(F.leaky_relu(self.conv1(F.leaky_relu(self.conv0(x), 0.2)), 0.2), 2)
        return (h + self.skip(F.avg_pool2d(x, 2))) / math.sqrt(2.0)


class StyleLiteDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 128,
                 spectral_norm: bool = False, minibatch_std: bool = True, mbstd_group_size: int = 4) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width)
        self.image_size, self.num_classes = image_size, num_classes
        base, n_down, self.work_size = conv_plan(image_size)
        widths = layer_widths(width, n_down + 1)[::-1]  # narrowest at the image, widest at base x base
        self.from_rgb = L.conv2d(channels, widths[0], 1, spectral_norm=spectral_norm)
        self.blocks = nn.Sequential(*(ResidualDBlock(a, b, spectral_norm) for a, b in zip(widths[:-1], widths[1:])))
        c = widths[-1]
        self.mbstd = L.MinibatchStd(mbstd_group_size) if minibatch_std else None
        self.conv = L.conv2d(c + (1 if minibatch_std else 0), c, 3, padding=1, spectral_norm=spectral_norm)
        self.fc = L.linear(c * base * base, c, spectral_norm=spectral_norm)
        self.out = L.linear(c, 1, spectral_norm=spectral_norm)
        self.embed = L.embedding(num_classes, c, spectral_norm) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": (B,), "features": (B, F)}``; the class enters by projection."""
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        h = self.blocks(F.leaky_relu(self.from_rgb(x), 0.2))
        if self.mbstd is not None:
            h = self.mbstd(h)
        features = F.leaky_relu(self.fc(F.leaky_relu(self.conv(h), 0.2).flatten(1)), 0.2)
        adv = self.out(features).flatten()
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            adv = adv + (self.embed(y) * features).sum(dim=1)  # projection term
        return {"adv": adv, "features": features}


@GENERATORS.register("style-lite")
def style_lite_generator(**kwargs) -> StyleLiteGenerator:
    """A small StyleGAN2-inspired generator (mapping network, modulated convs, noise, truncation); not StyleGAN."""
    return StyleLiteGenerator(**kwargs)


@DISCRIMINATORS.register("style-lite")
def style_lite_discriminator(**kwargs) -> StyleLiteDiscriminator:
    """Residual projection discriminator with minibatch standard deviation, paired with the style-lite generator."""
    return StyleLiteDiscriminator(**kwargs)
