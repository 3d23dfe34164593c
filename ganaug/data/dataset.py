"""The in-memory image dataset every loader returns, and the one place pixels become floats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class ImageDataset:
    """Images as uint8 (N, C, H, W), labels as int64 (N,), and the class names.

    ``indices`` are the positions of these images in the split they came from, so that a
    subset can always be traced back to its source images (the leak audit needs that).
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    indices: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (len(self.images),):
            raise ValueError(f"labels must be int64 ({len(self.images)},), got {self.labels.dtype} {tuple(self.labels.shape)}")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.class_names)):
            raise ValueError(
                f"labels must lie in [0, {len(self.class_names) - 1}] for {len(self.class_names)} classes, "
                f"got [{int(self.labels.min())}, {int(self.labels.max())}]"
            )
        if self.indices is None:
            self.indices = torch.arange(len(self.images))

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    def subset(self, idx: torch.Tensor | np.ndarray) -> "ImageDataset":
        idx = torch.as_tensor(idx, dtype=torch.int64)
        return ImageDataset(self.images[idx], self.labels[idx], list(self.class_names), self.indices[idx])

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()


def concat(a: ImageDataset, b: ImageDataset) -> ImageDataset:
    """Join two datasets with the same classes; ``indices`` of ``b`` are kept as -1 (not from the source split)."""
    if a.class_names != b.class_names or a.images.shape[1:] != b.images.shape[1:]:
        raise ValueError("datasets to join must share class names and image shape")
    return ImageDataset(
        torch.cat([a.images, b.images]),
        torch.cat([a.labels, b.labels]),
        list(a.class_names),
        torch.cat([a.indices, torch.full((len(b),), -1, dtype=torch.int64)]),
    )


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]. The only place pixels are normalised."""
    return images.float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] (e.g. generator output) -> uint8 [0, 255], the inverse of :func:`to_float`."""
    return images.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


@dataclass
class DatasetSplits:
    """What a loader returns: the official train and test splits (and val / unlabeled where the format has them)."""

    train: ImageDataset
    test: ImageDataset
    val: ImageDataset | None = None
    unlabeled: torch.Tensor | None = None  # uint8 (N, C, H, W), e.g. STL-10's unlabeled split
    name: str = ""
