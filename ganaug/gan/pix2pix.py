"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"), from masks to
images, for segmentation pairs: a U-Net generator takes a one-hot mask and returns an image (tanh); a PatchGAN
judges (mask, image) pairs; least-squares GAN loss plus ``l1_weight`` x |G(mask) - image|_1. No noise input (the
paper drops it too: dropout is its only noise; here the variety comes from the deformed masks it is given).

The new masks it is given come from ``ganaug.data.segmentation.deform`` (training masks, elastically deformed).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.config.segment import Pix2PixConfig
from ganaug.data.segmentation import one_hot, random_crop_flip
from ganaug.gan.cyclegan import lsgan_loss
from ganaug.models.cyclegan import PatchDiscriminator
from ganaug.models.segmentation import UNet
from ganaug.runtime import EpochProgress, adam


class Pix2Pix(nn.Module):
    """The generator (mask -> image) and the discriminator on (mask, image) pairs."""

    def __init__(self, cfg: Pix2PixConfig, channels: int, num_classes: int, crop: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.G = UNet(num_classes, channels, cfg.width)
        self.D = PatchDiscriminator(crop, num_classes + channels, cfg.d_width)

    def forward(self, masks: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] (N, C, H, W) for masks (N, H, W), H and W divisible by 16."""
        return torch.tanh(self.G(one_hot(masks, self.num_classes)))


def train_pix2pix(cfg: Pix2PixConfig, images: torch.Tensor, masks: torch.Tensor, num_classes: int, crop: int,
                  seed: int, device: torch.device, progress: bool = True) -> tuple[Pix2Pix, list[dict]]:
    """Train on random aligned crops of the float images [-1, 1] (N, C, H, W) and their masks; returns the model (in
    eval mode) and its history (the losses' means every 100 steps)."""
    torch.manual_seed(seed)
    model = Pix2Pix(cfg, images.shape[1], num_classes, crop).to(device)
    opt_g, opt_d = (adam(net.parameters(), cfg.lr, (0.5, 0.999)) for net in (model.G, model.D))
    rng, history, rows = torch.Generator().manual_seed(seed + 1), [], []
    with EpochProgress("pix2pix", cfg.steps, enabled=progress) as bar:
        for step in range(cfg.steps):
            idx = torch.randint(len(images), (cfg.batch_size,), generator=rng)
            x, m = random_crop_flip(images[idx], masks[idx], crop, rng)
            x, m = x.to(device), m.to(device)
            cond = one_hot(m, num_classes)
            fake = torch.tanh(model.G(cond))
            loss_g = lsgan_loss(model.D(torch.cat([cond, fake], 1)), True)
            l1 = F.l1_loss(fake.float(), x)
            opt_g.zero_grad(set_to_none=True)
            (loss_g + cfg.l1_weight * l1).backward()
            opt_g.step()
            loss_d = 0.5 * (lsgan_loss(model.D(torch.cat([cond, x], 1)), True)
                            + lsgan_loss(model.D(torch.cat([cond, fake.detach()], 1)), False))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            rows.append({"loss_g": loss_g.item(), "loss_l1": l1.item(), "loss_d": loss_d.item()})
            if (step + 1) % 100 == 0 or step + 1 == cfg.steps:
                history.append({"step": step + 1, **{k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}})
                bar.epoch_done(len(rows) * cfg.batch_size, len(rows), l1=history[-1]["loss_l1"])
                rows = []
    return model.eval(), history
