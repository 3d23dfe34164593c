"""Classic augmentation on tensors (kornia): Gao's Exp2 as a batch transform, and the DCGAN study's
"strengthened" image set.

Both work on float images in [-1, 1] (the trainer's range), converting to kornia's [0, 1] and back.
Randomness comes from torch's global generator, which the classifier trainer seeds and checkpoints.
"""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import nn

from ganaug.config import ClassicAugConfig
from ganaug.data.dataset import ImageDataset, to_float, to_uint8


class ClassicAugment(nn.Module):
    """Random horizontal flip, crop after padding, rotation and colour jitter, each drawn per image of a batch.

    ``geometric=False`` keeps rotation and colour only (the DCGAN study's "random rotation and color enhancement").
    """

    def __init__(self, cfg: ClassicAugConfig, image_size: int, channels: int, geometric: bool = True) -> None:
        super().__init__()
        ops: list[nn.Module] = []
        padding = round(cfg.crop_padding * image_size)
        if geometric and cfg.flip > 0:
            ops.append(K.RandomHorizontalFlip(p=cfg.flip))
        if geometric and padding > 0:
            ops.append(K.RandomCrop((image_size, image_size), padding=padding))
        if cfg.rotation > 0:
            ops.append(K.RandomRotation(cfg.rotation, p=1.0))
        rgb = channels == 3
        jitter = (cfg.brightness, cfg.contrast, cfg.saturation if rgb else 0.0, cfg.hue if rgb else 0.0)
        if any(jitter):
            ops.append(K.ColorJitter(*jitter, p=1.0))
        self.ops = nn.Sequential(*ops)
        self.description = ", ".join(type(op).__name__ for op in ops) or "nothing"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not len(self.ops):
            return x
        return self.ops((x + 1) / 2).clamp(0, 1) * 2 - 1


def strengthened(
    real: ImageDataset, counts: list[int], cfg: ClassicAugConfig, seed: int, chunk: int = 512
) -> ImageDataset:
    """The DCGAN study's "strengthened" images: for each class c, ``counts[c]`` randomly rotated and
    colour-enhanced copies of real images of c (each real image used in turn, in a seeded order, before any is used again).

    The result has the same classes as ``real`` and ``indices`` of -1 (not images of the source split).
    """
    if len(counts) != real.num_classes:
        raise ValueError(f"counts has {len(counts)} entries, expected one per class ({real.num_classes})")
    rng = torch.Generator().manual_seed(seed)
    picks = []
    for c, n in enumerate(counts):
        members = torch.nonzero(real.labels == c).flatten()
        if n and not len(members):
            raise ValueError(f"class {c} ({real.class_names[c]!r}) has no real image to strengthen")
        rounds = -(-n // max(len(members), 1))
        order = torch.cat([members[torch.randperm(len(members), generator=rng)] for _ in range(rounds)]) if n else members
        picks.append(order[:n])
    idx = torch.cat(picks) if picks else torch.empty(0, dtype=torch.int64)
    augment = ClassicAugment(cfg, real.image_size, real.channels, geometric=False)
    out = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for start in range(0, len(idx), chunk):
            out.append(to_uint8(augment(to_float(real.images[idx[start : start + chunk]]))))
    images = torch.cat(out) if out else real.images[:0]
    return ImageDataset(images, real.labels[idx], list(real.class_names), torch.full((len(idx),), -1, dtype=torch.int64))
