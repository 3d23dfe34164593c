"""scikit-learn's embedded ``load_digits`` (8x8 gray, 1,797 images): the default that needs no files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.registry import DATASETS

TEST_FRACTION = 0.2  # the dataset has no official test split; this fixed, stratified one stands in for it
TEST_SPLIT_SEED = 0  # fixed on purpose: the test split never changes with the experiment's seed


@DATASETS.register("digits")
def load_digits(root: Path | None = None, download: bool = False) -> DatasetSplits:
    """Digits 0-9 as 8x8 uint8 images (pixel values 0..16 scaled to 0..255), with a fixed stratified test split."""
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = bunch.target.astype(np.int64)
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)), test_size=TEST_FRACTION, stratify=labels, random_state=TEST_SPLIT_SEED
    )
    idx_train.sort()
    idx_test.sort()
    names = [str(d) for d in range(10)]

    def part(idx: np.ndarray) -> ImageDataset:
        return ImageDataset(torch.from_numpy(images[idx]), torch.from_numpy(labels[idx]), names, torch.from_numpy(idx))

    return DatasetSplits(train=part(idx_train), test=part(idx_test), name="digits")
