"""Shape helpers every GAN architecture shares: the size plan of its convolutions, its layer widths, its
argument checks, where its attention blocks go. A model imports these from here, not from another model."""

from __future__ import annotations

import math
from collections.abc import Sequence


def conv_plan(image_size: int) -> tuple[int, int, int]:
    """(base, n_up, work_size): the net runs at ``work_size = base * 2**n_up`` >= image_size, base in 3..7.

    Sizes such as 8, 28, 32, 64, 96 factor exactly (4x2, 7x4, 4x8, 4x16, 3x32); any other size runs at
    the next size that factors and is resized at the edge.
    """
    if not 8 <= image_size <= 128:
        raise ValueError(f"image_size must lie in [8, 128], got {image_size}")
    for size in range(image_size, 2 * image_size):
        for n_up in range(5, 0, -1):
            base, rest = divmod(size, 2**n_up)
            if rest == 0 and 3 <= base <= 7:
                return base, n_up, size
    raise AssertionError("unreachable: every size in [8, 128] has a factorable neighbour")


def layer_widths(widest: int, n: int, narrowest: int = 16) -> list[int]:
    """``n`` channel counts starting at ``widest`` and halving per layer, never below ``narrowest``."""
    return [max(widest // 2**i, min(widest, narrowest)) for i in range(n)]


def check_gan_args(image_size: int, channels: int, num_classes: int, width: int, **positive: int) -> None:
    """ValueError for arguments no architecture can use (sizes are checked by ``conv_plan``)."""
    conv_plan(image_size)
    if channels < 1:
        raise ValueError(f"channels must be >= 1 (1 = gray, 3 = RGB), got {channels}")
    if num_classes < 0:
        raise ValueError(f"num_classes must be >= 0 (0 = unconditional), got {num_classes}")
    for name, value in {"width": width, **positive}.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def place_attention(requested: Sequence[int], available: list[int]) -> list[int]:
    """Each requested resolution moved to the nearest available one (log scale, ties up), deduplicated."""
    if isinstance(requested, (int, str)) or any(not isinstance(r, int) or r < 1 for r in requested):
        raise ValueError("attention_resolutions must be a list of positive ints (feature-map sizes in px), "
                         f"got {requested!r}")
    return sorted({min(available, key=lambda a: (abs(math.log2(a / r)), -a)) for r in requested})
