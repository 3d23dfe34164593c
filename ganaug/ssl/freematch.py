"""``freematch``: Wang et al. 2023, "FreeMatch: Self-adaptive Thresholding for Semi-supervised Learning".

FixMatch's step (``ganaug.ssl.fixmatch``) with two changes. The threshold adapts to the model's learning status:
a global tau (EMA, momentum ``ema_p``, of the mean confidence on weak views) times a local, per-class factor
MaxNorm(p~) (p~: EMA of the mean class probabilities); a pseudo-label of class c counts when its confidence is
>= tau x p~_c / max(p~). Both start at 1/K (the paper's tau_0 = p~_0 = 1/C; USB's code starts them at 1), so early
on the threshold is low and most pseudo-labels count, and it rises as the model grows confident. And the
self-adaptive fairness term L_f = -H(SumNorm(p~ / h~), SumNorm(p_bar / h_bar)) = sum_c a_c log b_c (h~: EMA histogram
of the weak views' argmax; p_bar, h_bar: mean probabilities and argmax histogram of the confident strong views),
added with weight ``lambda_f``: the sign and form of USB's ``entropy_loss`` (semilearn/algorithms/freematch).
Minimising it drives the confident strong views' mean prediction away from the smoothed target; the authors read it
as maximising the entropy of the average prediction (USB issue 182). No fixed ``threshold`` option: it adapts.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from ganaug.ssl.base import ALGORITHMS
from ganaug.ssl.fixmatch import ConsistencyOptions, FixMatch


class SelfAdaptiveThresholds(nn.Module):
    """tau (global), p~ (class-probability means) and h~ (argmax histogram), EMAs kept as buffers (checkpointed)."""

    def __init__(self, num_classes: int, momentum: float) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("tau", torch.tensor(1.0 / num_classes))
        self.register_buffer("p_model", torch.full((num_classes,), 1.0 / num_classes))
        self.register_buffer("label_hist", torch.full((num_classes,), 1.0 / num_classes))

    @torch.no_grad()
    def update(self, probs: torch.Tensor) -> None:
        """Move the EMAs towards a batch of weak-view probabilities (B, K)."""
        m = self.momentum
        confidence, pred = probs.max(1)
        hist = torch.bincount(pred, minlength=probs.shape[1]).float()
        self.tau.mul_(m).add_((1 - m) * confidence.mean())
        self.p_model.mul_(m).add_((1 - m) * probs.mean(0))
        self.label_hist.mul_(m).add_((1 - m) * hist / hist.sum())

    def thresholds(self) -> torch.Tensor:
        """The per-class thresholds tau x MaxNorm(p~)."""
        return self.tau * self.p_model / self.p_model.max()

    @torch.no_grad()
    def __call__(self, logits_weak: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """Update with this batch, then its pseudo-labels and mask (as USB: update first)."""
        probs = logits_weak.detach().float().softmax(1)
        self.update(probs)
        confidence, pseudo = probs.max(1)
        return pseudo, (confidence >= self.thresholds()[pseudo]).float()


def fairness_loss(logits_strong: torch.Tensor, mask: torch.Tensor, p_model: torch.Tensor,
                  label_hist: torch.Tensor) -> torch.Tensor:
    """L_f = sum_c SumNorm(p~ / h~)_c log SumNorm(p_bar / h_bar)_c over the masked strong views (0 when none)."""
    keep = mask.bool()
    if not keep.any():
        return logits_strong.new_zeros((), dtype=torch.float32)
    prob = logits_strong[keep].float().softmax(1)
    hist = torch.bincount(prob.argmax(1), minlength=prob.shape[1]).float()
    hist = hist / hist.sum()

    def scaled(p: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        inv = torch.where(h > 0, 1 / h, torch.zeros_like(h)).detach()  # a class never predicted: weight 0
        q = p * inv
        return q / q.sum()

    target, mean = scaled(p_model, label_hist), scaled(prob.mean(0), hist)
    return (target * torch.log(mean + 1e-12)).sum()


@ALGORITHMS.register("freematch")
class FreeMatch(FixMatch):
    class Options(ConsistencyOptions):
        ema_p: float = Field(0.999, gt=0, lt=1)  # momentum of tau, p~ and h~ (the paper: 0.999)
        lambda_f: float = Field(0.01, ge=0)  # weight of the fairness term (USB's default ent_loss_ratio: 0.01)

    def build(self) -> None:
        super().build()
        sat = SelfAdaptiveThresholds(self.shape.num_classes, self.opt.ema_p).to(self.device)
        self.networks["thresholds"] = (sat, {"registry": "ganaug.ssl.freematch.SelfAdaptiveThresholds",
                                             "name": "thresholds", "kwargs": {"momentum": self.opt.ema_p}})
        self.sat = sat

    def mask(self, logits_weak: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.sat(logits_weak)

    def extra_loss(self, logits_strong: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, dict]:
        loss_f = fairness_loss(logits_strong, mask, self.sat.p_model, self.sat.label_hist)
        return self.opt.lambda_f * loss_f, {"loss_fairness": loss_f.item(), "tau": float(self.sat.tau)}
