"""The verdict against the best remedy: chosen on validation (never test), paired by seed; and the resolution line."""

import pytest

from ganaug.experiments.augment_eval import resolution, versus_best_remedy


def runs_of(values):
    return [{"accuracy": v, "balanced_accuracy": v, "macro_f1": v, "per_class_recall": [v, v]} for v in values]


RUNS = {"baseline": runs_of([0.50, 0.52, 0.51]), "mixup": runs_of([0.60, 0.61, 0.65]),  # best on test
        "logit-adjusted": runs_of([0.55, 0.56, 0.58]), "exp1 r=0.5": runs_of([0.57, 0.60, 0.59])}
VAL = {"baseline": [0.5] * 3, "mixup": [0.52] * 3, "logit-adjusted": [0.70, 0.72, 0.71],  # best on validation
       "exp1 r=0.5": [0.9] * 3}  # a GAN arm is never the best remedy, whatever its validation score


def test_gan_arms_meet_the_remedy_best_on_validation_not_on_test():
    v = versus_best_remedy(RUNS, VAL, {"exp1 r=0.5"}, 2)
    assert v["best"] == "logit-adjusted" and set(v["validation_balanced_accuracy"]) == {"baseline", "mixup",
                                                                                          "logit-adjusted"}
    d = v["comparisons"]["exp1 r=0.5"]["balanced_accuracy"]
    assert d["mean"] == pytest.approx((0.02 + 0.04 + 0.01) / 3) and d["n"] == 3 and "vs_baseline" not in v


def test_without_gan_arms_the_best_remedy_meets_the_baseline():
    runs = {k: r for k, r in RUNS.items() if k != "exp1 r=0.5"}
    v = versus_best_remedy(runs, VAL, set(), 2)
    assert v["best"] == "logit-adjusted" and v["comparisons"] == {}
    assert v["vs_baseline"]["balanced_accuracy"]["mean"] == pytest.approx((0.05 + 0.04 + 0.07) / 3)


def test_resolution_is_the_half_width_of_each_paired_interval():
    r = resolution(RUNS, [("mixup", "baseline"), ("exp1 r=0.5", "logit-adjusted"), ("mixup", "baseline")])
    assert list(r["per_comparison"]) == ["mixup vs baseline", "exp1 r=0.5 vs logit-adjusted"] and r["seeds"] == 3
    # mixup - baseline: 0.10, 0.09, 0.14 -> sd 0.02646, t_{0.975,2} = 4.3027
    assert r["per_comparison"]["mixup vs baseline"] == pytest.approx(4.302653 * 0.0264575 / 3 ** 0.5, rel=1e-4)
    assert r["median"] == pytest.approx(sum(r["per_comparison"].values()) / 2)
