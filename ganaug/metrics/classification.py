"""Classification metrics on a held-out split (scikit-learn), and paired differences across repeats."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import (
    accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score,
    roc_curve,
)


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], num_classes: int, probabilities: np.ndarray | None = None
) -> dict:
    """Accuracy, balanced accuracy (mean per-class recall), macro-F1, macro precision and recall, per-class recall
    and the confusion matrix;
    with ``probabilities`` (N, num_classes) also one-vs-rest ROC-AUC (``auc``, ``per_class_auc``).

    Balanced accuracy and macro-F1 weigh every class equally, so they show what imbalance does to the
    small classes, which plain accuracy hides.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(num_classes))
    auc = {} if probabilities is None else one_vs_rest_auc(y_true, probabilities, num_classes)
    return {
        **auc,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "macro_precision": float(precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "macro_recall": float(recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_recall": [float(r) for r in recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def one_vs_rest_auc(y_true: Sequence[int], probabilities: np.ndarray, num_classes: int) -> dict:
    """ROC-AUC of each class against the rest from the class probabilities (scikit-learn ``roc_auc_score``), and
    their mean (``auc``; equals ``roc_auc_score(..., multi_class="ovr", average="macro")``). A class absent from
    ``y_true`` (or the only one present) has no AUC (None) and is left out of the mean."""
    y_true, probabilities = np.asarray(y_true), np.asarray(probabilities, dtype=np.float64)
    per_class: list[float | None] = []
    for c in range(num_classes):
        positive = y_true == c
        per_class.append(float(roc_auc_score(positive, probabilities[:, c])) if 0 < positive.sum() < len(y_true) else None)
    present = [a for a in per_class if a is not None]
    return {"auc": float(np.mean(present)) if present else None, "per_class_auc": per_class}


def roc_points(y_true: Sequence[int], probabilities: np.ndarray, num_classes: int, max_points: int = 200) -> dict:
    """One-vs-rest ROC curve of every class present in ``y_true``, thinned to at most ``max_points`` evenly spaced
    thresholds (enough to draw): ``{class: {"fpr": [...], "tpr": [...]}}``, for the reports' ROC figures."""
    y_true, probabilities = np.asarray(y_true), np.asarray(probabilities, dtype=np.float64)
    curves = {}
    for c in range(num_classes):
        if not 0 < (y_true == c).sum() < len(y_true):
            continue
        fpr, tpr, _ = roc_curve(y_true == c, probabilities[:, c])
        keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), max_points)).astype(int))
        curves[c] = {"fpr": fpr[keep].round(5).tolist(), "tpr": tpr[keep].round(5).tolist()}
    return curves


MIN_SEEDS = 3  # paired repeats below which no confidence interval (and so no verdict) is given


def paired_difference(treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean of ``treatment[i] - control[i]`` over repeats paired by seed, with a Student-t confidence interval.

    With fewer than ``MIN_SEEDS`` repeats there is no interval (``low``/``high`` are None, ``note`` says why):
    with 2 seeds a t-interval has one degree of freedom (t = 12.7) and per-class intervals reach +-140 points,
    which says nothing. Differences that are identical in every seed give no interval either: a zero-width
    interval would read as certainty where the seeds only failed to vary (a small test set, say).
    """
    diff = np.asarray(treatment, dtype=float) - np.asarray(control, dtype=float)
    out = {"mean": float(diff.mean()), "n": int(len(diff)), "confidence": confidence, "low": None, "high": None,
           "note": None}
    if len(diff) < MIN_SEEDS:
        out["note"] = f"too few seeds ({len(diff)}; an interval needs {MIN_SEEDS})"
    elif np.ptp(diff) < 1e-12:  # equal up to rounding
        out["note"] = f"the same difference in all {len(diff)} seeds: no interval"
    else:
        half = resolvable_difference(diff, confidence)
        out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out


def resolvable_difference(differences: Sequence[float], confidence: float = 0.95) -> float | None:
    """The smallest mean paired difference that ``len(differences)`` seeds with this spread tell from 0:
    t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n), the half-width of :func:`paired_difference`'s interval (None
    below ``MIN_SEEDS`` or when every difference is the same, as there)."""
    diff = np.asarray(differences, dtype=float)
    if len(diff) < MIN_SEEDS or np.ptp(diff) < 1e-12:
        return None
    return float(stats.t.ppf(0.5 + confidence / 2, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff)))
