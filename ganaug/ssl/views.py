"""Weak and strong views of unlabelled images, as FixMatch (Sohn et al. 2020) and its successors use them.

weak: a random horizontal flip (natural images only, see ``flip``) and a random shift of up to 12.5 % of the side
(reflect-padded crop); strong: the weak view, then kornia's RandAugment (two random operations at a random
magnitude, Cubuk et al. 2020) and Cutout (one gray square of up to half the side, as FixMatch's). Images are in
[-1, 1] as the trainer gives them; kornia works in [0, 1]. kornia draws one RandAugment sub-policy per call, so the
strong view is drawn per ``chunk`` images: different operations across a batch, as FixMatch's per-image draws.
Gray images go through RandAugment as three equal channels (its colour operations need three) and come back
as their mean. Randomness comes from torch's global generator, which the trainer seeds.
"""

from __future__ import annotations

import torch
import kornia.augmentation as K
from kornia.augmentation.auto import RandAugment
from torch import nn

SHIFT = 0.125  # the largest shift, a fraction of the side (FixMatch: 4 px of 32)


class WeakStrong(nn.Module):
    """``forward(u) -> (weak, strong)``: two views of every image of ``u`` (B, C, H, W) in [-1, 1]."""

    def __init__(self, image_size: int, flip: bool, n_ops: int = 2, magnitude: int = 10, chunk: int = 64) -> None:
        super().__init__()
        pad = max(1, round(SHIFT * image_size))
        self.weak = nn.Sequential(*([K.RandomHorizontalFlip()] if flip else []),
                                  K.RandomCrop((image_size, image_size), padding=pad, padding_mode="reflect"))
        self.randaugment = RandAugment(n=n_ops, m=magnitude)
        self.cutout = K.RandomErasing(scale=(0.02, 0.25), ratio=(1.0, 1.0), value=0.5, p=1.0)
        self.chunk = chunk

    @torch.no_grad()
    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (u.float() + 1) / 2
        weak = self.weak(x).clamp(0, 1)
        rgb = weak.expand(-1, 3, -1, -1) if weak.shape[1] == 1 else weak  # colour operations need 3 channels
        strong = torch.cat([self.cutout(self.randaugment(part)) for part in rgb.split(self.chunk)]).clamp(0, 1)
        if weak.shape[1] == 1:
            strong = strong.mean(1, keepdim=True)  # gray in, gray out
        return weak * 2 - 1, strong * 2 - 1
