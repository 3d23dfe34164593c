"""Networks by name: ``GENERATORS.create("dcgan", image_size=32, channels=3, num_classes=10)``.

GAN architectures (one generator and one discriminator per name): ``mlp-gan``, ``dcgan``, ``cdcgan``,
``acgan``, ``sagan``, ``style-lite``, ``stylegan2``, ``biggan``, ``progan``. Classifiers (``head(features(x))``, any size from
8 px; ``width`` scales a network from its first layer, ``input_size`` resizes inputs first): ``small-cnn`` (ganaug's
own), ``lenet5``, ``alexnet`` (CIFAR-sized), ``resnet18`` and ``googlenet`` (CIFAR variants) as in the DCGAN study,
``simple-cnn`` (Gao), ``mlp``, ``mlp-5``, ``mlp-128`` (the GAN overview's MLPs) and ``wrn-28-2`` (the FixMatch / USB
backbone). Image translation: ``cyclegan`` (ResNet generator) and ``patchgan`` (its discriminator).
"""

from ganaug.models import acgan, biggan, cnn, dcgan, mlp, progan, sagan, style, stylegan2  # noqa: F401  (the GANs)
from ganaug.models import alexnet, googlenet, lenet, mlp_classifier, resnet, simple_cnn, wide_resnet  # noqa: F401
from ganaug.models import improved_gan, triple_gan_attn  # noqa: F401  (the semi-supervised GANs' networks)
from ganaug.models import cyclegan  # noqa: F401  (image-to-image translation)
from ganaug.models.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS, TRANSLATORS

__all__ = ["CLASSIFIERS", "DISCRIMINATORS", "GENERATORS", "TRANSLATORS"]
