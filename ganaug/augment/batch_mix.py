"""Batch-level mixing by name: mixup (Zhang et al., "mixup: Beyond empirical risk minimization", 2018) and CutMix
(Yun et al., "CutMix: Regularization strategy to train strong classifiers with localizable features", 2019).

A mix pairs each image of a batch with another of the same batch (a random permutation) and returns the mixed
images, the partners' labels and lambda; the trainer takes lam * loss(y) + (1 - lam) * loss(y_partner), which
for cross-entropy is the loss on the mixed targets :func:`mixed_targets`. Randomness comes from torch's global
generator, which the classifier trainer seeds. A new mix is one factory ``(RemediesConfig) -> BatchMix`` under
``@BATCH_MIXES.register(name)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from ganaug.config import RemediesConfig
from ganaug.registry import Registry

BATCH_MIXES = Registry("batch mixing")


class BatchMix(Protocol):
    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]: ...


def mixed_targets(y: torch.Tensor, y_partner: torch.Tensor, lam: float, num_classes: int) -> torch.Tensor:
    """lam * onehot(y) + (1 - lam) * onehot(y_partner): what a mixed batch is trained towards."""
    return lam * F.one_hot(y, num_classes).float() + (1 - lam) * F.one_hot(y_partner, num_classes).float()


def draw_lambda(alpha: float) -> float:
    return float(torch.distributions.Beta(alpha, alpha).sample())


@dataclass
class Mixup:
    """Convex combinations of image pairs: lam * x + (1 - lam) * x_partner, lam ~ Beta(alpha, alpha)."""

    alpha: float = 1.0

    def __call__(self, x, y):
        lam, perm = draw_lambda(self.alpha), torch.randperm(len(x), device=x.device)
        return lam * x + (1 - lam) * x[perm], y[perm], lam


@dataclass
class CutMix:
    """A box of the partner image pasted in; the box's side is sqrt(1 - lam) of the image's, its centre uniform,
    clipped at the border; lam is then 1 - the pasted area's share."""

    alpha: float = 1.0

    def __call__(self, x, y):
        lam, perm = draw_lambda(self.alpha), torch.randperm(len(x), device=x.device)
        (y0, y1), (x0, x1) = (box_side(n, lam) for n in x.shape[-2:])
        mixed = x.clone()
        mixed[..., y0:y1, x0:x1] = x[perm][..., y0:y1, x0:x1]
        return mixed, y[perm], 1 - (y1 - y0) * (x1 - x0) / (x.shape[-2] * x.shape[-1])


def box_side(n: int, lam: float) -> tuple[int, int]:
    """One side of the CutMix box: length sqrt(1 - lam) * n around a uniform centre, clipped to [0, n]."""
    cut, centre = int(n * (1 - lam) ** 0.5), int(torch.randint(n, ()))
    return max(centre - cut // 2, 0), min(centre + cut // 2, n)


@BATCH_MIXES.register("mixup")
def mixup(cfg: RemediesConfig) -> BatchMix:
    return Mixup(cfg.mixup_alpha)


@BATCH_MIXES.register("cutmix")
def cutmix(cfg: RemediesConfig) -> BatchMix:
    return CutMix(cfg.cutmix_alpha)
