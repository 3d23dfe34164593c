"""``triple-gan-attn``: Hu et al.'s generator / discriminator / classifier system, trained jointly.

Networks (``models/triple_gan_attn.py``, Table 2): a class-conditional encoder-decoder generator with
cross-attention from the decoder to the encoder in every decoder layer; a discriminator with a real/fake
head and a class head on shared features; a classifier with conditional batch normalisation.

Loss L = L_adv + lambda * L_cls (Hu et al., Eq. 5), phase by phase:

- discriminator (once every ``g_steps_per_d`` iterations; Hu et al.: one per two generator steps): real/fake
  cross-entropy on labelled + unlabelled real images vs generated ones, plus lambda x class
  cross-entropy on the labelled images and on generated images with the labels they were drawn for;
- generator (every iteration): fool the real/fake head (non-saturating), plus lambda x the
  discriminator's class cross-entropy on its samples, plus ``guidance`` x the classifier's ("the
  classifier guides the generator"), plus ``diversity`` x Mao et al.'s mode-seeking term on pairs of samples
  that share a label (our addition: with Hu et al.'s losses alone the generator ignored its noise and drew one
  image per class; the term keeps its within-class diversity near the real images');
- classifier (every ``classifier_every`` iterations; Hu et al.: every 200): cross-entropy on the labelled
  images, plus generated images with their labels ("the generator provides richer training data") and
  confident pseudo-labels on unlabelled images, both ramped in once the networks have learned something.

Hu et al. leave the schedule of the last two terms and the CBN condition at test time unsaid; the options
below make each choice explicit. Adam at 1e-3 (Hu et al.) with beta1 0.5 for the two GAN networks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganaug.config import Strict
from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS
from ganaug.models.triple_gan_attn import CBNCondition
from ganaug.ssl.base import ALGORITHMS, Batch, SSLAlgorithm, accuracy
from ganaug.ssl.semi_cnn import pseudo_label_loss


@ALGORITHMS.register("triple-gan-attn")
class TripleGANAttn(SSLAlgorithm):
    is_gan = True

    class Options(Strict):
        lambda_cls: float = Field(1.0, ge=0)  # lambda of Eq. 5: weight of the class terms for D and G
        g_steps_per_d: int = Field(2, ge=1)  # generator steps per discriminator step (Hu et al.: 2)
        classifier_every: int = Field(1, ge=1)  # iterations between classifier steps (Hu et al.: 200 at 100k iterations)
        condition: CBNCondition = "two-pass"  # what conditions the classifier's CBN (see CBNClassifier)
        guidance: float = Field(0.1, ge=0)  # weight of the classifier's cross-entropy in the generator's loss
        synthetic_weight: float = Field(0.5, ge=0)  # weight of generated images in the classifier's loss
        synthetic_start: float = Field(0.3, ge=0, lt=1)  # fraction of training before they (and guidance) start
        pseudo_threshold: float = Field(0.95, gt=0, le=1)  # confidence cut of pseudo-labels on unlabelled images
        pseudo_weight: float = Field(1.0, ge=0)
        pseudo_start: float = Field(0.1, ge=0, lt=1)
        ramp: float = Field(0.2, ge=0)  # fraction of training over which each ramped weight rises to its value
        g_width: int = Field(256, ge=8)  # the generator's widest layer (Table 2: 256)
        d_width: int = Field(512, ge=8)  # the discriminator's widest layer (Table 2: 512)
        heads: int = Field(4, ge=1)  # attention heads in the generator
        z_dim: int = Field(100, ge=1)
        beta1: float = Field(0.5, ge=0, lt=1)  # Adam beta1 of generator and discriminator
        diversity: float = Field(1.0, ge=0)  # weight of the mode-seeking term (Mao et al. 2019) in the generator's loss:
        # 1 / (mean |G(z1, y) - G(z2, y)| / mean |z1 - z2|), which punishes a generator that ignores its noise. Not in
        # Hu et al.; without it (0) the generator collapsed to one image per class (docs/results.md)
        gan_lr: float | None = Field(None, gt=0)  # Adam lr of generator and discriminator; None: the shared lr (Hu et al.: 1e-3)

    def build(self) -> None:
        s, o = self.shape, self.opt
        common = dict(image_size=s.image_size, channels=s.channels, num_classes=s.num_classes)
        self.G = self.add("generator", GENERATORS, "triple-gan-attn", z_dim=o.z_dim, width=o.g_width, heads=o.heads, **common)
        self.D = self.add("discriminator", DISCRIMINATORS, "triple-gan-attn", width=o.d_width, **common)
        self.C = self.add("classifier", CLASSIFIERS, "cbn-cnn", width=self.cfg.width, condition=o.condition, **common)
        self.optimizers["generator"] = self.adam(self.G, o.gan_lr, betas=(o.beta1, 0.999))
        self.optimizers["discriminator"] = self.adam(self.D, o.gan_lr, betas=(o.beta1, 0.999))
        self.optimizers["classifier"] = self.adam(self.C)

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.draw(lambda m: torch.randint(self.shape.num_classes, (m,), device=self.device), n)
        return self.G(self.draw(lambda m: torch.randn(m, self.opt.z_dim, device=self.device), n), y), y

    def sample_pairs(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """2 x (n // 2) images whose two halves share their labels and differ in their noise: images, labels, noise."""
        y = self.draw(lambda m: torch.randint(self.shape.num_classes, (m,), device=self.device), n // 2)
        z = torch.cat([self.draw(lambda m: torch.randn(m, self.opt.z_dim, device=self.device), n // 2) for _ in "12"])
        y = torch.cat([y, y])
        return self.G(z, y), y, z

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        o, logs = self.opt, {}
        lam = o.lambda_cls
        synthetic = self.schedule(step, o.synthetic_start, o.ramp)

        if step % o.g_steps_per_d == 0:  # discriminator
            with self.phase("discriminator"), self.autocast():
                with torch.no_grad():
                    fake, y_fake = self.sample(len(batch.u))
                real = self.D(torch.cat([batch.x, batch.u]))
                out_f = self.D(fake)
                adv = F.binary_cross_entropy_with_logits(real["adv"].float(), torch.ones_like(real["adv"].float())) + \
                    F.binary_cross_entropy_with_logits(out_f["adv"].float(), torch.zeros_like(out_f["adv"].float()))
                cls = F.cross_entropy(real["cls"][: len(batch.x)].float(), batch.y) + F.cross_entropy(out_f["cls"].float(), y_fake)
            self.update("discriminator", adv + lam * cls)
            logs.update(loss_d=adv.item(), loss_d_cls=cls.item())

        with self.phase("generator"), self.autocast():  # generator
            if o.diversity:
                fake, y_fake, z = self.sample_pairs(len(batch.u))
            else:
                fake, y_fake = self.sample(len(batch.u))
            out_f = self.D(fake)
            adv = F.binary_cross_entropy_with_logits(out_f["adv"].float(), torch.ones_like(out_f["adv"].float()))
            cls = F.cross_entropy(out_f["cls"].float(), y_fake)
            loss_g = adv + lam * cls
            if o.guidance and synthetic:
                self.C.eval()  # judge without touching the classifier's batch statistics
                loss_g = loss_g + o.guidance * synthetic * F.cross_entropy(self.C(fake).float(), y_fake)
                self.C.train()
            if o.diversity:
                ratio = mode_seeking_ratio(fake, z)
                loss_g = loss_g + o.diversity / (ratio + 1e-5)
                logs.update(mode_seeking_ratio=ratio.item())
        self.update("generator", loss_g)
        logs.update(loss_g=adv.item(), loss_g_cls=cls.item())

        if step % o.classifier_every == 0:  # classifier
            n_x, n_u = len(batch.x), len(batch.u)
            fake, y_fake = fake.detach()[: n_u], y_fake[: n_u]
            with self.phase("classifier"), self.autocast():
                logits, first = self.C(torch.cat([batch.x, batch.u, fake]), both_passes=True)
            loss_x = F.cross_entropy(logits[:n_x].float(), batch.y)
            if first is not None:  # train the first pass too: it picks the condition of the second
                loss_x = loss_x + F.cross_entropy(first[:n_x].float(), batch.y)
            loss_u, used = pseudo_label_loss(logits[n_x : n_x + n_u], o.pseudo_threshold)
            loss_s = F.cross_entropy(logits[n_x + n_u :].float(), y_fake)
            pseudo = o.pseudo_weight * self.schedule(step, o.pseudo_start, o.ramp)
            self.update("classifier", loss_x + pseudo * loss_u + o.synthetic_weight * synthetic * loss_s)
            logs.update(loss=loss_x.item(), loss_pseudo=loss_u.item(), pseudo_used=used, loss_synthetic=loss_s.item(),
                        train_acc=accuracy(logits[:n_x], batch.y))
        return logs

    def classifier(self) -> nn.Module:
        return self.network("classifier")

    def generator(self) -> nn.Module:
        return self.network("generator")


def mode_seeking_ratio(images: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mao et al. 2019 (Mode Seeking GANs): mean |x1 - x2| / mean |z1 - z2| between the two halves of a batch whose
    halves share their labels, in fp32. Near 0 when the generator ignores its noise."""
    h = len(images) // 2
    x = images.float()
    return (x[:h] - x[h : 2 * h]).abs().mean() / (z[:h] - z[h : 2 * h]).float().abs().mean()
