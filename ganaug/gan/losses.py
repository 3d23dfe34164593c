"""Adversarial losses by name. Each takes raw discriminator logits and returns a scalar to minimise."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from ganaug.registry import Registry

GAN_LOSSES = Registry("GAN loss")


class GANLoss(ABC):
    """Discriminator and generator sides of one adversarial objective."""

    @abstractmethod
    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor: ...


@GAN_LOSSES.register("non-saturating")
class NonSaturating(GANLoss):
    """Goodfellow et al. 2014: D minimises BCE(real=1, fake=0); G maximises log D(G(z)) instead of minimising log(1-D)."""

    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits).mean()
