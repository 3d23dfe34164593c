"""Model registries: one per role, so a GAN architecture name picks both its generator and discriminator.

Factories take keyword arguments only (image_size, channels, num_classes, ...) and return an
``nn.Module``; the kwargs are stored in checkpoints so a model can be rebuilt by name.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ganaug.models.classifier_base import InputResize
from ganaug.registry import Registry


class ClassifierRegistry(Registry):
    """Every classifier also takes ``input_size``: the network is built for that size and each input is
    resized to it first (:class:`InputResize`); None or absent: the network sees the native size."""

    def create(self, name: str, **kwargs: Any) -> nn.Module:
        input_size = kwargs.pop("input_size", None)
        if input_size is None:
            return super().create(name, **kwargs)
        if input_size < 1:
            raise ValueError(f"input_size must be a positive number of pixels, got {input_size}")
        return InputResize(super().create(name, **{**kwargs, "image_size": input_size}), input_size)


GENERATORS = Registry("generator")
DISCRIMINATORS = Registry("discriminator")
CLASSIFIERS = ClassifierRegistry("classifier")
TRANSLATORS = Registry("translator")  # image-to-image networks (CycleGAN's generator and PatchGAN discriminator)
