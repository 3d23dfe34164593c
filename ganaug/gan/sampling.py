"""Sampling from a trained generator: by class, deterministic for a seed, with truncation where the model has it."""

from __future__ import annotations

import inspect
from pathlib import Path

import torch
from torch import nn

from ganaug.checkpoint import Checkpoint, CheckpointError
from ganaug.data.dataset import ImageDataset


@torch.no_grad()
def generate(
    generator: nn.Module,
    counts: list[int],
    z_dim: int,
    seed: int,
    device: torch.device,
    batch_size: int = 256,
    truncation_psi: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``counts[c]`` images of each class c as float [-1, 1] (N, C, H, W) with their labels; deterministic for a seed.

    ``truncation_psi`` < 1 trades diversity for fidelity on generators that support it (style-lite, biggan).
    """
    generator.eval()
    extra = {}
    if truncation_psi != 1.0:
        if "truncation_psi" not in inspect.signature(generator.forward).parameters:
            raise ValueError(f"{type(generator).__name__} has no truncation; use truncation_psi=1 (style-lite, biggan)")
        extra["truncation_psi"] = truncation_psi
    rng = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.full((n,), c, dtype=torch.int64) for c, n in enumerate(counts)])
    conditional = getattr(generator, "num_classes", 0) > 0
    out = []
    for start in range(0, len(labels), batch_size):
        y = labels[start : start + batch_size]
        z = torch.randn(len(y), z_dim, generator=rng)
        out.append(generator(z.to(device), y.to(device) if conditional else None, **extra).float().cpu())
    if not out:
        return torch.empty(0), labels
    return torch.cat(out), labels


def load_generator(path: Path, use_ema: bool = True) -> tuple[nn.Module, dict]:
    """The generator of a GAN checkpoint (its EMA copy when there is one and ``use_ema``), and the checkpoint's meta."""
    ckpt = Checkpoint(path)
    role = "generator_ema" if use_ema and "generator_ema" in ckpt.info["models"] else "generator"
    if "generator" not in ckpt.info["models"]:
        raise CheckpointError(f"{path}: not a GAN checkpoint (it holds {sorted(ckpt.info['models'])})")
    return ckpt.build(role).eval(), ckpt.meta


def generator_mismatches(
    G: nn.Module, meta: dict, z_dim: int, data: ImageDataset, device: torch.device, truncation_psi: float = 1.0
) -> tuple[list[str], dict]:
    """What does not match between a generator and a dataset (image size, channels, class count, class names, each
    as "what: generator X, dataset Y"), and what the generator makes (one probe sample)."""
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    probe_counts = [1] + [0] * (num_classes - 1) if num_classes else [1]
    probe, _ = generate(G, probe_counts, z_dim, 0, device, truncation_psi=truncation_psi)
    _, channels, height, width = probe.shape
    names = meta.get("class_names")
    problems = []
    if (height, width) != (data.image_size, data.image_size):
        problems.append(f"image size: generator {height}x{width}, dataset {data.image_size}x{data.image_size}")
    if channels != data.channels:
        problems.append(f"channels: generator {channels}, dataset {data.channels}")
    if num_classes and num_classes != data.num_classes:
        problems.append(f"classes: generator {num_classes}, dataset {data.num_classes}")
    if names is not None and list(names) != list(data.class_names):
        problems.append(f"class names: checkpoint {list(names)}, dataset {list(data.class_names)}")
    return problems, {"conditional": num_classes > 0, "num_classes": num_classes, "image_size": height,
                      "channels": channels, "z_dim": z_dim}
