import numpy as np
import pytest
import torch
from scipy import stats

from ganaug.metrics import class_consistency, classification_metrics, paired_difference, resolvable_difference


def test_known_answer():
    y_true = [0, 0, 0, 0, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 1, 2, 0]
    m = classification_metrics(y_true, y_pred, 3)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["per_class_recall"] == pytest.approx([3 / 4, 1.0, 1 / 2])
    assert m["balanced_accuracy"] == pytest.approx((3 / 4 + 1 + 1 / 2) / 3)
    # F1 per class: c0 p=3/4 r=3/4 -> .75; c1 p=2/3 r=1 -> .8; c2 p=1 r=.5 -> 2/3
    assert m["macro_f1"] == pytest.approx((0.75 + 0.8 + 2 / 3) / 3)
    assert m["macro_precision"] == pytest.approx((3 / 4 + 2 / 3 + 1) / 3)
    assert m["macro_recall"] == pytest.approx(m["balanced_accuracy"])
    assert m["confusion_matrix"] == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_class_absent_from_predictions_counts_as_zero_recall():
    m = classification_metrics([0, 1, 2], [0, 0, 0], 4)
    assert m["per_class_recall"] == [1.0, 0.0, 0.0, 0.0]


def test_paired_difference_matches_scipy_paired_t_interval():
    a = np.array([0.91, 0.93, 0.90, 0.94, 0.92])
    b = np.array([0.90, 0.90, 0.89, 0.91, 0.90])
    d = paired_difference(a, b)
    ref = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert d["mean"] == pytest.approx((a - b).mean())
    assert (d["low"], d["high"]) == pytest.approx((ref.low, ref.high))


def test_paired_difference_single_repeat_has_no_interval():
    d = paired_difference([0.9], [0.8])
    assert d["mean"] == pytest.approx(0.1) and d["low"] is None and d["high"] is None


def test_class_consistency():
    intended = torch.tensor([0, 0, 1, 1, 1, 1])
    predicted = torch.tensor([0, 1, 1, 1, 1, 0])
    c = class_consistency(predicted, intended, 3)
    assert c["overall"] == pytest.approx(4 / 6)
    assert c["per_class"] == [pytest.approx(0.5), pytest.approx(0.75), None]
    assert c["answers"] == [[1, 1, 0], [1, 3, 0], [0, 0, 0]]  # rows: intended; columns: the classifier's answer


def test_paired_difference_gives_no_interval_below_three_seeds_or_without_spread():
    two = paired_difference([0.9, 0.7], [0.8, 0.8])
    assert two["low"] is None and two["high"] is None and two["note"].startswith("too few seeds (2")
    same = paired_difference([0.9, 0.8, 0.7], [0.8, 0.7, 0.6])  # +0.1 in every seed: not a certainty
    assert same["low"] is None and "same difference in all 3 seeds" in same["note"]
    assert abs(same["mean"] - 0.1) < 1e-12
    three = paired_difference([0.9, 0.8, 0.75], [0.8, 0.7, 0.7])
    assert three["low"] < three["mean"] < three["high"] and three["note"] is None


def test_resolvable_difference_is_t_sd_over_root_n_the_intervals_half_width():
    """t_{0.975, n-1} * sd_diff / sqrt(n), by hand: differences 0.01, 0.03, 0.02, 0.06 have sd 0.0216 and
    t_{0.975, 3} = 3.1824."""
    diffs = [0.01, 0.03, 0.02, 0.06]
    sd = (sum((d - 0.03) ** 2 for d in diffs) / 3) ** 0.5
    assert resolvable_difference(diffs) == pytest.approx(3.182446305 * sd / 2)
    d = paired_difference([0.5 + x for x in diffs], [0.5] * 4)
    assert d["high"] - d["mean"] == pytest.approx(resolvable_difference(diffs))
    assert resolvable_difference([0.1, 0.2]) is None and resolvable_difference([0.1] * 3) is None
