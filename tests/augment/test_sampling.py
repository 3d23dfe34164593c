"""Gao's Exp3: the weighted sampler really shifts the sampled classes, and its weights move toward the classes the
model gets wrong on validation; class re-weighting of the loss as the baseline."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.class_weight import compute_class_weight

from ganaug.augment.sampling import (
    DifficultyWeightedSampler,
    class_balanced_weights,
    inverse_frequency_weights,
    validation_errors,
)

LABELS = torch.tensor([0] * 900 + [1] * 90 + [2] * 10)


def drawn_shares(sampler, batches=40, batch_size=500, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([b for _ in range(batches) for b in sampler.batches(batch_size, g)])
    return torch.bincount(sampler.labels[idx], minlength=3).double() / len(idx)


def test_class_balanced_at_the_start():
    sampler = DifficultyWeightedSampler(LABELS, 3)
    assert torch.allclose(sampler.class_shares(), torch.full((3,), 1 / 3, dtype=torch.float64))
    uniform = torch.bincount(LABELS).double() / len(LABELS)  # what a plain shuffled pass gives: 0.9 / 0.09 / 0.01
    shares = drawn_shares(sampler)
    assert torch.allclose(shares, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.02)
    assert shares[2] > 20 * uniform[2]


def test_weights_move_toward_the_classes_wrong_on_validation():
    sampler = DifficultyWeightedSampler(LABELS, 3, boost=2.0)
    val_labels = torch.tensor([0, 0, 1, 1, 2, 2])
    sampler.update(val_labels, torch.tensor([0, 0, 1, 0, 0, 0]))  # errors: class 0: 0, class 1: 1/2, class 2: 1
    assert sampler.history == [[0.0, 0.5, 1.0]]
    expected = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) / 6  # balanced x (1 + 2 x error)
    assert torch.allclose(sampler.class_shares(), expected)
    assert torch.allclose(drawn_shares(sampler), expected, atol=0.02)
    sampler.update(val_labels, val_labels)  # all right now: back to class balance
    assert torch.allclose(sampler.class_shares(), torch.full((3,), 1 / 3, dtype=torch.float64))


def test_seeded_and_an_epoch_is_one_pass_of_draws():
    sampler = DifficultyWeightedSampler(LABELS, 3)
    a = list(sampler.batches(64, torch.Generator().manual_seed(5)))
    b = list(sampler.batches(64, torch.Generator().manual_seed(5)))
    assert len(a) == len(LABELS) // 64 and all(torch.equal(x, y) for x, y in zip(a, b))


def test_validation_errors_and_balanced_weights():
    errors = validation_errors(torch.tensor([0, 0, 1, 3]), torch.tensor([0, 1, 1, 0]), 4)
    assert errors.tolist() == [0.5, 0.0, 0.0, 1.0]  # class 2 has no validation image: 0
    w = class_balanced_weights(torch.tensor([0, 0, 0, 1]), 2)
    assert w.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0])


def test_class_weighted_loss_matches_scikit_learn_balanced_weights():
    w = inverse_frequency_weights(LABELS, 3)
    ref = compute_class_weight("balanced", classes=np.arange(3), y=LABELS.numpy())
    assert w.tolist() == pytest.approx(ref.tolist())
    logits = torch.randn(len(LABELS), 3, generator=torch.Generator().manual_seed(0))
    by_hand = (w[LABELS] * F.cross_entropy(logits, LABELS, reduction="none")).sum() / w[LABELS].sum()
    assert F.cross_entropy(logits, LABELS, weight=w).item() == pytest.approx(by_hand.item())
    assert inverse_frequency_weights(torch.tensor([0, 0, 2]), 3).tolist() == pytest.approx([0.75, 0.0, 1.5])
