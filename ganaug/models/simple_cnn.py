"""The "simple CNN" of Gao (GAN augmentation against class imbalance on CIFAR-10).

Gao specifies 3x3 convolutions, 2x2 max-pooling and one fully-connected output layer, without counts;
we read it as the usual three stages of 3x3 conv (padding 1) - ReLU - 2x2 max-pool at 32-64-128
channels, then flatten and a single linear layer. No BatchNorm or dropout (Gao names none). At 32 px
the last map is 4x4, so ``features`` is the flattened 128 * 4 * 4 = 2048-d map. For other sizes a
pool is skipped once the map is 1 px and larger maps are average-pooled to 4x4, so the features and
the linear layer stay the 32 px ones from 32 to 96 px. ``width`` is the first conv's channels (32).
"""

from __future__ import annotations

from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args
from ganaug.models.registry import CLASSIFIERS


class SimpleCNN(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        layers: list[nn.Module] = []
        c_in, size = channels, image_size
        for stage in range(3):
            c_out = width * 2**stage
            pool = nn.MaxPool2d(2) if size >= 2 else nn.Identity()  # no pooling once the map is 1 px
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(True), pool]
            c_in, size = c_out, max(1, size // 2)
        out = min(4, size)
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(out), nn.Flatten())
        self.head = nn.Linear(c_in * out * out, num_classes)


@CLASSIFIERS.register("simple-cnn")
def simple_cnn(**kwargs) -> SimpleCNN:
    """Gao's simple CNN: three 3x3 conv - ReLU - max-pool stages (32-64-128), one linear layer."""
    return SimpleCNN(**kwargs)
