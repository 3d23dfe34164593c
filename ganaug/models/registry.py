"""Model registries: one per role, so a GAN architecture name picks both its generator and discriminator.

Factories take keyword arguments only (image_size, channels, num_classes, ...) and return an
``nn.Module``; the kwargs are stored in checkpoints so a model can be rebuilt by name.
"""

from ganaug.registry import Registry

GENERATORS = Registry("generator")
DISCRIMINATORS = Registry("discriminator")
CLASSIFIERS = Registry("classifier")
