"""How ``ganaug augment`` scores an arm, and its verdict against the best remedy without generated images.

Every trained classifier is scored on the validation split (balanced accuracy: what chooses the best remedy and
the post-hoc tau) and on the untouched test split. The verdict pairs every arm that uses GAN images with the arm
that does not and scored best on validation, by seed, on test; with no GAN arm, the best remedy meets the baseline.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganaug.augment.strategies import TrainingPlan
from ganaug.classifier.losses import log_prior
from ganaug.classifier.posthoc import choose_tau
from ganaug.classifier.trainer import predict_logits
from ganaug.data import ImageDataset
from ganaug.experiments.common import versus_best_without_generator
from ganaug.metrics import heldout_metrics, resolvable_difference

PRIMARY = "balanced_accuracy"


def score(model: nn.Module, p: TrainingPlan, val: ImageDataset, test: ImageDataset, device: torch.device,
          taus: list[float]) -> tuple[dict, float, float | None]:
    """The test metrics, the validation balanced accuracy and the post-hoc tau (None: the plan adjusts nothing).

    A post-hoc plan's logits are adjusted by -tau * log(its training set's class prior), tau the best of ``taus``
    on the validation split."""
    offset, tau = None, None
    if p.posthoc:
        prior = log_prior(p.train.class_counts())
        tau, _ = choose_tau(predict_logits(model, val.images, device), val.labels, prior, taus)
        offset = -tau * prior
    val_score = heldout_metrics(model, val, device, offset)[PRIMARY]
    return heldout_metrics(model, test, device, offset), val_score, tau


def versus_best_remedy(runs: dict[str, list[dict]], val: dict[str, list[float]], with_gan: set[str],
                       num_classes: int) -> dict:
    """:func:`ganaug.experiments.common.versus_best_without_generator` on validation balanced accuracy."""
    return versus_best_without_generator(runs, val, with_gan, num_classes, criterion=PRIMARY)


def resolution(runs: dict[str, list[dict]], pairs: list[tuple[str, str]], metric: str = PRIMARY) -> dict:
    """Per compared pair (treatment, control), the smallest mean paired difference of ``metric`` its seeds' spread
    resolves (:func:`ganaug.metrics.resolvable_difference`), and their median; None where there are too few seeds."""
    each = {f"{a} vs {b}": resolvable_difference([x[metric] - y[metric] for x, y in zip(runs[a], runs[b])])
            for a, b in dict.fromkeys(pairs)}
    known = [v for v in each.values() if v is not None]
    n = len(next(iter(runs.values()), []))
    return {"metric": metric, "seeds": n, "confidence": 0.95, "per_comparison": each,
            "median": float(np.median(known)) if known else None,
            "range": [min(known), max(known)] if known else None}
