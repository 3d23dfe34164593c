"""Segmentation metrics from one confusion matrix over all pixels: Dice and IoU per class, pixel accuracy."""

from __future__ import annotations

import torch


def confusion(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) pixel counts, rows the true class, columns the predicted one (int64 masks of any equal shape)."""
    index = target.flatten().long() * num_classes + pred.flatten().long()
    return torch.bincount(index, minlength=num_classes**2).view(num_classes, num_classes)


def segmentation_scores(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> dict:
    """Per class: Dice 2TP / (2TP + FP + FN) and IoU TP / (TP + FP + FN) (None for a class in neither mask); their
    means over the classes that occur; pixel accuracy."""
    cm = confusion(pred, target, num_classes).double()
    tp = cm.diag()
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    dice = [None if d == 0 else float(2 * t / d) for t, d in zip(tp, 2 * tp + fp + fn)]
    iou = [None if d == 0 else float(t / d) for t, d in zip(tp, tp + fp + fn)]
    present = [v for v in dice if v is not None]
    return {"dice": dice, "iou": iou, "mean_dice": sum(present) / len(present),
            "mean_iou": sum(v for v in iou if v is not None) / len(present),
            "pixel_accuracy": float(tp.sum() / cm.sum())}
