"""WRN-28-2 (Zagoruyko & Komodakis 2016, "Wide Residual Networks") as the semi-supervised benchmarks use it.

The USB / FixMatch variant: a 3x3 stem of 16 channels, three stages of four pre-activation BasicBlocks
(BN-LeakyReLU(0.1)-conv3x3, twice, plus a 1x1 shortcut where the shape changes) at 16k, 32k, 64k channels
(strides 1, 2, 2), a final BN-LeakyReLU, global average pooling (``features``, 64k-d) and a linear layer.
BatchNorm momentum 0.001 as in USB. 1,467,610 parameters at 32x32x3, K=10 (k = 2). ``widen`` is the widen factor k
(the paper scale option): 2 is the CIFAR-10/SVHN/MNIST standard, 8 USB's CIFAR-100 (WRN-28-8). ``width`` is, as for
every classifier, the first layer's channels (16); the stages keep their ratio to it (width x k x 1, 2, 4).
Global pooling makes any size from 8 px work, gray or RGB.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.classifier_base import Classifier, check_classifier_args
from ganaug.models.registry import CLASSIFIERS

BN_MOMENTUM = 0.001  # USB's wrn.py (PyTorch convention: the weight of the new batch)
SLOPE = 0.1  # LeakyReLU negative slope (USB, FixMatch)


def bn_act(c: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(c, momentum=BN_MOMENTUM), nn.LeakyReLU(SLOPE, inplace=False))


class PreActBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.act1, self.act2 = bn_act(c_in), bn_act(c_out)
        self.conv1 = L.Conv2d(c_in, c_out, 3, stride, padding=1, bias=False)
        self.conv2 = L.Conv2d(c_out, c_out, 3, 1, padding=1, bias=False)
        self.shortcut = None if c_in == c_out and stride == 1 else L.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.act1(x)
        out = self.conv2(self.act2(self.conv1(a)))
        return out + (x if self.shortcut is None else self.shortcut(a))


class WideResNet(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 16, widen: int = 2,
                 depth: int = 28) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        if widen < 1:
            raise ValueError(f"a WideResNet's widen factor k is >= 1, got {widen}")
        if (depth - 4) % 6:
            raise ValueError(f"a WideResNet's depth is 6n + 4 (e.g. 28), got {depth}")
        n = (depth - 4) // 6
        stages = [width * widen, 2 * width * widen, 4 * width * widen]
        layers: list[nn.Module] = [L.Conv2d(channels, width, 3, 1, padding=1, bias=False)]
        c_in = width
        for s, c_out in enumerate(stages):
            for i in range(n):
                layers.append(PreActBlock(c_in, c_out, 2 if s > 0 and i == 0 else 1))
                c_in = c_out
        self.features = nn.Sequential(*layers, bn_act(c_in), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, num_classes)


@CLASSIFIERS.register("wrn-28-2")
def wrn_28_2(**kwargs) -> WideResNet:
    """WRN-28-2 (``widen=8``: WRN-28-8): the FixMatch / USB backbone for CIFAR-10, SVHN and MNIST."""
    return WideResNet(depth=28, **kwargs)
