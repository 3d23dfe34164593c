"""Auxiliary-classifier GAN (Odena, Olah & Shlens 2017, "Conditional image synthesis with auxiliary classifier GANs").

Generator: the conditional DCGAN generator (class embedding concatenated to the noise). Discriminator:
the DCGAN trunk shared by two heads, each a conv over the final base x base map (a fully-connected
layer on the flattened map): ``adv`` (real/fake logits, (B,)) and ``cls`` (class logits, (B, K)).
There is no projection term; the discriminator ignores ``y`` and the trainer adds the auxiliary
class loss on ``cls``. Options as for ``cdcgan`` (``spectral_norm``, ``minibatch_std`` and
``mbstd_group_size``, ``minibatch_discrimination``, ``mbd_kernels`` and ``mbd_kernel_dim`` on D; ``norm``,
``spectral_norm`` on G). The batch-dependent maps feed only the ``adv`` head, so a sample's class logits never
depend on its batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import check_gan_args, conv_plan
from ganaug.models.dcgan import DCGANGenerator, dcgan_trunk, init_dcgan_weights
from ganaug.models.registry import DISCRIMINATORS, GENERATORS


class ACGANDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 64, spectral_norm: bool = False,
                 minibatch_std: bool = False, mbstd_group_size: int = 4, minibatch_discrimination: bool = False,
                 mbd_kernels: int = 100, mbd_kernel_dim: int = 5) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width)
        self.image_size, self.num_classes = image_size, num_classes
        self.work_size = conv_plan(image_size)[2]
        self.features, widths, base = dcgan_trunk(image_size, channels, width, spectral_norm)
        self.mbstd = L.MinibatchStd(mbstd_group_size) if minibatch_std else None
        self.mbd = (L.MinibatchDiscrimination(widths[-1], mbd_kernels, mbd_kernel_dim) if minibatch_discrimination
                    else None)
        extra = (1 if minibatch_std else 0) + (mbd_kernels if minibatch_discrimination else 0)
        self.adv = L.conv2d(widths[-1] + extra, 1, base, spectral_norm=spectral_norm)
        self.cls = L.conv2d(widths[-1], num_classes, base, spectral_norm=spectral_norm)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": (B,), "cls": (B, K), "features": (B, F)}``; ``y`` is not used (no projection)."""
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        h = self.features(x)
        adv = self.adv(L.batch_features(h, self.mbstd, self.mbd)).flatten()
        return {"adv": adv, "cls": self.cls(h).flatten(1), "features": h.sum(dim=(2, 3))}


def _conditional(num_classes: int) -> None:
    if num_classes < 2:
        raise ValueError(f"'acgan' classifies the class of every image and needs num_classes >= 2 (got {num_classes}); "
                         "for an unconditional GAN use 'dcgan'")


@GENERATORS.register("acgan")
def acgan_generator(num_classes: int = 0, **kwargs) -> DCGANGenerator:
    """AC-GAN generator: the conditional DCGAN generator."""
    _conditional(num_classes)
    return DCGANGenerator(num_classes=num_classes, **kwargs)


@DISCRIMINATORS.register("acgan")
def acgan_discriminator(num_classes: int = 0, **kwargs) -> ACGANDiscriminator:
    """AC-GAN discriminator: shared DCGAN trunk, ``adv`` and ``cls`` heads."""
    _conditional(num_classes)
    return ACGANDiscriminator(num_classes=num_classes, **kwargs)
