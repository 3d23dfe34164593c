"""STL-10 from the official binary files in ``stl10_binary/``.

``*_X.bin`` hold uint8 images of 3x96x96 one after another, each channel stored column-major
(the first 96 bytes are the first column); ``*_y.bin`` hold one uint8 label per image, 1..10;
``class_names.txt`` has one class name per line. ``unlabeled_X.bin`` (100,000 images, 2.7 GB) is
optional; it is memory-mapped, not read, and becomes ``DatasetSplits.unlabeled``: a lazy
(non-contiguous) uint8 view of shape (N, 3, 96, 96) whose pages load only when indexed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.download import ensure_files
from ganaug.data.errors import DataError
from ganaug.data.registry import DATASETS

FOLDER = "stl10_binary"
SIZE = 96
IMAGE_BYTES = 3 * SIZE * SIZE


def map_images(path: Path) -> np.ndarray:
    """A (N, 3, 96, 96) view of an ``*_X.bin`` file, memory-mapped copy-on-write (the file is never modified)."""
    path = Path(path)
    n_bytes = path.stat().st_size
    if n_bytes % IMAGE_BYTES:
        raise DataError(
            f"{path}: {n_bytes} bytes is not a whole number of {IMAGE_BYTES}-byte 3x{SIZE}x{SIZE} images; the file is truncated or not an STL-10 image file"
        )
    if n_bytes == 0:
        return np.zeros((0, 3, SIZE, SIZE), dtype=np.uint8)
    flat = np.memmap(path, dtype=np.uint8, mode="c", shape=(n_bytes // IMAGE_BYTES, 3, SIZE, SIZE))
    return flat.transpose(0, 1, 3, 2)  # stored (channel, column, row) -> (channel, row, column)


def read_labels(path: Path, num_classes: int, count: int) -> np.ndarray:
    """Labels 1..num_classes from a ``*_y.bin`` file, as 0-based int64."""
    labels = np.fromfile(path, dtype=np.uint8)
    if len(labels) != count:
        raise DataError(f"{path}: {len(labels)} labels for {count} images")
    bad = np.flatnonzero((labels < 1) | (labels > num_classes))
    if len(bad):
        raise DataError(f"{path}: label(s) out of range 1..{num_classes}, first at index {bad[0]} (value {labels[bad[0]]})")
    return labels.astype(np.int64) - 1


def read_class_names(path: Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a text file of class names ({err})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) < 2:
        raise DataError(f"{path}: {len(names)} class name(s), need at least 2 (one per line)")
    return names


@DATASETS.register("stl10")
def load_stl10(root: Path, download: bool = True) -> DatasetSplits:
    """STL-10: 5,000 train + 8,000 test 96x96 RGB images of 10 classes, plus the unlabeled split if present."""
    root = Path(root)
    ensure_files("stl10", root, download)
    folder = root / FOLDER
    names = read_class_names(folder / "class_names.txt")

    def split(name: str) -> ImageDataset:
        images = map_images(folder / f"{name}_X.bin")
        labels = read_labels(folder / f"{name}_y.bin", len(names), len(images))
        return ImageDataset(torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels), list(names))

    unlabeled_path = folder / "unlabeled_X.bin"
    unlabeled = torch.from_numpy(map_images(unlabeled_path)) if unlabeled_path.is_file() else None
    return DatasetSplits(train=split("train"), test=split("test"), unlabeled=unlabeled, name="stl10")
