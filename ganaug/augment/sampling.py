"""Gao's Exp3, dynamic weighted sampling, and plain class re-weighting of the loss (its baseline).

The sampler is a weights tensor and ``torch.multinomial`` with the trainer's seeded generator, so a
distributed sampler can wrap it: draw the same indices on every rank from the same generator state and
keep every ``world_size``-th one.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def class_balanced_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-sample weight 1 / (its class's count): every class is drawn equally often (float64)."""
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1).double()
    return (1.0 / counts)[labels]


def validation_errors(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per class, the share of its validation images the model gets wrong (0 for a class without any)."""
    total = torch.bincount(labels, minlength=num_classes).double()
    wrong = torch.bincount(labels[predictions != labels], minlength=num_classes).double()
    return torch.where(total > 0, wrong / total.clamp(min=1), torch.zeros_like(total))


class DifficultyWeightedSampler:
    """Class-balanced weights at the start; after each epoch, a sample of class c weighs
    ``balanced * (1 + boost * error_c)`` where ``error_c`` is the model's error rate on class c of the
    validation split (misclassified validation images identify the hard classes, as in Gao's study).

    ``weights`` is the state (saved in classifier checkpoints); ``batches`` draws one epoch.
    """

    def __init__(self, labels: torch.Tensor, num_classes: int, boost: float = 2.0) -> None:
        if boost < 0:
            raise ValueError(f"difficulty boost must be >= 0, got {boost}")
        self.labels, self.num_classes, self.boost = labels, num_classes, boost
        self.base = class_balanced_weights(labels, num_classes)
        self.weights = self.base.clone()
        self.history: list[list[float]] = []  # per update: the validation error rate of each class

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """``len(labels) // batch_size`` batches drawn with replacement in proportion to ``weights``."""
        steps = max(1, len(self.labels) // batch_size)
        drawn = torch.multinomial(self.weights, steps * batch_size, replacement=True, generator=generator)
        yield from drawn.view(steps, batch_size)

    def update(self, val_labels: torch.Tensor, val_predictions: torch.Tensor) -> None:
        """Re-weight from the latest validation predictions (called by the trainer after each epoch)."""
        errors = validation_errors(val_labels, val_predictions, self.num_classes)
        self.history.append(errors.tolist())
        self.weights = self.base * (1.0 + self.boost * errors[self.labels])

    def class_shares(self) -> torch.Tensor:
        """The probability that a draw is of each class under the current weights."""
        mass = torch.zeros(self.num_classes, dtype=torch.float64).index_add_(0, self.labels, self.weights)
        return mass / mass.sum()


def inverse_frequency_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Cross-entropy weights N / (K * n_c) (scikit-learn's "balanced"); a class without images gets 0."""
    counts = torch.bincount(labels, minlength=num_classes).float()
    present = counts > 0
    weights = torch.zeros(num_classes)
    weights[present] = len(labels) / (int(present.sum()) * counts[present])
    return weights
