"""``ganaug generate``: images from a trained GAN, per class, as PNG folders or one .npz; deterministic for a seed."""

from __future__ import annotations

from pathlib import Path

import torch

from ganaug.data import ImageDataset, to_uint8
from ganaug.data.export import write_image_folder, write_npz
from ganaug.errors import ConfigError
from ganaug.experiments.common import check_out_folder
from ganaug.gan.sampling import generate as sample, load_generator


def class_counts(names: list[str], per_class: int | None, class_: str | None, n: int | None) -> list[int]:
    """Images per class from ``--per-class N`` or ``--class K --n N``; a class is an index or a name."""
    if (per_class is None) == (class_ is None and n is None):
        raise ConfigError("give either --per-class N, or --class K with --n N (or --n N alone for an unconditional GAN)")
    for flag, value in (("--per-class", per_class), ("--n", n)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} {value}: expected a number of images >= 1")
    if per_class is not None:
        return [per_class] * len(names)
    if n is None:
        raise ConfigError("--class needs --n, the number of images")
    if class_ is None:
        if len(names) > 1:
            raise ConfigError(f"this GAN is class-conditional ({len(names)} classes): give --class or --per-class")
        return [n]
    index = names.index(class_) if class_ in names else int(class_) if class_.isdigit() else -1
    if not 0 <= index < len(names):
        raise ConfigError(f"--class {class_!r}: expected an index in 0..{len(names) - 1} or one of {names}")
    return [n if c == index else 0 for c in range(len(names))]


def generate_images(checkpoint: Path, out: Path, per_class: int | None = None, class_: str | None = None,
                    n: int | None = None, seed: int = 0, truncation: float = 1.0, use_ema: bool = True) -> int:
    """Sample the checkpoint's generator on the CPU and write the images to ``out`` (a folder in ImageFolder layout,
    or a file ending in .npz); returns how many were written. User mistakes are ConfigErrors naming the flag."""
    check_out_folder(out.parent if out.suffix == ".npz" else out, "--out")
    try:
        G, meta = load_generator(checkpoint, use_ema=use_ema)
    except (FileNotFoundError, ValueError) as err:
        raise ConfigError(str(err)) from None
    names = (meta.get("class_names") or [str(c) for c in range(G.num_classes)]) if G.num_classes else ["generated"]
    counts = class_counts(names, per_class, class_, n)
    try:
        x, y = sample(G, counts, meta["config"]["z_dim"], seed, torch.device("cpu"), truncation_psi=truncation)
    except ValueError as err:
        raise ConfigError(f"--truncation {truncation}: {err}") from None
    ds = ImageDataset(to_uint8(x), y, names)
    if out.suffix == ".npz":
        write_npz(ds, out)
    else:
        write_image_folder(ds, out)
    return len(ds)
