"""Segmentation networks by name (``SEGMENTERS``): image (N, C, H, W) -> class logits (N, K, H, W).

- ``unet``: Ronneberger et al. 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation": four
  downsamplings of two 3x3 convolutions each, a bottleneck, four upsamplings (2x2 transposed convolutions) joined to
  the encoder's maps of the same size; ``width`` channels at the top (the paper: 64), doubled per level. Padded
  convolutions (the paper's are unpadded, with cropping) and BatchNorm, so the output has the input's size.
- ``mobilenet-unet``: the encoder-decoder of the TensorFlow segmentation tutorial that Goodfellow et al.'s overview
  demonstrates: a MobileNetV2-style encoder (Sandler et al. 2018: inverted residual blocks, expansion 6, depthwise
  3x3 convolutions, linear bottlenecks) and an upsampling decoder (transposed convolutions) with skips from the
  encoder, trained from scratch (no ImageNet weights can be obtained here).

Both take any size divisible by 16 (64 to 512 px), gray or RGB.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaug.registry import Registry

SEGMENTERS = Registry("segmenter")


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))


def _check(size: int | None, channels: int, num_classes: int) -> None:
    if channels < 1 or num_classes < 2:
        raise ValueError(f"a segmenter needs channels >= 1 and num_classes >= 2, got {channels} and {num_classes}")


class UNet(nn.Module):
    """``num_classes`` output maps (logits; pix2pix's generator uses it with the image's channels as outputs)."""

    def __init__(self, channels: int, num_classes: int, width: int = 16, depth: int = 4) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(channels, widths[0])] +
                                  [_double_conv(a, b) for a, b in zip(widths, widths[1:])])
        self.up = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, 2) for a, b in zip(widths, widths[1:]))
        self.merge = nn.ModuleList(_double_conv(2 * a, a) for a in widths[:-1])
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        self.depth = depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2**self.depth or x.shape[-2] % 2**self.depth:
            raise ValueError(f"unet: image size {tuple(x.shape[-2:])} is not divisible by {2**self.depth}")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        for i in reversed(range(self.depth)):
            x = self.merge[i](torch.cat([skips[i], self.up[i](x)], 1))
        return self.head(x)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, depthwise 3x3 (stride 1 or 2), linear 1x1 projection; residual if shapes
    match."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int = 6) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(True),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetUNet(nn.Module):
    def __init__(self, channels: int, num_classes: int, width: int = 16) -> None:
        super().__init__()
        _check(None, channels, num_classes)
        w = [width, width * 3 // 2, width * 2, width * 4, width * 6]  # MobileNetV2's 32-24-32-64-96 at width 16 x 2
        self.stem = nn.Sequential(nn.Conv2d(channels, w[0], 3, 2, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU6(True))
        self.stages = nn.ModuleList(nn.Sequential(InvertedResidual(a, b, 2), InvertedResidual(b, b, 1))
                                    for a, b in zip(w, w[1:]))  # 1/4, 1/8, 1/16, 1/32
        self.up = nn.ModuleList(nn.Sequential(nn.ConvTranspose2d(b + (b if i < 3 else 0), a, 4, 2, 1, bias=False),
                                              nn.BatchNorm2d(a), nn.ReLU(True))
                                for i, (a, b) in enumerate(zip(w, w[1:])))
        self.head = nn.ConvTranspose2d(2 * w[0], num_classes, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"mobilenet-unet: image size {tuple(x.shape[-2:])} is not divisible by 32")
        skips = [self.stem(x)]
        for stage in self.stages:
            skips.append(stage(skips[-1]))
        h = skips[-1]
        for i in reversed(range(4)):  # up[i]: from the level of stage i (+ its skip) to the level below
            h = self.up[i](h if i == 3 else torch.cat([h, skips[i + 1]], 1))
        return self.head(torch.cat([h, skips[0]], 1))


@SEGMENTERS.register("unet")
def unet(channels: int, num_classes: int, **kwargs) -> UNet:
    _check(None, channels, num_classes)
    return UNet(channels, num_classes, **kwargs)


@SEGMENTERS.register("mobilenet-unet")
def mobilenet_unet(channels: int, num_classes: int, **kwargs) -> MobileNetUNet:
    return MobileNetUNet(channels, num_classes, **kwargs)
