"""KID against a direct, loop-based numpy computation of the unbiased MMD^2 with the cubic kernel."""

import numpy as np
import pytest
import torch

from ganaug.metrics import kid
from ganaug.metrics.kid import polynomial_mmd2_unbiased


def _direct_mmd2(x, y):
    """Sum over pairs i != j within each set, all pairs across, k(a, b) = (a.b / d + 1)^3."""
    m, d = x.shape
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_mmd2_matches_direct_computation():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.4
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(_direct_mmd2(x, y), rel=1e-12)


def test_kid_subsets_match_direct_computation_with_the_same_draws():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((25, 4)) * 1.5
    out = kid(torch.from_numpy(x), y, features="test", subsets=4, subset_size=10, seed=7)
    draws = np.random.RandomState(7)
    values = []
    for _ in range(4):  # torch-fidelity's order: a real subset, then a generated subset
        xs = x[draws.choice(30, 10, replace=False)]
        ys = y[draws.choice(25, 10, replace=False)]
        values.append(_direct_mmd2(xs, ys))
    assert out["kid_mean"] == pytest.approx(np.mean(values), rel=1e-9)
    assert out["kid_std"] == pytest.approx(np.std(values), rel=1e-9)
    assert (out["subsets"], out["subset_size"], out["features"]) == (4, 10, "test")


def test_same_distribution_is_near_zero_and_shift_is_positive():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((400, 8)), rng.standard_normal((400, 8))
    same = kid(a, b, features="t", subsets=20, subset_size=200)
    shifted = kid(a, b + 1.0, features="t", subsets=20, subset_size=200)
    assert abs(same["kid_mean"]) < 3 * same["kid_std"] + 1e-3
    assert shifted["kid_mean"] > 10 * (abs(same["kid_mean"]) + same["kid_std"])


def test_subset_size_is_capped_by_the_smaller_set():
    rng = np.random.default_rng(3)
    out = kid(rng.standard_normal((50, 3)), rng.standard_normal((20, 3)), features="t", subsets=2)
    assert out["subset_size"] == 20


def test_deterministic_for_a_seed():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 3))
    assert kid(x, y, "t", subsets=5, subset_size=10, seed=1) == kid(x, y, "t", subsets=5, subset_size=10, seed=1)
