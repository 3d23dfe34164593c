"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative Adversarial Networks with Limited
Data"): an augmentation pipe whose ops each act on an image with probability ``p``, and the controller that moves p.

With little data D memorises the real images and grows sure of them: E[sign(D(real))] drifts to 1. ADA augments
every image D sees (real and fake, differentiably, so G learns through it) just enough to hold that at a target:
augmentations that leak into G's samples are those applied always; with p < 1 G can only match the data by
generating unaugmented images.
"""

from __future__ import annotations

import torch

from ganaug import distributed as dist
from ganaug.gan.stabilisers import DiffAugment, rand, randint


class AdaptiveAugment(DiffAugment):
    """Each op of ``policy`` applied to each image with probability ``p`` (DiffAugment's ops, flips, 90-degree turns).

    Draws come from ``generator`` for every image whatever p is, so a run's random sequence does not depend on p.
    ``xflip``: a horizontal flip half the time it applies; ``rot90``: a turn by 0, 90, 180 or 270 degrees (square
    images); ``translation``, ``color``, ``cutout``: DiffAugment's.
    """

    OPS = (*DiffAugment.OPS, "xflip", "rot90")

    def __init__(self, policy: list[str], generator: torch.Generator, p: float = 0.0) -> None:
        super().__init__(policy, generator)
        self.p = p  # a float, read each call; the trainer's checkpoints hold it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.policy:
            applies = rand(x.shape[0], x.device, self.generator) < self.p
            x = torch.where(applies, getattr(self, op)(x), x)
        return x

    def xflip(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(rand(x.shape[0], x.device, self.generator) < 0.5, x.flip(3), x)

    def rot90(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] != x.shape[3]:
            raise ValueError(f"rot90 needs square images, not {x.shape[2]}x{x.shape[3]}")
        turns = randint(0, 4, x.shape[0], x.device, self.generator).unsqueeze(1)  # (n, 1, 1, 1)
        out = x
        for k in (1, 2, 3):
            out = torch.where(turns == k, x.rot90(k, dims=(2, 3)), out)
        return out


class AdaController:
    """Moves ``pipe.p`` every ``interval`` D steps by sign(r - target) * batch_size * interval / (kimg * 1000), where
    r = E[sign(D(real))] over those steps (all ranks' images), and keeps p in [0, 1].

    ``signs`` (the sum of sign(D(real)) and the number of outputs) and ``steps`` (D steps since the last adjustment)
    are what a checkpoint must hold besides p."""

    def __init__(self, pipe: AdaptiveAugment, target: float, interval: int, kimg: float, batch_size: int) -> None:
        self.pipe, self.target, self.interval = pipe, target, interval
        self.speed = batch_size * interval / (kimg * 1000)
        self.signs = torch.zeros(2)
        self.steps = 0

    def update(self, real_logits: torch.Tensor) -> None:
        """Count one D step's outputs on real images; adjust p at the end of an interval."""
        logits = real_logits.detach().float()
        self.signs = self.signs.to(logits.device)  # a resumed run's tensor comes back on the CPU
        self.signs += torch.stack([logits.sign().sum(), torch.tensor(float(logits.numel()), device=logits.device)])
        self.steps += 1
        if self.steps < self.interval:
            return
        total, count = dist.all_reduce_sum(self.signs).tolist()
        r = total / count
        step = (r > self.target) - (r < self.target)
        self.pipe.p = min(max(self.pipe.p + step * self.speed, 0.0), 1.0)
        self.signs, self.steps = torch.zeros_like(self.signs), 0
