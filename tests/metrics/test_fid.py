"""FID against scipy.linalg.sqrtm (pytorch-fid's route), the Gaussian closed form, and known cases."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ganaug.metrics import feature_statistics, fid, frechet_distance
from ganaug.metrics.fid import trace_sqrt_product


def _scipy_fid(mu1, s1, mu2, s2) -> float:
    """The textbook computation, as pytorch-fid's calculate_frechet_distance does it."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _random_spd(rng, d, n):
    a = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.3
    return np.cov(a, rowvar=False)


@pytest.mark.parametrize("d", [8, 64, 200])
def test_agrees_with_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((4 * d, d)) @ rng.standard_normal((d, d))
    y = rng.standard_normal((4 * d, d)) * 2.0 + 0.5
    mu1, s1 = feature_statistics(x)
    mu2, s2 = feature_statistics(y)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_scipy_fid(mu1, s1, mu2, s2), rel=1e-6)


def test_singular_covariance_agrees_with_scipy():
    """Fewer samples than dimensions: the covariance is singular and the Cholesky route falls back."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((20, 40)), rng.standard_normal((60, 40)) + 0.3
    mu1, s1 = feature_statistics(x)
    mu2, s2 = feature_statistics(y)
    assert trace_sqrt_product(s1, s2) == pytest.approx(np.trace(scipy.linalg.sqrtm(s1 @ s2).real), rel=1e-6)


def test_statistics_match_numpy():
    x = np.random.default_rng(0).standard_normal((50, 6))
    mu, sigma = feature_statistics(torch.from_numpy(x).float())
    np.testing.assert_allclose(mu, x.astype(np.float32).mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float32), rowvar=False), rtol=1e-5, atol=1e-7)


def test_identical_sets_give_zero():
    x = np.random.default_rng(2).standard_normal((300, 32))
    assert fid(x, x.copy(), features="test")["fid"] == pytest.approx(0.0, abs=1e-8)


def test_closed_form_for_gaussians_with_commuting_covariances():
    """N(m1, diag(a^2)) vs N(m2, diag(b^2)): |m1 - m2|^2 + sum (a - b)^2."""
    rng = np.random.default_rng(3)
    m1, m2 = rng.standard_normal(16), rng.standard_normal(16)
    a, b = rng.uniform(0.5, 2, 16), rng.uniform(0.5, 2, 16)
    expected = np.sum((m1 - m2) ** 2) + np.sum((a - b) ** 2)
    assert frechet_distance(m1, np.diag(a**2), m2, np.diag(b**2)) == pytest.approx(expected, rel=1e-12)


def test_closed_form_for_general_covariances():
    """S2 = c^2 S1 (any S1): (S1 S2)^{1/2} = c S1, so the trace terms add up to (1 - c)^2 tr(S1)."""
    rng = np.random.default_rng(4)
    s1 = _random_spd(rng, 24, 200)
    shift = rng.standard_normal(24)
    expected = shift @ shift + (1 - 1.7) ** 2 * np.trace(s1)
    assert frechet_distance(np.zeros(24), s1, shift, 1.7**2 * s1) == pytest.approx(expected, rel=1e-9)


def test_shifted_gaussian_samples_approach_the_closed_form():
    rng = np.random.default_rng(5)
    d, n = 4, 40000
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d)) * 2.0 + 1.0  # N(1, 4 I): FID = d * 1 + d * (1 - 2)^2 = 2d
    assert fid(x, y, features="test")["fid"] == pytest.approx(2 * d, rel=0.02)


def test_result_names_its_features_and_sizes():
    x = np.random.default_rng(6).standard_normal((10, 3))
    out = fid(x, x[:7], features="digits small-cnn features")
    assert out["features"] == "digits small-cnn features" and (out["n_real"], out["n_generated"]) == (10, 7)


def test_shape_errors():
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
