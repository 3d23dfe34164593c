"""Mode-collapse monitors: known answers, and divergences against hand-computed values."""

import math

import numpy as np
import pytest
import torch

from ganaug.metrics import intensity_divergence, mode_collapse


def test_matching_histograms():
    real = np.repeat(np.arange(4), 25)
    out = mode_collapse(torch.from_numpy(np.random.default_rng(0).permutation(real)), real, 4)
    assert out["modes_found"] == 4 and out["coverage"] == 1.0 and out["missing_classes"] == []
    assert out["kl_real_generated"] == pytest.approx(0) and out["js_divergence"] == pytest.approx(0, abs=1e-12)


def test_collapse_onto_one_class():
    real = np.repeat(np.arange(4), 25)
    out = mode_collapse([2] * 40, real, 4)
    assert out["modes_found"] == 1 and out["coverage"] == 0.25 and out["missing_classes"] == [0, 1, 3]
    assert out["generated_share"] == [0, 0, 1, 0]
    assert math.isinf(out["kl_real_generated"])  # the generator never draws classes the data has
    assert out["kl_generated_real"] == pytest.approx(math.log(4))  # KL(one-hot || uniform over 4)
    # JS in bits: half KL of each distribution to their mixture m
    m = np.array([1 / 8, 1 / 8, 5 / 8, 1 / 8])
    p, q = np.full(4, 0.25), np.array([0, 0, 1.0, 0])
    expected = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.log2(1 / m[2])
    assert out["js_divergence"] == pytest.approx(expected)


def test_half_the_classes():
    real = np.repeat(np.arange(4), 10)
    out = mode_collapse([0, 1] * 20, real, 4)
    # KL(gen || real) = 2 * 1/2 log(0.5 / 0.25) = log 2; JS as half KL of each to the mixture m
    assert out["kl_generated_real"] == pytest.approx(math.log(2))
    m = np.array([3 / 8, 3 / 8, 1 / 8, 1 / 8])
    p, q = np.full(4, 0.25), np.array([0.5, 0.5, 0, 0])
    expected = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q[:2] * np.log2(q[:2] / m[:2]))
    assert out["js_divergence"] == pytest.approx(expected)
    assert out["modes_found"] == 2 and out["coverage"] == 0.5


def test_min_share_threshold():
    real = np.repeat(np.arange(3), 10)
    generated = [0] * 95 + [1] * 4 + [2] * 1
    assert mode_collapse(generated, real, 3)["modes_found"] == 2  # default 0.1 / 3: class 2 has 1 %
    assert mode_collapse(generated, real, 3, min_share=0.005)["modes_found"] == 3


def test_class_absent_from_real_data_does_not_count_against_coverage():
    out = mode_collapse([0, 1, 2], [0, 0, 1, 1], 3)
    assert out["coverage"] == 1.0 and out["modes_found"] == 3


def test_label_range_is_checked():
    with pytest.raises(ValueError, match="labels must lie"):
        mode_collapse([0, 5], [0, 1], 3)


def test_intensity_divergence_of_pixel_histograms():
    """Same pixels in another order: 0; disjoint intensities: JS = 1 bit and KL infinite; a half overlap by hand."""
    real = torch.arange(256, dtype=torch.uint8).repeat(4).reshape(4, 1, 16, 16)
    shuffled = real.flatten()[torch.randperm(real.numel())].reshape(real.shape)
    same = intensity_divergence(real, shuffled, bins=16)
    assert same["js_divergence"] == pytest.approx(0.0, abs=1e-12) and same["kl_real_generated"] == pytest.approx(0.0)
    assert sum(same["real_share"]) == pytest.approx(1.0) and len(same["real_share"]) == 16
    dark, bright = torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    apart = intensity_divergence(dark, bright)
    assert apart["js_divergence"] == pytest.approx(1.0) and math.isinf(apart["kl_real_generated"])
    # generated: half its pixels in the real set's only bin, half in another: KL(real || gen) = log 2 nats;
    # JS: the mean of both sets' KL to their mixture M = (3/4, 1/4), in bits.
    half = torch.cat([dark, bright])
    d = intensity_divergence(dark, half)
    assert d["kl_real_generated"] == pytest.approx(math.log(2))
    m = np.array([0.75, 0.25])
    kl_p = np.log2(1 / 0.75)
    kl_q = 0.5 * np.log2(0.5 / m[0]) + 0.5 * np.log2(0.5 / m[1])
    assert d["js_divergence"] == pytest.approx((kl_p + kl_q) / 2)
    with pytest.raises(ValueError, match="uint8"):
        intensity_divergence(real.float(), real)
