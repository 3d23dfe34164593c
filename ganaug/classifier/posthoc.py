"""Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", 2021): a plain model's
logits minus tau * log(class prior) at prediction time, tau chosen on the validation split, never on test."""

from __future__ import annotations

import torch
from sklearn.metrics import balanced_accuracy_score


def adjusted(logits: torch.Tensor, log_prior: torch.Tensor, tau: float) -> torch.Tensor:
    """fp32 logits - tau * log prior: rare classes gain."""
    return logits.float() - tau * log_prior.to(logits.device)


def choose_tau(val_logits: torch.Tensor, val_labels: torch.Tensor, log_prior: torch.Tensor, taus: list[float]
               ) -> tuple[float, dict[float, float]]:
    """The tau of ``taus`` with the highest validation balanced accuracy (the smallest of tied ones), and each tau's."""
    scores = {float(t): float(balanced_accuracy_score(val_labels.numpy(),
                                                      adjusted(val_logits, log_prior, t).argmax(1).numpy()))
              for t in sorted(taus)}
    return max(scores, key=lambda t: (scores[t], -t)), scores
