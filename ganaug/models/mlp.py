"""The original fully-connected GAN (Goodfellow et al. 2014), conditional as in Mirza & Osindero 2014.

Following the paper's MNIST code (pylearn2 ``mnist.yaml``): the generator has two hidden ReLU layers
of ``hidden`` units (1200 there) and the discriminator two hidden layers with dropout 0.2 on its
input and 0.5 on its hidden layers. What differs, and why:

- The generator ends in Tanh, not a sigmoid: every ganaug generator returns images in [-1, 1].
- The discriminator's hidden layers are LeakyReLU(0.2) instead of maxout (240 units x 5 pieces):
  the common maxout-free variant, cheaper and without the extra piece dimension; its hidden size
  ``hidden`` stands for the 240 x 5 = 1200 linear units per maxout layer.
- ``hidden`` defaults to ``8 * width`` (1024 units at the config's default width of 128, near the
  paper's 1200) so the architecture-independent ``g_width`` / ``d_width`` still set the size.
- PyTorch's default initialisation; Gaussian noise as the rest of ganaug (the paper drew uniform).

Conditional (``num_classes > 0``): the generator concatenates a learned label embedding to the
noise, the discriminator a one-hot label to the (dropped-out) flattened image. ``spectral_norm``
(default False) applies to every linear layer of either network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import check_gan_args
from ganaug.models.registry import DISCRIMINATORS, GENERATORS


def _hidden(hidden: int | None, width: int) -> int:
    return 8 * width if hidden is None else hidden


def _check_dropout(**rates: float) -> None:
    for name, p in rates.items():
        if not 0.0 <= p < 1.0:
            raise ValueError(f"{name} is a drop probability in [0, 1), got {p}")


class MLPGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 128,
                 hidden: int | None = None, embed_dim: int = 50, spectral_norm: bool = False) -> None:
        super().__init__()
        h = _hidden(hidden, width)
        check_gan_args(image_size, channels, num_classes, width, z_dim=z_dim, hidden=h, embed_dim=embed_dim)
        self.image_size, self.channels, self.z_dim, self.num_classes = image_size, channels, z_dim, num_classes
        self.embed = L.embedding(num_classes, embed_dim, spectral_norm) if num_classes else None
        in_f = z_dim + (embed_dim if num_classes else 0)
        self.net = nn.Sequential(
            L.linear(in_f, h, spectral_norm=spectral_norm), nn.ReLU(True),
            L.linear(h, h, spectral_norm=spectral_norm), nn.ReLU(True),
            L.linear(h, channels * image_size**2, spectral_norm=spectral_norm), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass labels y")
        h = z if self.embed is None else torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        return self.net(h).view(-1, self.channels, self.image_size, self.image_size)


class MLPDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 128,
                 hidden: int | None = None, input_dropout: float = 0.2, dropout: float = 0.5,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        h = _hidden(hidden, width)
        check_gan_args(image_size, channels, num_classes, width, hidden=h)
        _check_dropout(input_dropout=input_dropout, dropout=dropout)
        self.image_size, self.num_classes = image_size, num_classes
        self.input_dropout = nn.Dropout(input_dropout)
        self.hidden = nn.Sequential(
            L.linear(channels * image_size**2 + num_classes, h, spectral_norm=spectral_norm), nn.LeakyReLU(0.2, True),
            nn.Dropout(dropout),
            L.linear(h, h, spectral_norm=spectral_norm), nn.LeakyReLU(0.2, True),
        )
        self.out = nn.Sequential(nn.Dropout(dropout), L.linear(h, 1, spectral_norm=spectral_norm))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": (B,), "features": the second hidden layer (B, hidden)}``."""
        h = self.input_dropout(x.flatten(1))
        if self.num_classes:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            h = torch.cat([h, F.one_hot(y, self.num_classes).to(h.dtype)], dim=1)
        features = self.hidden(h)
        return {"adv": self.out(features).flatten(), "features": features}


@GENERATORS.register("mlp-gan")
def mlp_generator(**kwargs) -> MLPGenerator:
    """Goodfellow et al. 2014's fully-connected generator (ReLU hidden layers, Tanh output)."""
    return MLPGenerator(**kwargs)


@DISCRIMINATORS.register("mlp-gan")
def mlp_discriminator(**kwargs) -> MLPDiscriminator:
    """Goodfellow et al. 2014's fully-connected discriminator (LeakyReLU instead of maxout, dropout)."""
    return MLPDiscriminator(**kwargs)
