"""AlexNet (Krizhevsky et al. 2012) sized for 32 px CIFAR images, as the common CIFAR ports have it.

Five 3x3 convs with torchvision's channel plan (64-192-384-256-256; the first with stride 2) and a
2x2 max-pool after the first, second and fifth, then dropout - FC 4096 - dropout - FC 4096 - FC K.
At 32 px the last map is 2x2 (256 * 2 * 2 inputs to the first FC layer; 23.3 M parameters at
32x32x3, K=10, almost all in the FC layers). For other sizes a pool is skipped once the map is 1 px
and the last map is average-pooled to at most 2x2 (as torchvision pools to 6x6 at 224 px), so 8 px
digits and 96 px STL-10 images both work. ``width`` is the first conv's channels (64); every other
layer, the 4096-unit FC layers included, keeps its ratio to it. ``features`` is the second FC
layer's output (4096-d).
"""

from __future__ import annotations

from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args, rescaled
from ganaug.models.registry import CLASSIFIERS


class AlexNet(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 64, dropout: float = 0.5) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        c1, c2, c3, c4, c5, fc = (rescaled(c, width, 64) for c in (64, 192, 384, 256, 256, 4096))
        size = (image_size + 1) // 2  # after the stride-2 first conv

        def pool() -> nn.Module:  # a 2x2 max-pool, or nothing once the map is 1 px
            nonlocal size
            if size < 2:
                return nn.Identity()
            size //= 2
            return nn.MaxPool2d(2)

        layers: list[nn.Module] = [nn.Conv2d(channels, c1, 3, stride=2, padding=1), nn.ReLU(True), pool()]
        layers += [nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(True), pool()]
        layers += [nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(True)]
        layers += [nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(True)]
        layers += [nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(True), pool()]
        out = min(2, size)
        self.features = nn.Sequential(
            *layers, nn.AdaptiveAvgPool2d(out), nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(c5 * out * out, fc), nn.ReLU(True),
            nn.Dropout(dropout), nn.Linear(fc, fc), nn.ReLU(True),
        )
        self.head = nn.Linear(fc, num_classes)


@CLASSIFIERS.register("alexnet")
def alexnet(**kwargs) -> AlexNet:
    """CIFAR-sized AlexNet: five 3x3 convs (64-192-384-256-256), three FC layers (4096-4096-K)."""
    return AlexNet(**kwargs)
