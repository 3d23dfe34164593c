"""Deterministic, seeded subsets of a training split: validation, labeled subsets, class imbalance.

Every function takes the *training* split only; the test split is never touched or resampled.
All of them draw per class from ``numpy.random.default_rng(seed)``, so the same seed gives the same
images, and they return subsets whose ``indices`` point back to the source split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ganaug.data.dataset import ImageDataset


def _per_class_permutations(ds: ImageDataset, seed: int) -> list[np.ndarray]:
    """For each class, the positions of its images in ``ds`` in a seeded random order."""
    rng = np.random.default_rng(seed)
    labels = ds.labels.numpy()
    return [rng.permutation(np.flatnonzero(labels == c)) for c in range(ds.num_classes)]


def take_per_class(ds: ImageDataset, counts: Sequence[int], seed: int) -> tuple[ImageDataset, ImageDataset]:
    """Keep ``counts[c]`` random images of each class c; return (kept, rest)."""
    if len(counts) != ds.num_classes:
        raise ValueError(f"counts has {len(counts)} entries, expected one per class ({ds.num_classes})")
    available = ds.class_counts()
    kept, rest = [], []
    for c, (perm, n) in enumerate(zip(_per_class_permutations(ds, seed), counts)):
        if not 0 <= n <= available[c]:
            raise ValueError(f"class {c} ({ds.class_names[c]!r}): asked for {n} images, it has {available[c]}")
        kept.append(perm[:n])
        rest.append(perm[n:])
    return ds.subset(np.sort(np.concatenate(kept))), ds.subset(np.sort(np.concatenate(rest)))


def validation_split(ds: ImageDataset, fraction: float, seed: int) -> tuple[ImageDataset, ImageDataset]:
    """Stratified (train, val): ``fraction`` of each class, rounded, at least one per class, goes to val."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must lie in (0, 1), got {fraction}")
    counts = [max(1, round(n * fraction)) if n > 1 else 0 for n in ds.class_counts()]
    val, train = take_per_class(ds, counts, seed)
    return train, val


def labeled_subset(
    ds: ImageDataset, seed: int, fraction: float | None = None, per_class: int | None = None
) -> tuple[ImageDataset, ImageDataset]:
    """(labeled, unlabeled) for semi-supervised work: ``fraction`` of each class, or ``per_class`` images of each."""
    if (fraction is None) == (per_class is None):
        raise ValueError("give exactly one of fraction or per_class")
    if fraction is not None:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"labeled fraction must lie in (0, 1], got {fraction}")
        counts = [max(1, round(n * fraction)) for n in ds.class_counts()]
    else:
        counts = [per_class] * ds.num_classes
    return take_per_class(ds, counts, seed)


def reduce_classes(ds: ImageDataset, classes: Sequence[int], fraction: float, seed: int) -> ImageDataset:
    """Keep ``fraction`` of the images of ``classes`` (at least one each) and all others, as Gao does with {0, 1, 2}."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"imbalance fraction must lie in (0, 1], got {fraction}")
    bad = [c for c in classes if not 0 <= c < ds.num_classes]
    if bad:
        raise ValueError(f"classes {bad} out of range for {ds.num_classes} classes")
    counts = [max(1, round(n * fraction)) if c in classes else n for c, n in enumerate(ds.class_counts())]
    return take_per_class(ds, counts, seed)[0]


def long_tail_counts(n_max: int, num_classes: int, rho: float) -> list[int]:
    """CIFAR-10-LT counts: class c keeps ``n_max * rho ** (-c / (C - 1))``, so the first/last ratio is ``rho``."""
    if rho < 1.0:
        raise ValueError(f"imbalance ratio rho must be >= 1, got {rho}")
    return [max(1, math.floor(n_max * rho ** (-c / (num_classes - 1)))) for c in range(num_classes)]


def long_tail(ds: ImageDataset, rho: float, seed: int) -> ImageDataset:
    """Exponential long-tailed profile with imbalance ratio ``rho`` (class 0 the head, the last class the tail)."""
    counts = long_tail_counts(min(ds.class_counts()), ds.num_classes, rho)
    return take_per_class(ds, counts, seed)[0]


def explicit_counts(ds: ImageDataset, counts: Sequence[int], seed: int) -> ImageDataset:
    """Exactly ``counts[c]`` images of class c."""
    return take_per_class(ds, counts, seed)[0]
