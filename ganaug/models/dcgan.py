"""Conditional DCGAN (Radford et al. 2015, as specified in 003) that adapts to 8-96 px, gray or RGB.

Generator: 4x4-style transposed convs, the first stride 1 / pad 0 from a 1x1 input, then stride 2 /
pad 1, BatchNorm + ReLU on all but the last layer, Tanh at the end. The class label enters as a
learned embedding concatenated to the noise. Discriminator: the mirror image, strided 4x4 convs with
LeakyReLU(0.2), BatchNorm on all but the first, and a projection head (Miyato & Koyama 2018) for the
class. ``num_classes=0`` gives the unconditional DCGAN.

Every discriminator in ganaug returns a small dict: ``adv`` (real/fake logits, shape (B,)),
``features`` (the pooled features of its last hidden layer, (B, F), for feature matching) and, for
auxiliary-classifier discriminators, ``cls`` (class logits, (B, K)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models.registry import DISCRIMINATORS, GENERATORS


def conv_plan(image_size: int) -> tuple[int, int, int]:
    """(base, n_up, work_size): the net runs at ``work_size = base * 2**n_up`` >= image_size, base in 3..7.

    Sizes such as 8, 28, 32, 64, 96 factor exactly (4x2, 7x4, 4x8, 4x16, 3x32); any other size runs at
    the next size that factors and is resized at the edge.
    """
    if not 8 <= image_size <= 128:
        raise ValueError(f"image_size must lie in [8, 128], got {image_size}")
    for size in range(image_size, 2 * image_size):
        for n_up in range(5, 0, -1):
            base, rest = divmod(size, 2**n_up)
            if rest == 0 and 3 <= base <= 7:
                return base, n_up, size
    raise AssertionError("unreachable: every size in [8, 128] has a factorable neighbour")


def layer_widths(widest: int, n: int, narrowest: int = 16) -> list[int]:
    """``n`` channel counts starting at ``widest`` and halving per layer, never below ``narrowest``."""
    return [max(widest // 2**i, min(widest, narrowest)) for i in range(n)]


class DCGANGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 64,
                 embed_dim: int = 50) -> None:
        super().__init__()
        self.image_size, self.z_dim, self.num_classes = image_size, z_dim, num_classes
        base, n_up, self.work_size = conv_plan(image_size)
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        in_ch = z_dim + (embed_dim if num_classes else 0)
        widths = layer_widths(width, n_up)  # e.g. 128, 64, 32: widest next to the noise
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_ch, widths[0], base, 1, 0, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = z if self.embed is None else torch.cat([z, self.embed(y)], dim=1)
        x = self.net(h[:, :, None, None])
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bilinear", antialias=True, align_corners=False)
        return x


class DCGANDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 64) -> None:
        super().__init__()
        self.image_size, self.num_classes = image_size, num_classes
        base, n_down, self.work_size = conv_plan(image_size)
        widths = layer_widths(width, n_down)[::-1]  # e.g. 32, 64, 128: widest next to the output
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        self.out = nn.Conv2d(widths[-1], 1, base, 1, 0)
        self.embed = nn.Embedding(num_classes, widths[-1]) if num_classes else None
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": real/fake logits (B,), "features": pooled last-layer features (B, F)}``."""
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        h = self.features(x)
        pooled = h.sum(dim=(2, 3))
        logits = self.out(h).flatten()
        if self.embed is not None:
            logits = logits + (self.embed(y) * pooled).sum(dim=1)  # projection term
        return {"adv": logits, "features": pooled}


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02) and shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)


def _unconditional(num_classes: int) -> None:
    if num_classes:
        raise ValueError("'dcgan' is the unconditional DCGAN of 003; for a class-conditional one use 'cdcgan' or 'acgan'")


@GENERATORS.register("dcgan")
def dcgan_generator(num_classes: int = 0, **kwargs) -> DCGANGenerator:
    _unconditional(num_classes)
    return DCGANGenerator(num_classes=0, **kwargs)


@DISCRIMINATORS.register("dcgan")
def dcgan_discriminator(num_classes: int = 0, **kwargs) -> DCGANDiscriminator:
    _unconditional(num_classes)
    return DCGANDiscriminator(num_classes=0, **kwargs)


@GENERATORS.register("cdcgan")
def cdcgan_generator(**kwargs) -> DCGANGenerator:
    """Conditional DCGAN generator: the class embedding is concatenated to the noise."""
    return DCGANGenerator(**kwargs)


@DISCRIMINATORS.register("cdcgan")
def cdcgan_discriminator(**kwargs) -> DCGANDiscriminator:
    """Conditional DCGAN discriminator with a projection head for the class."""
    return DCGANDiscriminator(**kwargs)
