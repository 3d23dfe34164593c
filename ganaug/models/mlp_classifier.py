"""The 4-layer MLP of the GAN overview (its MNIST experiment): flattened pixels -> 300 -> 100 -> 100 -> 200 -> K.

ReLU after every hidden layer and dropout 0.3, which the GAN overview adds against over-fitting without saying
where; here after each hidden layer (the last one's in ``head``, so ``features`` is the clean 200-d
activation). At 28x28x1, K=10 it has 297,910 parameters, the 2,97,910 that the GAN overview reports. Works at any
size (the first layer takes C x H x W inputs). ``width`` is the first hidden layer's units (300); the
others keep their ratio to it.
"""

from __future__ import annotations

from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args, rescaled
from ganaug.models.registry import CLASSIFIERS

HIDDEN = (300, 100, 100, 200)  # the GAN overview's Model 1


class MLP(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 300,
                 dropout: float = 0.3) -> None:
        super().__init__()
        check_classifier_args(image_size, channels, num_classes, width)
        hidden = [rescaled(h, width, HIDDEN[0]) for h in HIDDEN]
        layers: list[nn.Module] = [nn.Flatten()]
        f_in = channels * image_size * image_size
        for i, f_out in enumerate(hidden):
            layers += [nn.Linear(f_in, f_out), nn.ReLU(True)] + ([nn.Dropout(dropout)] if i < len(hidden) - 1 else [])
            f_in = f_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(f_in, num_classes))


@CLASSIFIERS.register("mlp")
def mlp(**kwargs) -> MLP:
    """The GAN overview's MLP: hidden layers 300-100-100-200 (ReLU, dropout 0.3) on the flattened image."""
    return MLP(**kwargs)
