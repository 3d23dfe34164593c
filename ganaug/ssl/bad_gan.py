"""``bad-gan``: Dai et al. 2017, "Good Semi-supervised Learning That Requires a Bad GAN".

The discriminator is ``semi-gan``'s K+1-class classifier (Salimans et al. 2016: the fake logit fixed at 0) and the
networks are the same (``models/improved_gan.py``). Bad GAN makes the generator a *complement* generator, one whose
samples fall in the low-density gaps between the classes, so that the classifier's boundaries go there:

- the generator keeps feature matching (it must stay near the data manifold) and adds the pull-away term of Zhao et
  al. 2017 (EBGAN) on D's features of its samples, mean over pairs i != j of cos(f_i, f_j)^2, weight ``pt_weight``:
  Dai et al.'s surrogate for maximising the generator's entropy, which spreads the samples over the complement;
- the discriminator adds the conditional entropy of its K-class prediction on unlabelled images, weight
  ``ent_weight``, so that each real image is confidently one class and the boundaries leave the data.

Left out: the low-density term that keeps generated samples away from high-density regions, measured by a
pretrained PixelCNN++ density model (Dai et al.'s MNIST setting), and their variational-inference alternative for the
generator entropy (only the pull-away surrogate is kept). So this is their "FM + PT + Ent" configuration.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from ganaug.gan.stabilisers import feature_matching
from ganaug.ssl.base import ALGORITHMS, Batch, accuracy
from ganaug.ssl.semi_gan import SemiGAN, unlabeled_loss


def pull_away(features: torch.Tensor) -> torch.Tensor:
    """Mean over ordered pairs i != j of the squared cosine similarity of the rows of ``features`` (B, F), fp32."""
    f = F.normalize(features.float(), dim=1)
    n = len(f)
    sim = (f @ f.t()).pow(2)
    return (sim.sum() - sim.diagonal().sum()) / max(1, n * (n - 1))


def conditional_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of the K-class softmax, -sum_k p_k log p_k, fp32."""
    logp = logits.float().log_softmax(1)
    return -(logp.exp() * logp).sum(1).mean()


@ALGORITHMS.register("bad-gan")
class BadGAN(SemiGAN):
    class Options(SemiGAN.Options):
        pt_weight: float = Field(0.8, ge=0)  # weight of the pull-away term in G's loss (Dai et al.'s SVHN/CIFAR: 0.8)
        ent_weight: float = Field(0.1, ge=0)  # weight of the conditional entropy in D's loss (Dai et al.: 0.1)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        n = len(batch.u)
        with self.phase("discriminator"), self.autocast():
            fake = self.G(self.noise(n)).detach()
            out_x, out_u, out_f = self.D(batch.x), self.D(batch.u), self.D(fake)
            loss_x = F.cross_entropy(out_x["cls"].float(), batch.y)
            loss_u = unlabeled_loss(out_u["cls"], out_f["cls"])
            ent = conditional_entropy(out_u["cls"])
        self.update("discriminator", loss_x + self.opt.unlabeled_weight * loss_u + self.opt.ent_weight * ent)

        with self.phase("generator"), self.autocast():
            f_real = self.D(batch.u)["features"]
            f_fake = self.D(self.G(self.noise(n)))["features"]
            fm = feature_matching(f_real, f_fake, reduction="mean")
            pt = pull_away(f_fake)
        self.update("generator", fm + self.opt.pt_weight * pt)
        return {"loss": loss_x.item(), "loss_unlabeled": loss_u.item(), "entropy": ent.item(), "loss_g": fm.item(),
                "pull_away": pt.item(), "train_acc": accuracy(out_x["cls"], batch.y)}
