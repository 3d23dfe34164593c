"""``semi-gan``: the K+1-class discriminator with feature matching of Salimans et al. 2016.

The discriminator classifies labelled images into the K classes, calls real unlabelled images "one
of the K classes" and generated images "the fake class" (whose logit is fixed at 0, so that
D(x) = Z / (Z + 1), Z = sum exp(logits)). The unconditional generator is trained by feature
matching: the mean of D's last hidden layer on its samples should equal that on unlabelled real
images. The discriminator is the classifier. Networks: ``models/improved_gan.py``; the paper's
optimiser (Adam, lr 3e-3, beta1 0.5) is the default here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganaug.config import Strict
from ganaug.gan.stabilisers import feature_matching
from ganaug.models.improved_gan import ImprovedGANDiscriminator, ImprovedGANGenerator, Layout
from ganaug.ssl.base import ALGORITHMS, Batch, SSLAlgorithm, accuracy


def unlabeled_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """-log D(x_real) - log(1 - D(G(z))) with D = Z / (Z + 1): softplus(lse) - lse on real, softplus(lse) on fake."""
    lse_real, lse_fake = torch.logsumexp(logits_real.float(), 1), torch.logsumexp(logits_fake.float(), 1)
    return (F.softplus(lse_real) - lse_real).mean() + F.softplus(lse_fake).mean()


class Logits(nn.Module):
    """A discriminator's class logits as a plain classifier (``forward(x) -> (B, K)``)."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x)["cls"]


@ALGORITHMS.register("semi-gan")
class SemiGAN(SSLAlgorithm):
    is_gan = True

    class Options(Strict):
        layout: Layout = "auto"  # mlp (their MNIST model) | conv (their CIFAR/SVHN model) | auto: by image shape
        width: int = Field(96, ge=8)  # conv layout: channels of the first D layers (paper: 96)
        lr: float = Field(3e-3, gt=0)  # Adam, as the paper's code (overrides the shared lr)
        beta1: float = Field(0.5, ge=0, lt=1)
        unlabeled_weight: float = Field(1.0, ge=0)  # weight of the real/fake (unlabelled) part of D's loss
        z_dim: int = Field(100, ge=1)

    def build(self) -> None:
        s, o = self.shape, self.opt
        common = dict(image_size=s.image_size, channels=s.channels, layout=o.layout, width=o.width)
        self.D = self.add("discriminator", ImprovedGANDiscriminator, "improved-gan", num_classes=s.num_classes, **common)
        self.G = self.add("generator", ImprovedGANGenerator, "improved-gan", z_dim=o.z_dim, **common)
        self.optimizers["discriminator"] = self.adam(self.D, o.lr, (o.beta1, 0.999))
        self.optimizers["generator"] = self.adam(self.G, o.lr, (o.beta1, 0.999))
        self.logits = Logits(self.network("discriminator"))

    def noise(self, n: int) -> torch.Tensor:
        return self.draw(lambda m: torch.randn(m, self.opt.z_dim, device=self.device), n)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        n = len(batch.u)
        # Discriminator: supervised cross-entropy + "real is some class, fake is the fake class".
        with self.phase("discriminator"), self.autocast():
            fake = self.G(self.noise(n)).detach()
            out_x, out_u, out_f = self.D(batch.x), self.D(batch.u), self.D(fake)
            loss_x = F.cross_entropy(out_x["cls"].float(), batch.y)
            loss_u = unlabeled_loss(out_u["cls"], out_f["cls"])
        self.update("discriminator", loss_x + self.opt.unlabeled_weight * loss_u)

        # Generator: match D's mean features on unlabelled real images.
        with self.phase("generator"), self.autocast():
            f_real = self.D(batch.u)["features"]
            f_fake = self.D(self.G(self.noise(n)))["features"]
            loss_g = feature_matching(f_real, f_fake, reduction="mean")
        self.update("generator", loss_g)
        return {"loss": loss_x.item(), "loss_unlabeled": loss_u.item(), "loss_g": loss_g.item(),
                "train_acc": accuracy(out_x["cls"], batch.y)}

    def classifier(self) -> nn.Module:
        return self.logits

    def generator(self) -> nn.Module:
        return self.network("generator")
