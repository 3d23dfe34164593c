"""Inception Score: known cases and agreement with a direct numpy computation."""

import numpy as np
import pytest
import torch

from ganaug.metrics import inception_score


def test_confident_uniform_predictions_give_k():
    k = 7
    probs = np.eye(k)[np.tile(np.arange(k), 10)]  # one-hot, every class equally often in every split
    out = inception_score(probs, features="t", splits=10)
    assert out["is_mean"] == pytest.approx(k) and out["is_std"] == pytest.approx(0, abs=1e-12)


def test_identical_predictions_give_one():
    probs = np.tile([0.2, 0.5, 0.3], (50, 1))
    assert inception_score(probs, features="t", splits=5)["is_mean"] == pytest.approx(1.0)


def test_matches_direct_computation():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((90, 6)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = []
    for chunk in np.array_split(p, 3):  # 90 rows in 3 splits: the same boundaries as i * N // splits
        q = chunk.mean(0)
        expected.append(np.exp(np.mean(np.sum(chunk * (np.log(chunk) - np.log(q)), axis=1))))
    out = inception_score(torch.from_numpy(logits).softmax(1), features="t", splits=3)
    assert out["is_mean"] == pytest.approx(np.mean(expected), rel=1e-10)
    assert out["is_std"] == pytest.approx(np.std(expected), rel=1e-8)


def test_shuffle_only_changes_the_split_membership():
    probs = np.eye(4)[np.repeat(np.arange(4), 10)]  # sorted by class: each unshuffled split sees one class
    assert inception_score(probs, "t", splits=4)["is_mean"] == pytest.approx(1.0)
    assert inception_score(probs, "t", splits=4, shuffle_seed=2020)["is_mean"] > 2.5


def test_rejects_logits():
    with pytest.raises(ValueError, match="did you pass logits"):
        inception_score(np.random.default_rng(0).standard_normal((20, 3)), "t", splits=2)
