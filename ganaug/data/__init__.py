"""Datasets as uint8 tensors (N, C, H, W) + int64 labels + class names, loaded by name.

``load_dataset("digits")`` needs no files. Other names read ``<data_dir>/<name>/`` where
``data_dir`` is the argument, else ``$GANAUG_DATA_DIR``, else ``./data``; ``folder:PATH`` reads an
ImageFolder tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

from ganaug.data import digits  # noqa: F401  (registers the loader)
from ganaug.data.dataset import DatasetSplits, ImageDataset, concat, to_float, to_uint8
from ganaug.data.errors import DataError
from ganaug.data.registry import DATASETS

__all__ = [
    "DATASETS",
    "DataError",
    "DatasetSplits",
    "ImageDataset",
    "concat",
    "load_dataset",
    "resolve_data_dir",
    "to_float",
    "to_uint8",
]


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """The argument, else ``$GANAUG_DATA_DIR``, else ``./data``."""
    return Path(data_dir or os.environ.get("GANAUG_DATA_DIR") or "data").expanduser()


def dataset_root(base: Path, name: str) -> Path:
    """``base/name``; or ``base`` itself when it is already the dataset's folder (``--data-dir .../cifar10``), so
    that pointing at the dataset rather than its parent never starts a download into ``.../cifar10/cifar10``."""
    return base if base.name == name and not (base / name).exists() else base / name


def _register_file_loaders() -> None:
    # Imported lazily so that a missing optional module never breaks the embedded default.
    import importlib

    for module in ("idx", "cifar", "svhn", "stl10", "folder"):
        try:
            importlib.import_module(f"ganaug.data.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"ganaug.data.{module}":
                raise


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    download: bool = True,
    image_size: int | None = None,
    channels: int | None = None,
) -> DatasetSplits:
    """Load a dataset by name; optionally resize (square) and convert to 1 or 3 channels."""
    _register_file_loaders()
    if name.startswith("folder:"):
        path = Path(name.split(":", 1)[1]).expanduser()
        splits = DATASETS.create("folder", root=path, image_size=image_size, channels=channels)
    else:
        if name not in DATASETS:
            raise DataError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS.names())}, or folder:PATH")
        root = dataset_root(resolve_data_dir(data_dir), name) if name != "digits" else None
        splits = DATASETS.create(name, root=root, download=download)
    if image_size is not None or channels is not None:
        splits = DatasetSplits(
            train=reshape(splits.train, image_size, channels),
            test=reshape(splits.test, image_size, channels),
            val=reshape(splits.val, image_size, channels) if splits.val is not None else None,
            unlabeled=_reshape_images(splits.unlabeled, image_size, channels) if splits.unlabeled is not None else None,
            name=splits.name,
        )
    return splits


RESHAPE_CHUNK = 4096  # images converted at a time, so a large (e.g. memory-mapped) split never becomes one huge float tensor


def _reshape_images(images: torch.Tensor, image_size: int | None, channels: int | None) -> torch.Tensor:
    if (channels in (None, images.shape[1])) and (image_size in (None, images.shape[-1])):
        return images  # nothing to do; keeps a memory-mapped split lazy
    if len(images) > RESHAPE_CHUNK:
        return torch.cat([_reshape_images(images[i : i + RESHAPE_CHUNK], image_size, channels) for i in range(0, len(images), RESHAPE_CHUNK)])
    if channels is not None and channels != images.shape[1]:
        if channels == 1 and images.shape[1] == 3:  # ITU-R 601 luma, as PIL's "L"
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            images = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        elif channels == 3 and images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1).contiguous()
        else:
            raise DataError(f"cannot convert {images.shape[1]}-channel images to {channels} channels (expected 1 or 3)")
    if image_size is not None and image_size != images.shape[-1]:
        resized = F.interpolate(images.float(), size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False)
        images = resized.round().clamp(0, 255).to(torch.uint8)
    return images


def reshape(ds: ImageDataset, image_size: int | None, channels: int | None) -> ImageDataset:
    """The same images at another square size and/or channel count."""
    return ImageDataset(_reshape_images(ds.images, image_size, channels), ds.labels, list(ds.class_names), ds.indices)
