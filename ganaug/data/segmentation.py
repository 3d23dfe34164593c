"""Segmentation data: images with integer masks, read from ``segfolder:PATH``, with folds and aligned transforms.

Layout: ``PATH/images/*.png|jpg`` and ``PATH/masks/*.png`` with matching file stems (``0.png`` and ``0.png``), and
optionally ``PATH/test/images`` and ``PATH/test/masks``. A mask holds one value per class: either the class indices
0..K-1, or, for two classes, 0 and 255. Class names come from ``PATH/classes.txt`` (one per line, in index order)
when it exists, else they are the mask values ("0", "255"). Images are read gray or RGB as they are (or converted by
``channels``); ``image_size`` resizes images (bilinear) and masks (nearest) together.

Tiny sets need honest splits: :func:`kfold` cuts the images into k contiguous folds in file order, since neighbouring
images of a stack (e.g. ISBI 2012's consecutive EM slices) are near-copies of each other and random folds would put
them on both sides. :func:`random_crop_flip` draws the same crop, flips and 90-degree turns for an image and its mask;
:func:`deform` adds an elastic deformation (U-Net's augmentation), applied to one-hot masks and taken back by
argmax, so that a mask stays a mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from kornia.geometry.transform import elastic_transform2d
from PIL import Image

from ganaug.data.errors import DataError
from ganaug.data.folder import IMAGE_EXTENSIONS, _decode, _natural_key


@dataclass
class SegmentationDataset:
    """``images``: uint8 (N, C, H, W); ``masks``: int64 (N, H, W) class indices; ``names``: the files' stems."""

    images: torch.Tensor
    masks: torch.Tensor
    class_names: list[str]
    names: list[str]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, idx: torch.Tensor | list[int]) -> "SegmentationDataset":
        idx = torch.as_tensor(idx, dtype=torch.int64)
        return SegmentationDataset(self.images[idx], self.masks[idx], self.class_names, [self.names[i] for i in idx])


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (a segmentation folder has images/ and masks/)")
    return {p.stem: p for p in sorted(folder.iterdir(), key=_natural_key)
            if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")}


def _read_split(root: Path, image_size: int | None, channels: int | None) -> tuple[list, list, list[str]]:
    images, masks = _files(root / "images"), _files(root / "masks")
    if not images:
        raise DataError(f"{root / 'images'}: no {'/'.join(IMAGE_EXTENSIONS)} files in it")
    missing = [s for s in images if s not in masks]
    if missing:
        raise DataError(f"{root / 'images' / images[missing[0]].name}: no mask {missing[0]}.png in {root / 'masks'} "
                        f"({len(missing)} image(s) without a mask)")
    out_images, out_masks = [], []
    for stem, path in images.items():
        image, mask = _decode(path), Image.open(masks[stem])
        if mask.mode not in ("L", "P", "I", "1"):
            mask = mask.convert("L")
        if image.size != mask.size:
            raise DataError(f"{masks[stem]}: mask is {mask.size[0]}x{mask.size[1]}, its image {path} is "
                            f"{image.size[0]}x{image.size[1]} (width x height); expected the same size")
        if channels is not None:
            image = image.convert("L" if channels == 1 else "RGB")
        if image_size is not None:
            image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
            mask = mask.resize((image_size, image_size), Image.Resampling.NEAREST)
        out_images.append(np.asarray(image)), out_masks.append(np.asarray(mask).astype(np.int64))
    return out_images, out_masks, list(images)


def _class_values(values: set[int], source: Path, k: int | None) -> dict[int, int]:
    """Mask value -> class index: the indices 0..K-1 as they are, or 0 and 255 as classes 0 and 1. ``k``: the number
    of classes ``classes.txt`` names (None: the values must be 0 and 255, or every index from 0 to their largest)."""
    if k in (None, 2) and values <= {0, 255} and 255 in values:
        return {0: 0, 255: 1}
    if k is None:
        k = max(values) + 1
        skipped = sorted(set(range(k)) - values)
        if skipped:
            raise DataError(f"{source}: mask values {sorted(values)} skip class {skipped[0]}; expected every index "
                            f"0..{k - 1}, or a classes.txt naming the classes")
    above = sorted(v for v in values if v >= k)
    if above:
        raise DataError(f"{source}: mask value {above[0]} is not a class; expected class indices 0..{k - 1}, or 0 and "
                        "255 for two classes")
    if k < 2:
        raise DataError(f"{source}: every mask is 0; expected at least two classes")
    return {v: v for v in range(k)}


def load_segfolder(root: Path, image_size: int | None = None, channels: int | None = None
                   ) -> tuple[SegmentationDataset, SegmentationDataset | None]:
    """(train, test or None) from a segmentation folder; masks mapped to class indices."""
    root = Path(root).expanduser()
    splits = [_read_split(root, image_size, channels)]
    if (root / "test").is_dir():
        splits.append(_read_split(root / "test", image_size, channels))
    values = {int(v) for _, masks, _ in splits for m in masks for v in np.unique(m)}
    names_file = root / "classes.txt"
    named = [n.strip() for n in names_file.read_text().splitlines() if n.strip()] if names_file.exists() else None
    if named is not None and len(named) < 2:
        raise DataError(f"{names_file}: {len(named)} class name(s); expected one per line, at least 2")
    mapping = _class_values(values, root / "masks", None if named is None else len(named))
    class_names = named or [str(v) for v in sorted(mapping)]
    out = []
    for images, masks, stems in splits:
        shapes = {a.shape for a in images}
        if len(shapes) > 1:
            raise DataError(f"{root}: images differ in size ({sorted(shapes)[:2]}); give an image size to resize them")
        lut = np.zeros(256, dtype=np.int64)
        for value, index in mapping.items():
            lut[value] = index
        x = np.stack(images)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        out.append(SegmentationDataset(torch.from_numpy(np.ascontiguousarray(x)),
                                       torch.from_numpy(lut[np.stack(masks)]), class_names, stems))
    return out[0], out[1] if len(out) > 1 else None


def kfold(n: int, k: int, fold: int) -> tuple[list[int], list[int]]:
    """(train, test) positions of fold ``fold`` of ``k`` contiguous folds over ``n`` items in order."""
    if not 2 <= k <= n:
        raise DataError(f"folds: {k} folds need at least {k} images and k >= 2, got {n} images")
    bounds = np.linspace(0, n, k + 1).round().astype(int)
    test = list(range(bounds[fold], bounds[fold + 1]))
    return [i for i in range(n) if i not in set(test)], test


def random_crop_flip(images: torch.Tensor, masks: torch.Tensor, size: int, generator: torch.Generator
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """A random ``size`` x ``size`` crop, horizontal flip and 90-degree turn per pair, the same for image and mask:
    (N, C, H, W), (N, H, W) -> (N, C, size, size), (N, size, size)."""
    n, _, h, w = images.shape
    if size > min(h, w):
        raise DataError(f"crop size {size} is larger than the images ({h}x{w})")
    out_x, out_m = [], []
    for i in range(n):
        top = int(torch.randint(h - size + 1, (), generator=generator))
        left = int(torch.randint(w - size + 1, (), generator=generator))
        flip, turns = bool(torch.randint(2, (), generator=generator)), int(torch.randint(4, (), generator=generator))
        x, m = images[i, :, top : top + size, left : left + size], masks[i, top : top + size, left : left + size]
        if flip:
            x, m = x.flip(-1), m.flip(-1)
        out_x.append(x.rot90(turns, (-2, -1))), out_m.append(m.rot90(turns, (-2, -1)))
    return torch.stack(out_x), torch.stack(out_m)


def one_hot(masks: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(N, H, W) class indices -> (N, K, H, W) floats in {-1, 1} (the generator's input range)."""
    return F.one_hot(masks, num_classes).permute(0, 3, 1, 2).float() * 2 - 1


def deform(masks: torch.Tensor, alpha: float, sigma: float, generator: torch.Generator,
           images: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Elastic deformation (displacements of up to about ``alpha`` px, smoothed by a Gaussian of ``sigma`` px), a
    random horizontal flip and 90-degree turn per pair, the same for a mask and its image (float images)."""
    n, h, w = masks.shape
    k = int(masks.max()) + 1
    noise = torch.rand(n, 2, h, w, generator=generator) * 2 - 1
    size = 2 * int(3 * sigma) + 1
    scale = (alpha * 2 / w, alpha * 2 / h)  # kornia's displacements are in [-1, 1] grid units
    soft = elastic_transform2d(one_hot(masks, k), noise, (size, size), (sigma, sigma), scale, mode="bilinear",
                               padding_mode="border")
    out_masks = soft.argmax(1)
    out_images = None if images is None else elastic_transform2d(images, noise, (size, size), (sigma, sigma), scale,
                                                                 padding_mode="border")
    flips = torch.randint(2, (n,), generator=generator).bool()
    turns = torch.randint(4, (n,), generator=generator)
    for i in range(n):
        for t in ([out_masks] if out_images is None else [out_masks, out_images]):
            v = t[i].flip(-1) if flips[i] else t[i]
            t[i] = v.rot90(int(turns[i]), (-2, -1))
    return out_masks, out_images
