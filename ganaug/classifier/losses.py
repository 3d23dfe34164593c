"""Long-tail losses by name: each maps a batch's fp32 logits to the logits and class weights that the trainer's one
cross-entropy is taken on, so every loss keeps the trainer's distributed scaling and its fp32 softmax.

- ``logit-adjusted``: Menon et al., "Long-tail learning via logit adjustment" (2021): CE(logits + tau * log prior).
- ``balanced-softmax``: Ren et al., "Balanced meta-softmax for long-tailed visual recognition" (2020): CE(logits + log n).
- ``ldam-drw``: Cao et al., "Learning imbalanced datasets with label-distribution-aware margin loss" (2019):
  CE(s * (logits - m_y on the true class)), m_j = C / n_j^(1/4) with the largest margin ``max_margin``, and deferred
  re-weighting (DRW): class-balanced weights by the effective number of samples (Cui et al., "Class-balanced loss
  based on effective number of samples", 2019) from ``drw_start`` of the training steps on.
- ``drw``: plain cross-entropy with the same deferred weights.

A new loss is one factory ``(class_counts, RemediesConfig) -> LossAdjustment`` under ``@LOSSES.register(name)``.
A class without training images counts as one image (its log prior stays finite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from ganaug.config import RemediesConfig
from ganaug.registry import Registry

LOSSES = Registry("loss")


class LossAdjustment(Protocol):
    """(fp32 logits, labels, update step from 0, total updates) -> (the logits the cross-entropy takes, class weights
    or None)."""

    def __call__(self, logits: torch.Tensor, y: torch.Tensor, step: int, total_steps: int
                 ) -> tuple[torch.Tensor, torch.Tensor | None]: ...


def log_prior(counts: list[int] | torch.Tensor) -> torch.Tensor:
    """log of the class frequencies (fp32); an empty class counts as one image."""
    n = torch.as_tensor(counts, dtype=torch.float32).clamp(min=1)
    return (n / n.sum()).log()


def ldam_margins(counts: list[int] | torch.Tensor, max_margin: float) -> torch.Tensor:
    """LDAM's margins m_j proportional to n_j^(-1/4), scaled so that the largest (the rarest class's) is ``max_margin``."""
    m = torch.as_tensor(counts, dtype=torch.float32).clamp(min=1).pow(-0.25)
    return m * (max_margin / m.max())


def effective_number_weights(counts: list[int] | torch.Tensor, beta: float) -> torch.Tensor:
    """Class-balanced weights (1 - beta) / (1 - beta^n_j), normalised to sum to the number of classes (Cui et al.;
    as Cao et al.'s DRW uses them); an empty class gets 0."""
    n = torch.as_tensor(counts, dtype=torch.float64)
    w = torch.where(n > 0, (1 - beta) / (1 - torch.pow(torch.tensor(beta, dtype=torch.float64), n)).clamp(min=1e-300),
                    torch.zeros_like(n))
    return (w * len(n) / w.sum()).float()


@dataclass
class LogitOffset:
    """Cross-entropy on logits + a fixed per-class offset (logit adjustment, balanced softmax)."""

    offset: torch.Tensor  # (K,)

    def __call__(self, logits, y, step, total_steps):
        return logits + self.offset.to(logits.device), None


@dataclass
class DeferredReweighting:
    """Plain (or LDAM-margin) cross-entropy; the class weights switch on at update ``start * total_steps``."""

    weights: torch.Tensor  # (K,) the weights after the switch
    start: float  # share of the training updates before the switch
    margins: torch.Tensor | None = None  # (K,) LDAM margins subtracted from the true class's logit; None: none
    scale: float = 1.0  # LDAM's s: every logit is multiplied by it

    def switch_step(self, total_steps: int) -> int:
        return int(self.start * total_steps)

    def __call__(self, logits, y, step, total_steps):
        if self.margins is not None:
            true_class = torch.nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
            logits = self.scale * (logits - true_class * self.margins.to(logits.device))
        return logits, (self.weights if step >= self.switch_step(total_steps) else None)


@LOSSES.register("logit-adjusted")
def logit_adjusted(counts: list[int], cfg: RemediesConfig) -> LossAdjustment:
    return LogitOffset(cfg.tau * log_prior(counts))


@LOSSES.register("balanced-softmax")
def balanced_softmax(counts: list[int], cfg: RemediesConfig) -> LossAdjustment:
    return LogitOffset(torch.as_tensor(counts, dtype=torch.float32).clamp(min=1).log())


@LOSSES.register("ldam-drw")
def ldam_drw(counts: list[int], cfg: RemediesConfig) -> LossAdjustment:
    return DeferredReweighting(effective_number_weights(counts, cfg.drw_beta), cfg.drw_start,
                               ldam_margins(counts, cfg.max_margin), cfg.ldam_scale)


@LOSSES.register("drw")
def drw(counts: list[int], cfg: RemediesConfig) -> LossAdjustment:
    return DeferredReweighting(effective_number_weights(counts, cfg.drw_beta), cfg.drw_start)
