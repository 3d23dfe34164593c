"""The segmenter's training loop: random aligned crops of image-mask pairs, optionally deformed (U-Net's own
augmentation: elastic deformation, flips, 90-degree turns), pixel-wise cross-entropy, Adam; whole-image predictions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.data import to_float
from ganaug.data.segmentation import deform, random_crop_flip
from ganaug.models.segmentation import SEGMENTERS
from ganaug.runtime import adam


def train_segmenter(name: str, width: int, images: torch.Tensor, masks: torch.Tensor, num_classes: int, crop: int,
                    steps: int, batch_size: int, lr: float, seed: int, device: torch.device,
                    elastic: tuple[float, float] | None = None) -> nn.Module:
    """Train ``name`` on uint8 ``images`` (N, C, H, W) and ``masks`` (N, H, W); ``elastic`` = (alpha, sigma) adds the
    classic augmentation to every batch. Returns the network in eval mode. Deterministic for a seed on the CPU."""
    torch.manual_seed(seed)
    net = SEGMENTERS.create(name, channels=images.shape[1], num_classes=num_classes, width=width).to(device)
    opt, rng = adam(net.parameters(), lr), torch.Generator().manual_seed(seed + 1)
    x_all = to_float(images)
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(images), (batch_size,), generator=rng)
        x, m = random_crop_flip(x_all[idx], masks[idx], crop, rng)
        if elastic is not None:
            m, x = deform(m, *elastic, rng, x)
        loss = F.cross_entropy(net(x.to(device)).float(), m.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def predict_masks(net: nn.Module, images: torch.Tensor, device: torch.device, batch: int = 4) -> torch.Tensor:
    """Class indices (N, H, W) for uint8 images (N, C, H, W)."""
    return torch.cat([net(to_float(images[i : i + batch]).to(device)).argmax(1).cpu()
                      for i in range(0, len(images), batch)])
