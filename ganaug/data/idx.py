"""MNIST and Fashion-MNIST from the official IDX files (gzip-compressed or not).

An IDX file is a big-endian header (magic number, then one uint32 per dimension) followed by the
raw uint8 values: magic 2051 for images (N, 28, 28), 2049 for labels (N,).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.download import ensure_files
from ganaug.data.errors import DataError
from ganaug.data.registry import DATASETS

IMAGES_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # where Debian's dataset-fashion-mnist installs it

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(root: Path, name: str) -> Path | None:
    """``name.gz`` or the uncompressed ``name`` in ``root``."""
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The array stored in an IDX file, checking its magic number and that its size matches its header."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: cannot read ({err}); the file is corrupt or truncated") from err
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise DataError(f"{path}: wrong magic number {found}, expected {magic} for IDX {kind}; not an IDX {kind} file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated header ({len(data)} bytes, expected {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(f"{path}: {problem}: header says {dims} -> {expected} bytes, file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_split(root: Path, split: str, class_names: list[str]) -> ImageDataset:
    """One split (``train`` or ``test``) as an :class:`ImageDataset`, with counts and labels validated."""
    image_name, label_name = FILES[split]
    image_path, label_path = _find(root, image_name), _find(root, label_name)
    if image_path is None or label_path is None:
        raise DataError(f"{root}: missing {image_name}[.gz] or {label_name}[.gz]")
    images = read_idx(image_path, IMAGES_MAGIC)
    labels = read_idx(label_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels")
    bad = np.flatnonzero(labels >= len(class_names))
    if len(bad):
        raise DataError(
            f"{label_path}: {len(bad)} label(s) out of range 0..{len(class_names) - 1}, "
            f"first at index {bad[0]} (value {labels[bad[0]]})"
        )
    return ImageDataset(
        torch.from_numpy(images[:, None].copy()),
        torch.from_numpy(labels.astype(np.int64)),
        list(class_names),
    )


def _load(root: Path, name: str, class_names: list[str]) -> DatasetSplits:
    return DatasetSplits(
        train=read_split(root, "train", class_names),
        test=read_split(root, "test", class_names),
        name=name,
    )


def _has_files(root: Path) -> bool:
    return all(_find(root, n) is not None for pair in FILES.values() for n in pair)


@DATASETS.register("mnist")
def load_mnist(root: Path, download: bool = True) -> DatasetSplits:
    """MNIST: 60,000 train + 10,000 test 28x28 gray digits, classes "0".."9"."""
    root = Path(root)
    if not _has_files(root):
        ensure_files("mnist", root, download)
    return _load(root, "mnist", MNIST_CLASSES)


@DATASETS.register("fashion-mnist")
def load_fashion_mnist(root: Path, download: bool = True) -> DatasetSplits:
    """Fashion-MNIST: as MNIST, ten clothing classes. Falls back to Debian's copy before downloading."""
    root = Path(root)
    if not _has_files(root):
        if _has_files(FASHION_SYSTEM_DIR):
            root = FASHION_SYSTEM_DIR
        else:
            ensure_files("fashion-mnist", root, download)
    return _load(root, "fashion-mnist", FASHION_CLASSES)
