"""Gao's GAN ratio, "balance" and "add N": exact integer counts, checked exhaustively on small cases."""

from fractions import Fraction

import pytest

from ganaug.augment.mixing import exact_ratio, plan_add, plan_balance, plan_ratio, ratio_counts

RATIOS = [Fraction(k, 20) for k in range(21)] + [Fraction(1, 3), Fraction(2, 3)]


@pytest.mark.parametrize("r", RATIOS, ids=str)
def test_ratio_counts_exhaustively(r):
    for largest in range(1, 41):
        previous = None
        for n in range(0, largest + 1):
            real, synthetic = ratio_counts(n, largest, r)
            total = real + synthetic
            assert 0 <= real <= n and synthetic >= 0 and total <= largest
            if r < 1 and n <= (1 - r) * largest:  # every real image kept; synthetic share r up to rounding
                assert real == n and abs(synthetic - r * n / (1 - r)) <= Fraction(1, 2)
            else:  # capped at the largest class
                assert total == largest and abs(synthetic - r * largest) <= Fraction(1, 2)
            if total:
                assert abs(Fraction(synthetic, total) - r) <= Fraction(1, 2 * total)
            if previous is not None:  # a class with one more real image never gets fewer real images
                assert real >= previous[0]
            previous = (real, synthetic)


def test_ratio_counts_are_monotone_in_the_ratio():
    for largest in range(1, 31):
        for n in range(0, largest + 1):
            pairs = [ratio_counts(n, largest, r) for r in sorted(RATIOS)]
            assert all(a[1] <= b[1] and a[0] >= b[0] for a, b in zip(pairs, pairs[1:]))


def test_ends_and_the_papers_setting():
    assert ratio_counts(13, 131, 0) == (13, 0)  # r = 0: the baseline
    assert ratio_counts(13, 131, 1) == (0, 131)  # r = 1: all synthetic, as large as the largest class
    # CIFAR-10 with classes 0-2 cut to 10 % (500 of 5,000): Gao's ratios 0.2 / 0.5 / 1.0
    assert ratio_counts(500, 5000, 0.2) == (500, 125)
    assert ratio_counts(500, 5000, 0.5) == (500, 500)
    assert ratio_counts(500, 5000, 0.9) == (500, 4500)  # where both rules meet
    assert ratio_counts(500, 5000, 0.95) == (250, 4750)
    assert ratio_counts(500, 5000, 1.0) == (0, 5000)


def test_decimal_ratios_are_exact():
    # 0.6 * 1 / 0.4 is 1.4999999999999998 in floating point; the exact 3/2 rounds half up to 2.
    assert ratio_counts(1, 100, 0.6) == (1, 2)
    assert exact_ratio(0.2) == Fraction(1, 5) and exact_ratio("0.35") == Fraction(7, 20)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_ratio_outside_unit_interval(bad):
    with pytest.raises(ValueError, match="outside"):
        ratio_counts(5, 10, bad)


def test_plans_touch_only_the_target_classes():
    counts = [13, 13, 131, 120]
    plan = plan_ratio(counts, [0, 1], 0.5)
    assert plan.real == (13, 13, 131, 120) and plan.synthetic == (13, 13, 0, 0)
    assert plan.synthetic_share(0) == Fraction(1, 2) and plan.synthetic_share(2) == 0
    full = plan_ratio(counts, [0], 1.0)
    assert full.real == (0, 13, 131, 120) and full.synthetic == (131, 0, 0, 0)
    balanced = plan_balance(counts, [0, 3])
    assert balanced.totals() == [131, 13, 131, 131] and balanced.real == tuple(counts)
    added = plan_add(counts, [1, 2], 50)
    assert added.synthetic == (0, 50, 50, 0) and added.real == tuple(counts)
