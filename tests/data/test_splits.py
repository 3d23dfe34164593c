"""Seeded splits and imbalance profiles: exact counts, determinism, disjointness, traceable indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaug.data import ImageDataset, load_dataset
from ganaug.data.splits import (
    explicit_counts,
    labeled_subset,
    long_tail,
    long_tail_counts,
    reduce_classes,
    take_per_class,
    validation_split,
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _toy(counts: list[int]) -> ImageDataset:
    labels = torch.tensor([c for c, n in enumerate(counts) for _ in range(n)])
    images = torch.arange(len(labels), dtype=torch.int64).remainder(256).to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    return ImageDataset(images.contiguous(), labels, [f"c{c}" for c in range(len(counts))])


def test_digits_split_is_fixed_and_stratified(digits):
    assert len(digits.train) + len(digits.test) == 1797
    again = load_dataset("digits")
    assert torch.equal(digits.test.indices, again.test.indices)  # the test split never changes
    assert not set(digits.train.indices.tolist()) & set(digits.test.indices.tolist())
    ratio = np.array(digits.test.class_counts()) / np.array(digits.train.class_counts())
    assert np.all(np.abs(ratio - 0.25) < 0.03)  # 20% test of each class


def test_validation_split_is_deterministic_disjoint_and_complete(digits):
    train, val = validation_split(digits.train, 0.1, seed=3)
    train2, val2 = validation_split(digits.train, 0.1, seed=3)
    _, val_other = validation_split(digits.train, 0.1, seed=4)
    assert torch.equal(val.indices, val2.indices) and torch.equal(train.indices, train2.indices)
    assert not torch.equal(val.indices, val_other.indices)
    assert sorted(train.indices.tolist() + val.indices.tolist()) == digits.train.indices.tolist()
    assert val.class_counts() == [round(n * 0.1) for n in digits.train.class_counts()]


def test_subset_indices_trace_back_to_the_source():
    ds = _toy([5, 5, 5])
    kept, rest = take_per_class(ds, [2, 0, 5], seed=0)
    assert kept.class_counts() == [2, 0, 5] and rest.class_counts() == [3, 5, 0]
    for part in (kept, rest):
        assert torch.equal(part.images, ds.images[part.indices])
        assert torch.equal(part.labels, ds.labels[part.indices])


def test_labeled_subset_by_fraction_and_by_count(digits):
    labeled, unlabeled = labeled_subset(digits.train, seed=0, per_class=10)
    assert labeled.class_counts() == [10] * 10
    assert len(labeled) + len(unlabeled) == len(digits.train)
    labeled, _ = labeled_subset(digits.train, seed=0, fraction=0.5)
    assert labeled.class_counts() == [max(1, round(n * 0.5)) for n in digits.train.class_counts()]
    with pytest.raises(ValueError, match="exactly one"):
        labeled_subset(digits.train, seed=0)
    with pytest.raises(ValueError, match="asked for 1000"):
        labeled_subset(digits.train, seed=0, per_class=1000)


def test_reduce_classes_keeps_the_others(digits):
    reduced = reduce_classes(digits.train, [0, 1, 2], 0.1, seed=0)
    full = digits.train.class_counts()
    assert reduced.class_counts() == [max(1, round(full[c] * 0.1)) if c < 3 else full[c] for c in range(10)]
    assert torch.equal(reduced.indices, reduce_classes(digits.train, [0, 1, 2], 0.1, seed=0).indices)
    with pytest.raises(ValueError, match="out of range"):
        reduce_classes(digits.train, [10], 0.5, seed=0)


def test_long_tail_counts_follow_the_cifar_lt_convention():
    counts = long_tail_counts(5000, 10, 100.0)
    assert counts[0] == 5000 and counts[-1] == 50
    assert all(a > b for a, b in zip(counts, counts[1:]))
    assert counts[5] == int(5000 * 100 ** (-5 / 9))
    ds = _toy([100] * 4)
    assert long_tail(ds, 10.0, seed=0).class_counts() == long_tail_counts(100, 4, 10.0) == [100, 46, 21, 10]
    with pytest.raises(ValueError, match="rho"):
        long_tail_counts(100, 4, 0.5)


def test_explicit_counts():
    ds = _toy([6, 6, 6])
    assert explicit_counts(ds, [1, 6, 3], seed=1).class_counts() == [1, 6, 3]
    with pytest.raises(ValueError, match="one per class"):
        explicit_counts(ds, [1, 2], seed=1)
