"""Class consistency: does the generator draw the class it was asked for?"""

from __future__ import annotations

import torch


def class_consistency(predicted: torch.Tensor, intended: torch.Tensor, num_classes: int) -> dict:
    """Share of generated images that a real-data classifier assigns to the class the generator was asked for.

    This is the "classification judgement accuracy" of Hu et al.: ``predicted`` are a classifier's labels
    for generated images (the classifier trained on the full real training split only), ``intended``
    the labels the images were generated for. Returns the overall share, the share per class (None for a class
    with no samples) and ``answers``: counts of the classifier's answers, rows the intended class, columns its
    answer (what the misjudged images were taken for: e.g. a translated car called a truck or a ship).
    """
    hits = predicted == intended
    per_class = [float(hits[intended == c].float().mean()) if (intended == c).any() else None for c in range(num_classes)]
    pairs = intended.long() * num_classes + predicted.long()
    answers = torch.bincount(pairs, minlength=num_classes**2).view(num_classes, num_classes)
    return {"overall": float(hits.float().mean()), "per_class": per_class, "answers": answers.tolist()}
