"""``progan``: progressive growing (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability,
and Variation") at ganaug's sizes, class-conditional so that it can serve ``augment``.

Both networks hold every resolution from the smallest (4 px, or 7 px for 28 px data: ``conv_plan``) to the image
size and train on a schedule of phases: the smallest level alone, then each larger level faded in (``alpha`` from 0
to 1: the new level's output blended with the previous level's, upsampled) and then trained alone, ``phase_steps``
generator updates each (by default the growth fills the first half of the run). The schedule is
:meth:`ProGANGenerator.phase_at`; the one GAN trainer sets the phase of both networks before every update
(``set_phase``). The phase lives in buffers, so checkpoints (and the EMA copy) carry it
and a resumed run continues in the middle of a fade-in. Outside training (sampling, metrics), G returns full-size
images at whatever phase it reached (nearest-neighbour upsampled until the last level).

From the paper: equalised learning rate (weights drawn from N(0, 1) and scaled at run time by He's constant),
pixelwise feature normalisation in G, minibatch standard deviation in D's last block, toRGB / fromRGB 1x1 layers per
level, nearest upsampling and average pooling; WGAN-GP is its default loss (``ARCHITECTURE_DEFAULTS``).
Changed: a tanh on G's output (ganaug's generators all give [-1, 1]; the paper's is linear). Left out: the drift
term (epsilon 0.001), the blending of real images during a fade-in (D's fromRGB paths are
blended instead, as for fakes), and the per-resolution minibatch sizes. Conditioning: a class embedding concatenated
to z in G, a projection term (Miyato & Koyama 2018) in D.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import conv_plan, layer_widths
from ganaug.models.layers import MinibatchStd
from ganaug.models.registry import DISCRIMINATORS, GENERATORS


class EqualConv2d(nn.Module):
    """A convolution with equalised learning rate: weight ~ N(0, 1), multiplied by sqrt(2 / fan_in) at every call."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, padding: int = 0, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.scale, self.padding = gain / math.sqrt(c_in * kernel_size**2), padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualLinear(nn.Module):
    """A linear layer with equalised learning rate (see :class:`EqualConv2d`)."""

    def __init__(self, f_in: int, f_out: int, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(f_out, f_in))
        self.bias = nn.Parameter(torch.zeros(f_out))
        self.scale = gain / math.sqrt(f_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each pixel's feature vector divided by its root mean square over the channels (in fp32)."""
    return (x.float() * torch.rsqrt(x.float().square().mean(1, keepdim=True) + eps)).to(x.dtype)


def act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class Phased(nn.Module):
    """The current level (0: the smallest resolution) and fade-in weight, as buffers (saved with the weights)."""

    def __init__(self, levels: int, channels: int) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.levels = levels
        self.register_buffer("level", torch.tensor(levels - 1))  # a network built outside training is fully grown
        self.register_buffer("alpha", torch.tensor(1.0))

    unused_parameters = True  # the other levels' toRGB / fromRGB layers sit out each phase (DDP must know)

    def inactive_parameters(self) -> set[str]:
        """Names of the parameters the current phase does not use: the other levels' toRGB or fromRGB layers."""
        level, fading = int(self.level), float(self.alpha) < 1
        used = {level, level - 1} if fading else {level}
        return {name for name, _ in self.named_parameters()
                if name.split(".")[0] in ("to_rgb", "from_rgb") and int(name.split(".")[1]) not in used}

    def set_phase(self, level: int, alpha: float) -> None:
        if not 0 <= level < self.levels or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"phase ({level}, {alpha}) outside levels 0..{self.levels - 1}, alpha [0, 1]")
        self.level.fill_(level), self.alpha.fill_(alpha)


class ProGANGenerator(Phased):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 128,
                 phase_steps: int | None = None) -> None:
        base, n_up, self.work_size = conv_plan(image_size)
        super().__init__(n_up + 1, channels)
        if phase_steps is not None and phase_steps < 1:
            raise ValueError(f"phase_steps must be >= 1 (or None: from the run's length), got {phase_steps}")
        self.image_size, self.num_classes, self.z_dim, self.phase_steps = image_size, num_classes, z_dim, phase_steps
        self.base, widths = base, layer_widths(width, n_up + 1)
        self.embed = nn.Embedding(num_classes, z_dim) if num_classes else None
        self.dense = EqualLinear(z_dim * (2 if num_classes else 1), widths[0] * base * base, gain=math.sqrt(2) / 4)
        self.first = EqualConv2d(widths[0], widths[0], 3, 1)
        self.blocks = nn.ModuleList(nn.ModuleList([EqualConv2d(c_in, c, 3, 1), EqualConv2d(c, c, 3, 1)])
                                    for c_in, c in zip(widths, widths[1:]))
        self.to_rgb = nn.ModuleList(EqualConv2d(c, channels, 1, gain=1.0) for c in widths)

    def phase_at(self, step: int, total: int) -> tuple[int, float]:
        """(level, alpha) after ``step`` of ``total`` generator updates: level 0 for ``phase_steps``, then per level a
        fade-in (alpha 0 -> 1) and a stable phase of ``phase_steps`` each; the last level stays. ``phase_steps``
        None: the growth takes the first half of the run (the paper: 600k images per phase, of about 12M)."""
        t = self.phase_steps or max(1, total // (2 * (2 * self.levels - 1)))
        if step < t:
            return 0, 1.0
        level, into = divmod(step - t, 2 * t)
        if level + 1 >= self.levels:
            return self.levels - 1, 1.0
        return level + 1, min(1.0, into / t)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = pixel_norm(z[:, :, None, None]).flatten(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this generator is class-conditional: pass labels y")
            z = torch.cat([z, pixel_norm(self.embed(y)[:, :, None, None]).flatten(1)], 1)
        h = pixel_norm(act(self.dense(z).view(len(z), -1, self.base, self.base)))
        h = pixel_norm(act(self.first(h)))
        level, alpha = int(self.level), float(self.alpha)
        previous = h
        for block in self.blocks[:level]:
            previous = h
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            for conv in block:
                h = pixel_norm(act(conv(h)))
        out = self.to_rgb[level](h)
        if level and alpha < 1:  # fade-in: blend with the previous level's image, upsampled
            out = torch.lerp(F.interpolate(self.to_rgb[level - 1](previous), scale_factor=2, mode="nearest"), out, alpha)
        out = F.interpolate(out, size=self.work_size, mode="nearest") if out.shape[-1] != self.work_size else out
        out = F.interpolate(out, size=self.image_size, mode="bilinear", align_corners=False) \
            if self.work_size != self.image_size else out
        return torch.tanh(out)  # every ganaug generator's range, [-1, 1] (the paper's output is linear)


class ProGANDiscriminator(Phased):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 128,
                 spectral_norm: bool = False) -> None:
        """``spectral_norm``: spectrally normalised layers instead of the equalised ones (as every ganaug D offers)."""
        base, n_up, self.work_size = conv_plan(image_size)
        super().__init__(n_up + 1, channels)
        self.image_size, self.num_classes, self.base = image_size, num_classes, base
        sn = spectral_norm

        def conv(c_in: int, c_out: int, k: int, padding: int = 0) -> nn.Module:
            return L.conv2d(c_in, c_out, k, 1, padding, spectral_norm=True) if sn else EqualConv2d(c_in, c_out, k, padding)

        widths = layer_widths(width, n_up + 1)  # widths[l]: channels at level l (the smallest level the widest)
        self.from_rgb = nn.ModuleList(conv(channels, c, 1) for c in widths)
        self.blocks = nn.ModuleList(nn.ModuleList([conv(c, c, 3, 1), conv(c, c_out, 3, 1)])
                                    for c_out, c in zip(widths, widths[1:]))  # block l-1: level l -> level l-1
        self.mbstd = MinibatchStd(4)
        self.last_conv = conv(widths[0] + 1, widths[0], 3, 1)
        self.last_dense = conv(widths[0], widths[0], base)  # base x base -> 1 x 1
        self.adv = L.linear(widths[0], 1, spectral_norm=True) if sn else EqualLinear(widths[0], 1, gain=1.0)
        self.embed = L.embedding(num_classes, widths[0], spectral_norm=sn) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        level, alpha = int(self.level), float(self.alpha)
        if x.shape[-1] != self.work_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        size = self.base * 2**level
        x = F.avg_pool2d(x, self.work_size // size) if x.shape[-1] != size else x
        h = act(self.from_rgb[level](x))
        for i, l in enumerate(range(level, 0, -1)):
            block = self.blocks[l - 1]
            h = F.avg_pool2d(act(block[1](act(block[0](h)))), 2)
            if i == 0 and alpha < 1:  # fade-in: blend with the previous level's fromRGB of the image, downsampled
                h = torch.lerp(act(self.from_rgb[l - 1](F.avg_pool2d(x, 2))), h, alpha)
        h = act(self.last_conv(self.mbstd(h)))
        features = act(self.last_dense(h)).flatten(1)
        adv = self.adv(features).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            adv = adv + (self.embed(y) * features).sum(1)  # projection (Miyato & Koyama 2018)
        return {"adv": adv, "features": features}


@GENERATORS.register("progan")
def progan_generator(**kwargs) -> ProGANGenerator:
    """Progressive growing: equalised learning rate, pixel norm, fade-in between resolutions."""
    return ProGANGenerator(**kwargs)


@DISCRIMINATORS.register("progan")
def progan_discriminator(**kwargs) -> ProGANDiscriminator:
    """Progressive growing: equalised learning rate, minibatch std, fade-in between resolutions, projection."""
    return ProGANDiscriminator(**kwargs)
