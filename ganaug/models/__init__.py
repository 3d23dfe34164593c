"""Networks by name: ``GENERATORS.create("dcgan", image_size=32, channels=3, num_classes=10)``."""

from ganaug.models import cnn, dcgan  # noqa: F401  (register the built-in models)
from ganaug.models.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS

__all__ = ["CLASSIFIERS", "DISCRIMINATORS", "GENERATORS"]
