"""Images a user brings for a dataset: the output of any generator (a diffusion model, StudioGAN, ``ganaug
generate``), as a folder ``<class>/*.png|jpg`` or one ``.npz`` (``images`` uint8, ``labels``, optional
``class_names``), the layouts :mod:`ganaug.data.export` writes.

The set is checked against the dataset it will join before anything trains: its classes must be classes of the
dataset (a subset is fine), its images of the dataset's size and channel count. Each mismatch is a
ConfigError that names the set, ``key`` (the option that gave it) and what differs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from ganaug.data.dataset import ImageDataset
from ganaug.data.errors import DataError
from ganaug.data.export import folder_name
from ganaug.data.folder import _read_all, _to_tensor, scan_split
from ganaug.errors import ConfigError


def read_image_set(path: str | Path, like: ImageDataset, key: str = "--synthetic") -> ImageDataset:
    """The images at ``path`` with labels indexing ``like``'s classes; checked against ``like`` (see above)."""
    path = Path(path).expanduser()
    if path.suffix == ".npz":
        images, labels, names = _read_npz(path, key)
    elif path.is_dir():
        images, labels, names = _read_folder(path, like.channels, key)
    else:
        raise ConfigError(f"{key} {path}: expected a folder of class folders (<class>/*.png) or an .npz file")
    wanted: dict[str | int, int] = {folder_name(n): c for c, n in enumerate(like.class_names)}  # "T-shirt-top"
    wanted.update({n: c for c, n in enumerate(like.class_names)})
    wanted.update({c: c for c in range(like.num_classes)})  # an .npz without class names: labels are indices
    unknown = [n for n in names if n not in wanted]
    if unknown:
        raise ConfigError(f"{key} {path}: class {unknown[0]!r} is not a class of the dataset; its classes are "
                          f"{like.class_names}" + (" (labels index them)" if isinstance(unknown[0], int) else ""))
    if len(images) == 0:
        raise ConfigError(f"{key} {path}: holds no images")
    if tuple(images.shape[1:]) != (like.channels, like.image_size, like.image_size):
        raise ConfigError(f"{key} {path}: images are {images.shape[1]} x {images.shape[2]} x {images.shape[3]} "
                          f"(channels x height x width), the dataset's are {like.channels} x {like.image_size} x "
                          f"{like.image_size}; resize one of them (--set data.image_size=N / data.channels=C)")
    mapping = torch.tensor([wanted[n] for n in names], dtype=torch.int64)
    return ImageDataset(images, mapping[labels], list(like.class_names), torch.full((len(labels),), -1))


def _read_folder(path: Path, channels: int, key: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    try:
        tree = {name: files for name, files in scan_split(path, allow_empty=True).items() if files}
    except DataError as err:
        raise ConfigError(f"{key} {path}: {err}") from None
    if not tree:
        raise ConfigError(f"{key} {path}: no images in class folders (expected <class>/*.png|jpg, as `ganaug "
                          "generate` writes)")
    names = sorted(tree)
    files = [f for n in names for f in tree[n]]
    arrays = _read_all(files, None)
    sizes = {a.shape[:2] for a in arrays}
    if len(sizes) > 1:
        raise ConfigError(f"{key} {path}: images of different sizes {sorted(sizes)[:2]}; give one size")
    labels = torch.from_numpy(np.repeat(np.arange(len(names)), [len(tree[n]) for n in names]).astype(np.int64))
    return _to_tensor(arrays, channels), labels, names


def _read_npz(path: Path, key: str) -> tuple[torch.Tensor, torch.Tensor, list[str | int]]:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ConfigError(f"{key} {path}: not a readable .npz ({type(err).__name__}: {err})") from None
    missing = [k for k in ("images", "labels") if k not in arrays]
    if missing:
        raise ConfigError(f"{key} {path}: no {' and '.join(repr(k) for k in missing)} array (it holds "
                          f"{sorted(arrays)}); expected images (N, C, H, W) uint8 and labels (N,)")
    images, labels = arrays["images"], arrays["labels"]
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ConfigError(f"{key} {path}: images are {images.dtype} {images.shape}, expected uint8 (N, C, H, W)")
    if images.shape[1] not in (1, 3) and images.shape[3] in (1, 3):
        images = images.transpose(0, 3, 1, 2)  # (N, H, W, C), as most tools write
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"{key} {path}: labels are {labels.dtype} {labels.shape}, expected {len(images)} integers")
    if len(labels) and labels.min() < 0:
        raise ConfigError(f"{key} {path}: negative label {labels.min()}")
    names: list[str | int] = ([str(n) for n in arrays["class_names"]] if "class_names" in arrays
                              else list(range(int(labels.max()) + 1 if len(labels) else 0)))  # indices
    if len(labels) and labels.max() >= len(names):
        raise ConfigError(f"{key} {path}: label {labels.max()} but only {len(names)} class names")
    used = sorted(set(labels.tolist()))
    remap = {old: new for new, old in enumerate(used)}
    kept = [names[c] for c in used]
    new_labels = torch.tensor([remap[v] for v in labels.tolist()], dtype=torch.int64)
    return torch.from_numpy(np.ascontiguousarray(images)), new_labels, kept
