"""Precision/recall/density/coverage: known cases and a brute-force numpy implementation of Naeem et al."""

import numpy as np
import pytest

from ganaug.metrics import prdc


def _brute_force(real, fake, k):
    d_rr = np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1))
    d_ff = np.sqrt(((fake[:, None] - fake[None]) ** 2).sum(-1))
    d_rf = np.sqrt(((real[:, None] - fake[None]) ** 2).sum(-1))  # (real, fake)
    r_real = np.sort(d_rr, axis=1)[:, k]  # column 0 is the point itself
    r_fake = np.sort(d_ff, axis=1)[:, k]
    inside = d_rf < r_real[:, None]
    return {
        "precision": inside.any(0).mean(),
        "recall": (d_rf < r_fake[None, :]).any(1).mean(),
        "density": inside.sum(0).mean() / k,
        "coverage": (d_rf.min(1) < r_real).mean(),
    }


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_brute_force(k):
    rng = np.random.default_rng(k)
    real = rng.standard_normal((80, 6))
    fake = rng.standard_normal((60, 6)) * 1.3 + 0.4
    out = prdc(real, fake, features="t", k=k, budget=500)  # a small budget forces several chunks
    for key, value in _brute_force(real, fake, k).items():
        assert out[key] == pytest.approx(value, abs=1e-12), key


def test_identical_sets():
    real = np.random.default_rng(0).standard_normal((200, 4))
    out = prdc(real, real.copy(), features="t", k=5)
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0
    assert out["density"] == pytest.approx(1.0, abs=0.05)


def test_disjoint_far_sets():
    rng = np.random.default_rng(1)
    out = prdc(rng.standard_normal((100, 3)), rng.standard_normal((100, 3)) + 100, features="t")
    assert out["precision"] == out["recall"] == out["density"] == out["coverage"] == 0.0


def test_collapsed_generator_has_precision_but_no_coverage():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((300, 2))
    fake = real[:5][rng.integers(0, 5, 300)] + rng.standard_normal((300, 2)) * 0.01  # all near 5 real points
    out = prdc(real, fake, features="t", k=5)
    assert out["precision"] > 0.95  # every sample looks real...
    assert out["coverage"] < 0.15 and out["recall"] < 0.1  # ...but only the balls around 5 of 300 points are hit
