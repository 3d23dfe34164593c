"""Any ImageFolder tree: ``{train,test}/<class>/*.png|jpg|jpeg`` and an optional ``val/`` beside them.

Class names are the class folder names, sorted, so label c is the c-th name; every split must have
the same class folders. Images within a class are read in natural file-name order ("2" before "10").

Channels: ``channels=1`` converts to gray (PIL "L"), ``channels=3`` to RGB. By default the tree
stays gray when every image is gray, and becomes RGB (gray images replicated) as soon as one image
is in colour, so a mixed tree never loses colour.

Size: with ``image_size`` every image is centre-cropped to a square (keeping its aspect ratio) and
resized to ``image_size`` x ``image_size`` (bicubic, antialiased). Without it, all images must
already be square and of one size; otherwise the error names two files that differ.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ganaug.data.dataset import DatasetSplits, ImageDataset
from ganaug.data.errors import DataError
from ganaug.data.registry import DATASETS

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
SPLITS = ("train", "test", "val")  # val is optional
GRAY_MODES = {"1", "L", "LA", "I", "F"}


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _visible_dirs(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if e.is_dir() and not e.name.startswith("."))


def scan_split(split_dir: Path, allow_empty: bool = False) -> dict[str, list[Path]]:
    """``{class name: image files}`` of one split folder; an empty class folder is an error (or, with
    ``allow_empty``, a class with no images: a generated set may hold none of some classes)."""
    classes = {}
    for class_dir in _visible_dirs(split_dir):
        with os.scandir(class_dir) as entries:  # scandir knows file types without a stat per file
            files = [
                Path(e.path) for e in entries
                if e.name.lower().endswith(IMAGE_EXTENSIONS) and not e.name.startswith(".") and e.is_file()
            ]
        if not files and not allow_empty:
            raise DataError(f"{class_dir}: empty class folder (no {'/'.join(IMAGE_EXTENSIONS)} files)")
        classes[class_dir.name] = sorted(files, key=_natural_key)
    return classes


def _decode(path: Path) -> Image.Image:
    """The decoded image; reading the bytes first and decoding from memory is faster than from the path."""
    try:
        data = path.read_bytes()
        if not data:
            raise DataError(f"{path}: empty file (0 bytes), not an image")
        image = Image.open(io.BytesIO(data))
        image.load()
    except UnidentifiedImageError:  # its message shows the in-memory buffer, not the file
        raise DataError(f"{path}: corrupt or unreadable image (not a format Pillow recognises)") from None
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as err:
        raise DataError(f"{path}: corrupt or unreadable image ({err})") from err
    if image.mode.startswith("I;16"):  # 16-bit gray: keep the 8 most significant bits
        image = Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
    elif image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in GRAY_MODES else "RGB")
    return image


def _fit(image: Image.Image, image_size: int | None) -> Image.Image:
    if image_size is None or image.size == (image_size, image_size):
        return image
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    box = (left, top, left + side, top + side)
    return image.resize((image_size, image_size), Image.Resampling.BICUBIC, box=box)


def _read_all(files: list[Path], image_size: int | None) -> list[np.ndarray]:
    # Serial on purpose: a thread pool measured no faster (PIL's per-image Python overhead holds the GIL).
    return [np.asarray(_fit(_decode(p), image_size)) for p in files]


def _check_shapes(arrays: list[np.ndarray], files: list[Path]) -> None:
    """All images one square size, or a DataError naming two files that differ."""
    first = arrays[0].shape[:2]
    for path, a in zip(files, arrays):
        if a.shape[:2] != first:
            raise DataError(
                f"images differ in size: {files[0]} is {first[1]}x{first[0]}, {path} is {a.shape[1]}x{a.shape[0]} "
                "(width x height); choose an image size to resize them"
            )
    if first[0] != first[1]:
        raise DataError(f"images are {first[1]}x{first[0]} (width x height), not square, e.g. {files[0]}; choose an image size")


def _to_tensor(arrays: list[np.ndarray], channels: int) -> torch.Tensor:
    h, w = arrays[0].shape[:2]
    out = np.empty((len(arrays), channels, h, w), dtype=np.uint8)
    for i, a in enumerate(arrays):
        if a.ndim == 3 and channels == 1:
            a = np.asarray(Image.fromarray(a).convert("L"))
        out[i] = a.transpose(2, 0, 1) if a.ndim == 3 else a[None]  # a gray image broadcasts to 3 channels
    return torch.from_numpy(out)


def read_tree(root: Path, image_size: int | None = None, channels: int | None = None) -> DatasetSplits:
    """Read an ImageFolder tree (see the module docstring for layout, size and channel rules)."""
    root = Path(root)
    if channels not in (None, 1, 3):
        raise DataError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
    if image_size is not None and image_size < 1:
        raise DataError(f"image_size must be positive, got {image_size}")
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected {{train,test}}/<class>/*.png|jpg)")
    missing = [s for s in ("train", "test") if not (root / s).is_dir()]
    if missing:
        raise DataError(f"{root}: missing {' and '.join(f'{s}/' for s in missing)} folder(s); expected {{train,test}}/<class>/*.png|jpg")

    trees = {s: scan_split(root / s) for s in SPLITS if (root / s).is_dir()}
    class_names = sorted(trees["train"])
    if len(class_names) < 2:
        raise DataError(f"{root / 'train'}: {len(class_names)} class folder(s) {class_names}, need at least 2")
    for split, tree in trees.items():
        if sorted(tree) != class_names:
            lacking, extra = sorted(set(class_names) - set(tree)), sorted(set(tree) - set(class_names))
            raise DataError(
                f"{root / split}: class folders differ from train/: missing {lacking or 'none'}, extra {extra or 'none'}"
            )

    files = {s: [p for c in class_names for p in tree[c]] for s, tree in trees.items()}
    labels = {s: np.repeat(np.arange(len(class_names)), [len(tree[c]) for c in class_names]) for s, tree in trees.items()}
    arrays = {s: _read_all(f, image_size) for s, f in files.items()}
    if channels is None:
        channels = 3 if any(a.ndim == 3 for split in arrays.values() for a in split) else 1

    # Checked across all splits at once, so that train and test always share one size.
    _check_shapes([a for s in trees for a in arrays[s]], [p for s in trees for p in files[s]])
    parts = {
        s: ImageDataset(_to_tensor(arrays[s], channels), torch.from_numpy(labels[s].astype(np.int64)), list(class_names))
        for s in trees
    }
    return DatasetSplits(train=parts["train"], test=parts["test"], val=parts.get("val"), name=root.name)


@DATASETS.register("folder")
def load_folder(root: Path, image_size: int | None = None, channels: int | None = None, download: bool = False) -> DatasetSplits:
    """An ImageFolder tree at ``root``; ``download`` is accepted for a uniform loader call and ignored."""
    return read_tree(root, image_size=image_size, channels=channels)


def read_images(folder: Path, image_size: int, channels: int) -> torch.Tensor:
    """Every image directly in ``folder`` as uint8 (N, channels, image_size, image_size), centre-cropped and resized:
    a domain of images without classes (``ganaug translate --from folder:PATH``)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")),
                   key=_natural_key)
    if not files:
        raise DataError(f"{folder}: no {'/'.join(IMAGE_EXTENSIONS)} files in it")
    return _to_tensor(_read_all(files, image_size), channels)
