"""CycleGAN's networks (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks"): a ResNet generator (Johnson et al. 2016) and a PatchGAN discriminator (Isola et al. 2017).

Generator: c7s1-k, two stride-2 downsamplings (d2k, d4k), ``blocks`` residual blocks, two fractionally strided
upsamplings back to the input's size, c7s1-C with tanh; instance norm and reflection padding throughout, as in the
paper (k = 64 and 9 blocks at 256 px there; ``width`` and ``blocks`` scale it down for small images on a CPU).
Any size from 8 px works: the upsamplings' output padding restores odd sizes (28 -> 14 -> 7 -> 14 -> 28).

Discriminator: 4x4 convolutions C64-C128-C256 (stride 2, no norm on the first) then C512 and a 1-channel map
(stride 1): each output judges one patch (70x70 at 256 px). Small images get fewer stride-2 layers so that the
map stays at least 2x2 (8 px: one, 28 px: two, >= 32 px: three).
"""

from __future__ import annotations

import torch
from torch import nn

from ganaug.models.registry import TRANSLATORS


def _norm_act(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels), nn.ReLU(True)]


class ResnetBlock(nn.Module):
    """x + (reflect-pad, 3x3 conv, IN, ReLU, reflect-pad, 3x3 conv, IN)(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), *_norm_act(channels),
                                  nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Translates an image of one domain into the other: (B, C, H, W) in [-1, 1] -> the same shape."""

    def __init__(self, image_size: int, channels: int, width: int = 32, blocks: int = 6) -> None:
        super().__init__()
        if image_size < 8 or width < 1 or blocks < 0:
            raise ValueError(f"cyclegan needs image_size >= 8, width >= 1, blocks >= 0 (got {image_size}, {width}, "
                             f"{blocks})")
        sizes = [image_size, (image_size + 1) // 2, (image_size + 3) // 4]  # after each stride-2 3x3 pad-1 conv
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, width, 7), *_norm_act(width)]
        c = width
        for _ in range(2):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), *_norm_act(2 * c)]
            c *= 2
        layers += [ResnetBlock(c) for _ in range(blocks)]
        for size_in, size_out in ((sizes[2], sizes[1]), (sizes[1], sizes[0])):
            pad = size_out - (2 * size_in - 1)  # 0 or 1: the output padding that restores an odd size
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=pad), *_norm_act(c // 2)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def patch_strides(image_size: int, layers: int = 3) -> int:
    """How many of the ``layers`` stride-2 convolutions fit: the map after them is at least 4 px (then 2 stride-1)."""
    n = 0
    while n < layers and image_size // 2 ** (n + 1) >= 4:
        n += 1
    return n


class PatchDiscriminator(nn.Module):
    """A map of real/fake logits, one per overlapping patch: (B, C, H, W) -> (B, 1, h, w)."""

    def __init__(self, image_size: int, channels: int, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        strides = patch_strides(image_size, layers)
        body: list[nn.Module] = []
        c_in, c = channels, width
        for i in range(strides + 1):  # the stride-2 layers, then C(8k) at stride 1
            stride = 2 if i < strides else 1
            norm = [nn.InstanceNorm2d(c)] if i else []
            body += [nn.Conv2d(c_in, c, 4, stride, 1), *norm, nn.LeakyReLU(0.2, True)]
            c_in, c = c, min(2 * c, 8 * width)
        body.append(nn.Conv2d(c_in, 1, 4, 1, 1))
        self.net = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@TRANSLATORS.register("cyclegan")
def cyclegan_generator(**kwargs) -> ResnetGenerator:
    return ResnetGenerator(**kwargs)


@TRANSLATORS.register("patchgan")
def patchgan_discriminator(**kwargs) -> PatchDiscriminator:
    return PatchDiscriminator(**kwargs)
