"""ResNet-18 (He et al. 2016) in its CIFAR form (as kuangliu/pytorch-cifar): 3x3 stem, no max-pool.

A 3x3 stride-1 conv-BN-ReLU stem, four stages of two BasicBlocks (two 3x3 conv-BN with an identity
or 1x1 conv-BN shortcut) at 64-128-256-512 channels, the last three starting with stride 2, then
global average pooling (``features``, 512-d) and a linear layer: 11.17 M parameters at 32x32x3, K=10.
Global pooling makes any size from 8 px work (a stride-2 3x3 conv maps a 1 px map to 1 px).
``width`` is the stem's channels (64); the stages have width x 1, 2, 4, 8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.classifier_base import Classifier, check_classifier_args
from ganaug.models.registry import CLASSIFIERS


def conv_bn(c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    conv = L.Conv2d(c_in, c_out, kernel_size, stride, padding=kernel_size // 2, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(c_in, c_out, 3, stride)
        self.conv2 = conv_bn(c_out, c_out, 3)
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(F.relu(self.conv1(x))) + self.shortcut(x))


class ResNet(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, blocks: tuple[int, ...] = (2, 2, 2, 2),
                 width: int = 64) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        layers: list[nn.Module] = [conv_bn(channels, width, 3), nn.ReLU(True)]
        c_in = width
        for stage, n in enumerate(blocks):
            c_out = width * 2**stage
            for i in range(n):
                layers.append(BasicBlock(c_in, c_out, 2 if stage > 0 and i == 0 else 1))
                c_in = c_out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, num_classes)


@CLASSIFIERS.register("resnet18")
def resnet18(**kwargs) -> ResNet:
    """CIFAR ResNet-18: 3x3 stem, no max-pool, BasicBlocks [2, 2, 2, 2] at 64-128-256-512 channels."""
    return ResNet(blocks=(2, 2, 2, 2), **kwargs)
