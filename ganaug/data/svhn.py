"""SVHN cropped digits from the official ``{train,test}_32x32.mat`` files.

Each file is a MATLAB (v5) file with ``X``, uint8 (32, 32, 3, N), and ``y``, (N, 1) labels 1..10,
where 10 stands for the digit 0. Labels here are the digits themselves, so class c is digit c.

``extra_32x32.mat`` (531,131 more, easier images) is read only when it is present, and then into
``DatasetSplits.unlabeled``: the standard benchmark trains on ``train`` alone, so the extra images
must not silently enlarge the labeled training split, but they make a natural unlabeled pool for
semi-supervised work. It needs about 1.6 GB of memory and is never downloaded automatically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import torch

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.download import ensure_files
from ganaug.data.errors import DataError
from ganaug.data.registry import DATASETS

CLASSES = [str(d) for d in range(10)]
EXTRA = "extra_32x32.mat"


def read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,) in 0..9) of one SVHN .mat file, validated."""
    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, variable_names=("X", "y"))
    # A damaged file makes scipy's parser raise almost anything (MatReadError, ValueError, zlib.error, struct.error,
    # OverflowError, ... found by tests/data/test_fuzz_readers.py), and MATLAB v7.3 (HDF5) NotImplementedError.
    except Exception as err:
        raise DataError(f"{path}: not a readable SVHN .mat file ({type(err).__name__}: {err})") from err
    if "X" not in mat or "y" not in mat:
        raise DataError(f"{path}: missing variable 'X' or 'y'")
    x, y = mat["X"], mat["y"]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise DataError(f"{path}: 'X' must be uint8 (32, 32, 3, N), found {x.dtype} {x.shape}")
    y = y.reshape(-1)
    if len(y) != x.shape[3]:
        raise DataError(f"{path}: {x.shape[3]} images but {len(y)} labels")
    bad = np.flatnonzero((y < 1) | (y > 10))
    if len(bad):
        raise DataError(f"{path}: label(s) out of range 1..10, first at index {bad[0]} (value {y[bad[0]]})")
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1))  # (H, W, C, N) -> (N, C, H, W)
    return images, (y.astype(np.int64) % 10)  # 10 means the digit 0


@DATASETS.register("svhn")
def load_svhn(root: Path, download: bool = True) -> DatasetSplits:
    """SVHN: 73,257 train + 26,032 test 32x32 RGB digits; ``extra_32x32.mat`` as unlabeled if present."""
    root = Path(root)
    ensure_files("svhn", root, download)

    def split(name: str) -> ImageDataset:
        images, labels = read_mat(root / f"{name}_32x32.mat")
        return ImageDataset(torch.from_numpy(images), torch.from_numpy(labels), list(CLASSES))

    unlabeled = torch.from_numpy(read_mat(root / EXTRA)[0]) if (root / EXTRA).is_file() else None
    return DatasetSplits(train=split("train"), test=split("test"), unlabeled=unlabeled, name="svhn")
