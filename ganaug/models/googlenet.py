"""GoogLeNet / Inception v1 (Szegedy et al. 2015) in its CIFAR form (as kuangliu/pytorch-cifar).

A 3x3 conv-BN-ReLU stem of 192 channels at full resolution (no 7x7 stride-2 stem, no early pools,
no auxiliary classifiers), Inception blocks 3a-3b, a 3x3 stride-2 max-pool, 4a-4e, a max-pool, 5a-5b,
global average pooling (``features``, 1024-d) and a linear layer: 6.17 M parameters at 32x32x3, K=10.
Each block concatenates four branches: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3 (the 5x5 as two 3x3, as
in the CIFAR port); 3x3 max-pool -> 1x1; every conv followed by BN and ReLU. Padded pools and global
pooling make any size from 8 px work. It is the heaviest model here (about 1.5 GFLOPs per 32 px
image, growing with the pixel count). ``width`` is the stem's channels (192); every branch keeps its
ratio to it.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args, rescaled
from ganaug.models.registry import CLASSIFIERS

# (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool proj) of blocks 3a-3b, 4a-4e, 5a-5b, as in the paper
BLOCKS: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def conv_bn_relu(c_in: int, c_out: int, kernel_size: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2), nn.BatchNorm2d(c_out), nn.ReLU(True)]


class Inception(nn.Module):
    def __init__(self, c_in: int, n1: int, n3_red: int, n3: int, n5_red: int, n5: int, pool_proj: int) -> None:
        super().__init__()
        self.b1 = nn.Sequential(*conv_bn_relu(c_in, n1, 1))
        self.b2 = nn.Sequential(*conv_bn_relu(c_in, n3_red, 1), *conv_bn_relu(n3_red, n3, 3))
        self.b3 = nn.Sequential(*conv_bn_relu(c_in, n5_red, 1), *conv_bn_relu(n5_red, n5, 3), *conv_bn_relu(n5, n5, 3))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv_bn_relu(c_in, pool_proj, 1))
        self.out_channels = n1 + n3 + n5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class GoogLeNet(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 192) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        layers: list[nn.Module] = conv_bn_relu(channels, width, 3)
        c_in = width
        for name, plan in BLOCKS.items():
            if name in ("4a", "5a"):
                layers.append(nn.MaxPool2d(3, stride=2, padding=1))
            block = Inception(c_in, *(rescaled(c, width, 192) for c in plan))
            layers.append(block)
            c_in = block.out_channels
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, num_classes)


@CLASSIFIERS.register("googlenet")
def googlenet(**kwargs) -> GoogLeNet:
    """CIFAR GoogLeNet (Inception v1): 3x3 stem, nine Inception blocks, global average pooling."""
    return GoogLeNet(**kwargs)
