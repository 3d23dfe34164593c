"""Adversarial losses by name. Each takes raw discriminator logits ("adv") and returns a scalar to minimise.

``real_target`` < 1 is one-sided label smoothing (Salimans et al. 2016): the discriminator is asked
for ``real_target`` on real images and 0 on fakes; only the losses with a target accept it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from ganaug.errors import ConfigError
from ganaug.registry import Registry

GAN_LOSSES = Registry("GAN loss")


def check_loss(name: str, key: str = "gan.loss") -> None:
    """A ConfigError naming ``key`` and the valid names, unless ``name`` is a registered loss."""
    if name not in GAN_LOSSES:
        raise ConfigError(f"{key}: unknown loss {name!r}; valid names: {', '.join(GAN_LOSSES.names())}")


class GANLoss(ABC):
    """Discriminator and generator sides of one adversarial objective."""

    probabilistic = False  # True when sigmoid(logit) is the discriminator's probability of "real"

    def __init__(self, real_target: float = 1.0) -> None:
        if real_target != 1.0 and not self.accepts_smoothing:
            raise ValueError(f"{type(self).__name__} has no target to smooth; set gan.label_smoothing to 0")
        self.real_target = real_target

    accepts_smoothing = False

    @abstractmethod
    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor: ...


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@GAN_LOSSES.register("minimax")
class Minimax(GANLoss):
    """Goodfellow et al. 2014 as written: G minimises log(1 - D(G(z))), which saturates when D wins early."""

    probabilistic = accepts_smoothing = True

    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return _bce(real_logits, self.real_target) + _bce(fake_logits, 0.0)

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_logits).mean()  # log(1 - sigmoid(l)) = -softplus(l)


@GAN_LOSSES.register("non-saturating")
class NonSaturating(Minimax):
    """Goodfellow et al. 2014's practical variant: G maximises log D(G(z)), strong gradients early on."""

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits).mean()


@GAN_LOSSES.register("hinge")
class Hinge(GANLoss):
    """Lim & Ye 2017 / SAGAN: D minimises relu(1 - real) + relu(1 + fake); G minimises -fake."""

    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.mean()


@GAN_LOSSES.register("least-squares")
class LeastSquares(GANLoss):
    """Mao et al. 2017 (LSGAN, a-b-c = 0-1-1): squared distance of the logits to the targets."""

    accepts_smoothing = True

    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((real_logits - self.real_target) ** 2).mean() + 0.5 * (fake_logits**2).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((fake_logits - 1.0) ** 2).mean()


@GAN_LOSSES.register("wasserstein")
class Wasserstein(GANLoss):
    """Arjovsky et al. 2017 critic loss; use with a gradient penalty (gan.gradient_penalty, Gulrajani et al. 2017)."""

    def discriminator(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return fake_logits.mean() - real_logits.mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.mean()
