"""The 4-layer MLP of the GAN overview (its MNIST experiment): flattened pixels -> 300 -> 100 -> 100 -> 200 -> K.

ReLU after every hidden layer and dropout 0.3, which the GAN overview adds against over-fitting without saying
where; here after each hidden layer (the last one's in ``head``, so ``features`` is the clean 200-d
activation). At 28x28x1, K=10 it has 297,910 parameters, the 2,97,910 that the GAN overview reports. Works at any
size (the first layer takes C x H x W inputs). ``width`` is the first hidden layer's units (300); the
others keep their ratio to it. Table 1's 5-hidden-layer variant is ``mlp-5``; the overview's Fashion-MNIST classifier
(one hidden layer of 128 units, no dropout) is ``mlp-128``.
"""

from __future__ import annotations

from torch import nn

from ganaug.models.classifier_base import Classifier, check_classifier_args, rescaled
from ganaug.models.registry import CLASSIFIERS

HIDDEN = (300, 100, 100, 200)  # the GAN overview's Model 1 (4 hidden layers)
HIDDEN_5 = (300, 100, 100, 100, 200)  # its 5-hidden-layer variant (Table 1)


class MLP(Classifier):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int | None = None,
                 dropout: float = 0.3, layers: tuple[int, ...] = HIDDEN) -> None:
        super().__init__()
        width = width or layers[0]
        check_classifier_args(image_size, channels, num_classes, width)
        hidden = [rescaled(h, width, layers[0]) for h in layers]
        stack: list[nn.Module] = [nn.Flatten()]
        f_in = channels * image_size * image_size
        for i, f_out in enumerate(hidden):
            stack += [nn.Linear(f_in, f_out), nn.ReLU(True)]
            stack += [nn.Dropout(dropout)] if dropout and i < len(hidden) - 1 else []
            f_in = f_out
        self.features = nn.Sequential(*stack)
        self.head = nn.Sequential(nn.Dropout(dropout) if dropout else nn.Identity(), nn.Linear(f_in, num_classes))


@CLASSIFIERS.register("mlp")
def mlp(**kwargs) -> MLP:
    """The GAN overview's MLP: hidden layers 300-100-100-200 (ReLU, dropout 0.3) on the flattened image."""
    return MLP(**kwargs)


@CLASSIFIERS.register("mlp-5")
def mlp_5(**kwargs) -> MLP:
    """The GAN overview's 5-hidden-layer MLP of Table 1: 300-100-100-100-200 (ReLU, dropout 0.3)."""
    return MLP(layers=HIDDEN_5, **kwargs)


@CLASSIFIERS.register("mlp-128")
def mlp_128(**kwargs) -> MLP:
    """The GAN overview's Fashion-MNIST classifier: one hidden layer of 128 ReLU units, no dropout."""
    return MLP(layers=(128,), dropout=0.0, **kwargs)
