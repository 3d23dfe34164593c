"""CIFAR-10 from the official python batches, or from an ImageFolder tree of its PNGs.

The batches (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``, ``batches.meta``) are
pickles. They are read with an unpickler that only resolves the few numpy globals an array needs,
so a tampered file cannot run code. Each batch is a dict with ``data``, uint8 (N, 3072) holding
the red, green, blue 32x32 planes row by row, and ``labels``, a list of N ints in 0..9.

If the dataset folder instead holds ``train/<class>/*.png`` and ``test/<class>/*.png`` (the layout
of ``shared/datasets/cifar10``), that tree is read and the batches are not needed.
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.download import ensure_files
from ganaug.data.errors import DataError
from ganaug.data.folder import read_tree
from ganaug.data.registry import DATASETS

BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _allowed_globals() -> dict[tuple[str, str], Any]:
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray

    return {
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how Python 3 pickles bytes at protocol 2
    }


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals needed to rebuild numpy arrays (both numpy 1 and 2 spellings); anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _allowed_globals()
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return allowed[(module, name)]


def read_pickle(path: Path) -> dict:
    """A CIFAR python batch as a dict with str keys, without unpickling arbitrary objects."""
    try:
        with open(path, "rb") as f:
            obj = _RestrictedUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise DataError(f"{path}: not a readable CIFAR python batch ({type(err).__name__}: {err})") from err
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a dict, found {type(obj).__name__}")
    return {_text(k): v for k, v in obj.items()}


def _text(value: Any) -> Any:
    """Python 2 strings arrive as str; bytes appear only if a batch was re-pickled from Python 3 bytes."""
    return value.decode("latin1") if isinstance(value, bytes) else value


def read_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) of one batch, validated."""
    batch = read_pickle(path)
    if "data" not in batch or "labels" not in batch:
        raise DataError(f"{path}: missing 'data' or 'labels' (keys: {sorted(map(str, batch))})")
    data, labels = batch["data"], np.asarray(batch["labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        shape = getattr(data, "shape", None)
        raise DataError(f"{path}: 'data' must be uint8 (N, 3072), found {getattr(data, 'dtype', type(data).__name__)} {shape}")
    if labels.ndim != 1 or len(labels) != len(data):
        raise DataError(f"{path}: {len(data)} images but {labels.size} labels")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: labels must be integers, found {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if len(bad):
        raise DataError(f"{path}: label(s) out of range 0..{num_classes - 1}, first at index {bad[0]} (value {labels[bad[0]]})")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _class_names(folder: Path) -> list[str]:
    meta = read_pickle(folder / "batches.meta")
    names = meta.get("label_names")
    names = [_text(n) for n in names] if isinstance(names, list) else names
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise DataError(f"{folder / 'batches.meta'}: 'label_names' must be a list of class names, found {names!r}")
    return names


def load_batches(root: Path) -> DatasetSplits:
    """CIFAR-10 from ``root/cifar-10-batches-py``."""
    folder = Path(root) / BATCH_DIR
    names = _class_names(folder)

    def split(files: tuple[str, ...]) -> ImageDataset:
        parts = [read_batch(folder / f, len(names)) for f in files]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        return ImageDataset(torch.from_numpy(images), torch.from_numpy(labels), list(names))

    return DatasetSplits(train=split(TRAIN_BATCHES), test=split((TEST_BATCH,)), name="cifar10")


def _is_tree(root: Path) -> bool:
    return (root / "train").is_dir() and (root / "test").is_dir()


@DATASETS.register("cifar10")
def load_cifar10(root: Path, download: bool = True) -> DatasetSplits:
    """CIFAR-10, 32x32 RGB, 10 classes: the ImageFolder tree if ``root`` has one, else the python batches."""
    root = Path(root)
    if _is_tree(root):
        splits = read_tree(root)
        if splits.train.image_size != 32 or splits.train.channels != 3:
            raise DataError(f"{root}: CIFAR-10 images must be 32x32 RGB, found {splits.train.image_size} px, {splits.train.channels} channel(s)")
        splits.name = "cifar10"
        return splits
    ensure_files("cifar10", root, download)
    return load_batches(root)
