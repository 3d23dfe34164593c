"""Networks by name: ``GENERATORS.create("dcgan", image_size=32, channels=3, num_classes=10)``.

GAN architectures (one generator and one discriminator per name): ``mlp-gan``, ``dcgan``, ``cdcgan``,
``acgan``, ``sagan``, ``style-lite``. Classifiers: ``small-cnn``.
"""

from ganaug.models import acgan, cnn, dcgan, mlp, sagan, style  # noqa: F401  (register the built-in models)
from ganaug.models.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS

__all__ = ["CLASSIFIERS", "DISCRIMINATORS", "GENERATORS"]
