"""``stylegan2``: StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN") at ganaug's
sizes, class-conditional as in StyleGAN2-ADA (Karras et al. 2020): the class embedding enters the mapping network.

Over ``style-lite`` (ganaug/models/style.py, whose modulated convolutions with demodulation, noise inputs, skip
toRGB outputs and truncation it reuses) it adds what makes StyleGAN2 train as published:

- an 8-layer mapping network (``mapping_layers``; StyleGAN2-ADA's CIFAR-10 setting is 2);
- one ``w`` per layer (``num_ws`` of them), so that styles can differ between layers;
- style mixing regularisation: in training, with probability ``mixing_prob`` (0.9), the layers from a random
  cutoff on take the ``w`` of a second noise vector (same class);
- the trainer's lazy R1 (``gan.r1_every``) and path length regularisation (``gan.path_length``), which need
  :meth:`StyleGAN2Generator.mapping_ws` and :meth:`StyleGAN2Generator.synthesis` (ganaug/gan/stabilisers.py).

Left out: FIR-filtered up/downsampling (bilinear here), the "resnet" D's equalised learning rate, fp16 layers.
The discriminator is style-lite's residual projection D with minibatch standard deviation.
"""

from __future__ import annotations

import torch

from ganaug.models.registry import DISCRIMINATORS, GENERATORS
from ganaug.models.style import StyleLiteDiscriminator, StyleLiteGenerator


class StyleGAN2Generator(StyleLiteGenerator):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 128,
                 w_dim: int = 128, mapping_layers: int = 8, mixing_prob: float = 0.9, **kwargs) -> None:
        super().__init__(image_size, channels, num_classes, z_dim, width, w_dim, mapping_layers, **kwargs)
        if not 0.0 <= mixing_prob <= 1.0:
            raise ValueError(f"mixing_prob must lie in [0, 1], got {mixing_prob}")
        self.mixing_prob = mixing_prob

    def mapping_ws(self, z: torch.Tensor, y: torch.Tensor | None = None, truncation_psi: float = 1.0) -> torch.Tensor:
        """(B, num_ws, w_dim): every layer's w; in training, style mixing with probability ``mixing_prob``."""
        w = self.map(z, y, truncation_psi)
        ws = w[:, None].repeat(1, self.num_ws, 1)
        if self.training and self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
            cutoff = int(torch.randint(1, self.num_ws, ()))
            ws[:, cutoff:] = self.map(torch.randn_like(z), y, truncation_psi)[:, None]
        return ws

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, truncation_psi: float = 1.0,
                noise_mode: str = "random") -> torch.Tensor:
        return self.synthesis(self.mapping_ws(z, y, truncation_psi), noise_mode)


@GENERATORS.register("stylegan2")
def stylegan2_generator(**kwargs) -> StyleGAN2Generator:
    """StyleGAN2: 8-layer mapping (class embedding in it), per-layer styles, style mixing, noise inputs."""
    return StyleGAN2Generator(**kwargs)


@DISCRIMINATORS.register("stylegan2")
def stylegan2_discriminator(**kwargs) -> StyleLiteDiscriminator:
    """Residual projection discriminator with minibatch standard deviation (StyleGAN2's "resnet" D, bilinear)."""
    return StyleLiteDiscriminator(**kwargs)
