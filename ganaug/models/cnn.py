"""A small CNN classifier for any image size from 8 px: the demo's classifier and the generator's judge."""

from __future__ import annotations

import torch
from torch import nn

from ganaug.models.registry import CLASSIFIERS


def _block(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True),
    ]
    return layers + [nn.MaxPool2d(2)] if pool else layers


class SmallCNN(nn.Module):
    """Three conv blocks (3x3 conv-BN-ReLU twice, max-pool while the map is >= 4 px), global average pool, linear."""

    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 32, dropout: float = 0.3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, size = channels, image_size
        for i in range(3):
            pool = size >= 4
            layers += _block(c_in, width * 2**i, pool)
            c_in, size = width * 2**i, size // 2 if pool else size
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(c_in, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@CLASSIFIERS.register("small-cnn")
def small_cnn(**kwargs) -> SmallCNN:
    return SmallCNN(**kwargs)
