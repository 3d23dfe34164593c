"""Leak audit on the embedded digits: planted copies are flagged, planted duplicates found, noise is not."""

import numpy as np
import pytest
import torch

from ganaug.data.digits import load_digits
from ganaug.metrics import memorisation_audit, split_duplicates
from ganaug.metrics.neighbours import nearest_neighbours


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _noise(n, seed=0):
    return torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_planted_copies_are_flagged_and_shown_first(digits):
    train, test = digits.train.images, digits.test.images
    generated = _noise(50)
    generated[3] = train[17]  # an exact copy
    generated[9] = (train[40].int() + 1).clamp(max=255).to(torch.uint8)  # a copy one grey level off
    out = memorisation_audit(generated, train, test, percentile=1.0)
    assert set(out["flagged"]) == {3, 9}
    assert out["flagged_share"] == pytest.approx(2 / 50) and out["exact_copies"] == 1
    assert out["closest_pairs"][0] == {"generated": 3, "train": 17, "distance": 0.0}
    assert (out["closest_pairs"][1]["generated"], out["closest_pairs"][1]["train"]) == (9, 40)


def test_noise_is_not_flagged(digits):
    out = memorisation_audit(_noise(200, seed=1), digits.train.images, digits.test.images)
    assert out["flagged"] == [] and out["exact_copies"] == 0
    assert out["generated_median"] > 2 * out["test_median"]


def test_fresh_real_images_are_flagged_at_about_the_percentile_rate(digits):
    train, test = digits.train.images, digits.test.images
    out = memorisation_audit(test[::2], train, test[1::2], percentile=5.0)
    assert 0.0 < out["flagged_share"] < 0.15  # unseen images behave like the held-out reference


def test_feature_space_and_threshold_follow_the_test_distances():
    rng = np.random.default_rng(0)
    train, test = rng.standard_normal((300, 16)), rng.standard_normal((100, 16))
    out = memorisation_audit(torch.from_numpy(test[:10]), train, test, space="some features", percentile=50)
    nn = np.sqrt(((test[:, None] - train[None]) ** 2).sum(-1)).min(1) / 4  # rms over 16 dims
    assert out["threshold"] == pytest.approx(np.percentile(nn, 50), rel=1e-5)
    assert out["space"] == "some features"


def test_split_duplicates_finds_exact_and_near(digits):
    train, test = digits.train.images, digits.test.images.clone()
    test[5] = train[10]
    test[6] = (train[20].int() + 2).clamp(max=255).to(torch.uint8)
    out = split_duplicates(train, test, near_threshold=0.02)
    assert out["exact_pairs"] == [{"test": 5, "train": 10, "distance": 0.0}]
    assert [(p["test"], p["train"]) for p in out["near_pairs"]] == [(6, 20)]
    assert out["duplicated_test_share"] == pytest.approx(2 / len(test))
    assert out["closest_pairs"][0]["test"] == 5


def test_clean_splits_have_no_duplicates(digits):
    out = split_duplicates(digits.train.images, digits.test.images)
    assert out["exact_pairs"] == [] and out["near_pairs"] == [] and len(out["closest_pairs"]) == 16


def test_chunked_search_matches_brute_force():
    rng = np.random.default_rng(1)
    q, r = rng.standard_normal((70, 5)), rng.standard_normal((90, 5))
    dist, idx = nearest_neighbours(torch.from_numpy(q), torch.from_numpy(r), budget=100)
    full = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(idx.numpy(), full.argmin(1))
    np.testing.assert_allclose(dist.numpy(), full.min(1), rtol=1e-12)
