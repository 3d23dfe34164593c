"""The networks of the semi-supervised GAN of Salimans et al. 2016 ("Improved techniques for training GANs").

Not in the GAN registries: the discriminator is a K-class classifier and the generator unconditional,
a pair that only the ``semi-gan`` algorithm (``ganaug/ssl/semi_gan.py``) trains.

The discriminator's logits l_1..l_K double as the real/fake score: with the
fake class's logit fixed at 0, D(x) = Z / (Z + 1) with Z = sum exp(l_k), so the real/fake logit is
logsumexp(l). The generator is unconditional. Two layouts, after the paper's code:

- ``mlp`` (their MNIST model): D = 1000-500-250-250-250 ReLU units with weight normalisation and
  Gaussian noise on every layer's input (std 0.3 on the image, scaled to [0, 1], and 0.5 after);
  G = 500-500 softplus units with BatchNorm, a weight-normalised sigmoid output.
- ``conv`` (their CIFAR-10/SVHN model, ``width`` 96 in the paper): D = dropout, 3x3 convs at width,
  width, width (stride 2), dropout, 2 x width, 2 x width, 2 x width (stride 2), dropout, 3x3 and two
  1x1 convs at 2 x width, global mean pool, all weight-normalised LeakyReLU(0.2); G = a 4x4 map of
  512 x width / 96 channels, then 5x5 stride-2 transposed convolutions with BatchNorm to the image.

Both discriminators return ``{"adv": logsumexp(cls), "cls": (B, K) logits, "features": (B, F)}``, the
features being the last hidden layer, which the generator matches (feature matching).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ganaug.models import layers as L


Layout = Literal["auto", "mlp", "conv"]


def resolve_layout(layout: Layout, image_size: int, channels: int) -> str:
    """``auto``: the MLP for small grayscale images (MNIST-like, up to 28 px), the CNN otherwise."""
    if layout != "auto":
        return layout
    return "mlp" if channels == 1 and image_size <= 28 else "conv"


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise in training mode only."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x


class ImprovedGANDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int, layout: Layout = "auto", width: int = 96,
                 input_noise: float = 0.3, hidden_noise: float = 0.5) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError("improved-gan's discriminator is a classifier: it needs num_classes >= 2")
        self.num_classes = num_classes
        self.layout = resolve_layout(layout, image_size, channels)
        if self.layout == "mlp":
            dims = [channels * image_size**2, 1000, 500, 250, 250, 250]
            layers: list[nn.Module] = [nn.Flatten()]
            for i, (a, b) in enumerate(zip(dims, dims[1:])):
                layers += [GaussianNoise(input_noise if i == 0 else hidden_noise), weight_norm(nn.Linear(a, b)), nn.ReLU()]
            self.body = nn.Sequential(*layers, GaussianNoise(hidden_noise))
            feat = dims[-1]
        else:
            w, w2 = width, 2 * width

            def conv(a: int, b: int, k: int, s: int = 1) -> list[nn.Module]:
                return [weight_norm(L.Conv2d(a, b, k, s, k // 2)), nn.LeakyReLU(0.2)]

            self.body = nn.Sequential(
                GaussianNoise(0.15), nn.Dropout(0.2),
                *conv(channels, w, 3), *conv(w, w, 3), *conv(w, w, 3, 2), nn.Dropout(0.5),
                *conv(w, w2, 3), *conv(w2, w2, 3), *conv(w2, w2, 3, 2), nn.Dropout(0.5),
                *conv(w2, w2, 3), *conv(w2, w2, 1), *conv(w2, w2, 1),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            )
            feat = w2
        self.cls = weight_norm(nn.Linear(feat, num_classes))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.layout == "mlp":
            x = (x + 1) / 2  # the paper's MLP sees pixels in [0, 1], and its noise std is on that scale
        f = self.body(x)
        logits = self.cls(f)
        return {"adv": torch.logsumexp(logits.float(), 1), "cls": logits, "features": f}


class ImprovedGANGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, z_dim: int = 100, layout: Layout = "auto",
                 width: int = 96) -> None:
        super().__init__()
        self.num_classes, self.z_dim = 0, z_dim  # unconditional: the discriminator supplies the classes
        self.image_size, self.channels = image_size, channels
        self.layout = resolve_layout(layout, image_size, channels)
        if self.layout == "mlp":
            self.net = nn.Sequential(
                nn.Linear(z_dim, 500), nn.BatchNorm1d(500), nn.Softplus(),
                nn.Linear(500, 500), nn.BatchNorm1d(500), nn.Softplus(),
                weight_norm(nn.Linear(500, channels * image_size**2)), nn.Sigmoid(),
            )
        else:
            c0 = 512 * width // 96
            self.base = max(1, -(-image_size // 8))  # 4 for 32 px; the output is cropped to image_size
            self.fc = nn.Sequential(nn.Linear(z_dim, c0 * self.base**2), nn.BatchNorm1d(c0 * self.base**2), nn.ReLU())
            self.c0 = c0
            self.net = nn.Sequential(
                L.ConvTranspose2d(c0, c0 // 2, 5, 2, 2, output_padding=1), nn.BatchNorm2d(c0 // 2), nn.ReLU(),
                L.ConvTranspose2d(c0 // 2, c0 // 4, 5, 2, 2, output_padding=1), nn.BatchNorm2d(c0 // 4), nn.ReLU(),
                weight_norm(L.ConvTranspose2d(c0 // 4, channels, 5, 2, 2, output_padding=1)), nn.Tanh(),
            )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.layout == "mlp":
            x = self.net(z).view(len(z), self.channels, self.image_size, self.image_size)
            return 2 * x - 1
        x = self.net(self.fc(z).view(len(z), self.c0, self.base, self.base))
        return x[:, :, : self.image_size, : self.image_size]

