"""What the classifiers share: the features/head split, the input resize wrapper, width scaling.

A classifier is ``head(features(x))``: ``features`` maps images (B, C, H, W) to the penultimate vector
(B, F), which the feature metrics use (``ganaug.metrics.ClassifierFeatures``); ``head`` maps it to
logits (B, K). ``CLASSIFIERS.create(name, ..., input_size=224)`` builds the network for 224 px and
wraps it in :class:`InputResize` (the papers feed 224 px images to AlexNet, ResNet-18 and GoogLeNet);
being a create() kwarg, ``input_size`` goes into checkpoints and the resized model is rebuilt by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Classifier(nn.Module):
    """Base class: subclasses set ``self.features`` (image -> (B, F)) and ``self.head`` ((B, F) -> logits)."""

    features: nn.Module
    head: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class InputResize(nn.Module):
    """Resize every input to ``size`` x ``size`` (bilinear, no antialiasing) in front of ``net``; same features/head."""

    def __init__(self, net: nn.Module, size: int) -> None:
        super().__init__()
        self.net, self.size = net, size

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.size, self.size):
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(self.resize(x))

    @property
    def head(self) -> nn.Module:
        return self.net.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.resize(x))

    def extra_repr(self) -> str:
        return f"size={self.size}"


def rescaled(channels: int, width: int, default_width: int) -> int:
    """``channels`` of the paper's network, rescaled so its first layer has ``width`` instead of ``default_width``."""
    return max(1, round(channels * width / default_width))


def check_classifier_args(image_size: int, channels: int, num_classes: int, width: int) -> None:
    """ValueError for arguments no classifier can use (a classifier needs two classes or more)."""
    if image_size < 1 or channels < 1 or num_classes < 2 or width < 1:
        raise ValueError(f"a classifier needs image_size, channels, width >= 1 and num_classes >= 2; got "
                         f"image_size={image_size}, channels={channels}, num_classes={num_classes}, width={width}")
