"""Automatic augmentation policies by name, kornia's (``kornia.augmentation.auto``): RandAugment (Cubuk et al.,
"RandAugment: Practical automated data augmentation with a reduced search space", 2020) and TrivialAugment (Müller &
Hutter, "TrivialAugment: Tuning-free yet state-of-the-art data augmentation", 2021).

Applied to every training batch like classic augmentation: float images in [-1, 1] are mapped to kornia's [0, 1]
and back. kornia's colour operations need three channels, so a grey batch is repeated to RGB and averaged back (the
colour operations leave grey images grey, so nothing is lost). Randomness comes from torch's global generator,
which the classifier trainer seeds. A new policy is one factory ``(RemediesConfig) -> nn.Module`` under
``@POLICIES.register(name)``.
"""

from __future__ import annotations

from kornia.augmentation.auto import RandAugment, TrivialAugment
import torch
from torch import nn

from ganaug.config import RemediesConfig
from ganaug.registry import Registry

POLICIES = Registry("augmentation policy")


class Policy(nn.Module):
    """A kornia policy on [-1, 1] batches of any channel count (1 or 3), keeping shape, range and dtype."""

    def __init__(self, policy: nn.Module) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grey = x.shape[1] == 1
        rgb = ((x.float() + 1) / 2).expand(-1, 3, -1, -1) if grey else (x.float() + 1) / 2
        out = self.policy(rgb.contiguous()).clamp(0, 1)
        out = out.mean(1, keepdim=True) if grey else out
        return (out * 2 - 1).to(x.dtype)


@POLICIES.register("randaugment")
def randaugment(cfg: RemediesConfig) -> nn.Module:
    return Policy(RandAugment(n=cfg.randaugment_n, m=cfg.randaugment_m))


@POLICIES.register("trivialaugment")
def trivialaugment(cfg: RemediesConfig) -> nn.Module:
    return Policy(TrivialAugment())
