"""Writing image sets: an ImageFolder tree of PNGs, or one .npz (images uint8 NCHW, labels, class names)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ganaug.checkpoint import atomic_write
from ganaug.data.dataset import ImageDataset


def folder_name(class_name: str) -> str:
    """A class name usable as a folder name (Fashion-MNIST has "T-shirt/top")."""
    return class_name.replace("/", "-")


def write_image_folder(ds: ImageDataset, root: Path) -> None:
    """PNG files in ImageFolder layout, ``root/<class name>/<n>.png``, readable back with ``folder:``."""
    folders = [root / folder_name(name) for name in ds.class_names]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    counters = [0] * ds.num_classes
    for img, label in zip(ds.images, ds.labels.tolist()):
        arr = img.permute(1, 2, 0).numpy()
        Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(folders[label] / f"{counters[label]:05d}.png")
        counters[label] += 1


def write_npz(ds: ImageDataset, path: Path) -> None:
    """One compressed .npz with ``images`` (uint8 N, C, H, W), ``labels`` (int64) and ``class_names``."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, images=ds.images.numpy(), labels=ds.labels.numpy(), class_names=np.array(ds.class_names))

    atomic_write(path, write)
