"""LeNet-5 (LeCun et al. 1998) as the DCGAN study and the common PyTorch ports use it: ReLU and max-pooling.

conv5(6) - pool - conv5(16) - pool - FC 120 - FC 84 - FC K, no padding. The network is defined on
32 px, so smaller inputs are zero-padded to 32 px (LeCun et al. padded the 28 px MNIST digits the same
way; an 8 px digit sits in the middle of the 32 px frame). Larger inputs are convolved at their own
size and the last 16-channel map is average-pooled to the 5x5 it has at 32 px, so the FC layers, the
84-d features and the parameter count (62,006 at 32x32x3, K=10) never depend on the size.
``width`` is the first conv's channels (6); the other layers keep their ratio to it.
"""

from __future__ import annotations

from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args, rescaled
from ganaug.models.registry import CLASSIFIERS

NATIVE_SIZE = 32  # the input size of LeNet-5; smaller images are padded to it


class LeNet5(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 6) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        c1, c2, f1, f2 = (rescaled(c, width, 6) for c in (6, 16, 120, 84))
        pad = max(0, NATIVE_SIZE - image_size)
        self.features = nn.Sequential(
            nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)),
            nn.Conv2d(channels, c1, 5), nn.ReLU(True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), nn.ReLU(True), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(5), nn.Flatten(),  # the identity at <= 32 px
            nn.Linear(c2 * 25, f1), nn.ReLU(True),
            nn.Linear(f1, f2), nn.ReLU(True),
        )
        self.head = nn.Linear(f2, num_classes)


@CLASSIFIERS.register("lenet5")
def lenet5(**kwargs) -> LeNet5:
    """LeNet-5 (ReLU, max-pool), inputs under 32 px zero-padded to 32 px."""
    return LeNet5(**kwargs)
