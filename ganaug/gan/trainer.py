"""The GAN training loop: one discriminator step, then one generator step, per mini-batch.

Deterministic for a seed on CPU: weights are initialised after ``torch.manual_seed(seed)`` and all
noise and shuffling come from one ``torch.Generator`` whose state is saved in every checkpoint, so
an interrupted run resumed from its last checkpoint ends where an uninterrupted one would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganaug.checkpoint import Checkpoint, save_checkpoint
from ganaug.config import ConfigError, GANConfig
from ganaug.data.dataset import ImageDataset, to_float
from ganaug.gan.losses import GAN_LOSSES
from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.runtime import EpochProgress, batches, class_balanced_batches, num_epochs


class GANDivergedError(RuntimeError):
    """Training produced NaN/inf losses or a discriminator that no longer learns; the last good checkpoint is kept."""


@dataclass
class GANResult:
    generator: nn.Module
    discriminator: nn.Module
    specs: dict[str, dict[str, Any]]  # how to rebuild each model: registry, name, kwargs
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch


def build_gan(cfg: GANConfig, image_size: int, channels: int, num_classes: int) -> tuple[nn.Module, nn.Module, dict]:
    """Generator and discriminator of ``cfg.architecture`` for this data, and their rebuild specs."""
    classes = num_classes if cfg.conditional else 0
    g_kwargs = dict(image_size=image_size, channels=channels, num_classes=classes, z_dim=cfg.z_dim, width=cfg.g_width,
                    **cfg.generator_kwargs)
    d_kwargs = dict(image_size=image_size, channels=channels, num_classes=classes, width=cfg.d_width,
                    **cfg.discriminator_kwargs)
    models = []
    for role, registry, kwargs in (("generator", GENERATORS, g_kwargs), ("discriminator", DISCRIMINATORS, d_kwargs)):
        try:
            models.append(registry.create(cfg.architecture, **kwargs))
        except (TypeError, ValueError, KeyError) as err:
            raise ConfigError(f"gan.architecture={cfg.architecture!r}: cannot build the {role} with {kwargs}: {err}") from err
    specs = {
        "generator": {"registry": "generator", "name": cfg.architecture, "kwargs": g_kwargs},
        "discriminator": {"registry": "discriminator", "name": cfg.architecture, "kwargs": d_kwargs},
    }
    return models[0], models[1], specs


def train_gan(
    cfg: GANConfig,
    data: ImageDataset,
    seed: int,
    device: torch.device,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
) -> GANResult:
    """Train on ``data`` (the training split only); resume from ``checkpoint_dir/last`` if it exists."""
    torch.manual_seed(seed)
    G, D, specs = build_gan(cfg, data.image_size, data.channels, data.num_classes)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    loss = GAN_LOSSES.create(cfg.loss)
    rng = torch.Generator().manual_seed(seed)
    epochs = num_epochs(cfg.epochs, cfg.steps, len(data), cfg.batch_size)
    history: list[dict[str, float]] = []
    start_epoch = 0

    last = checkpoint_dir / "last" if checkpoint_dir else None
    if last is not None and last.with_suffix(".json").exists():
        ckpt = Checkpoint(last)
        ckpt.load_into("generator", G), ckpt.load_into("discriminator", D)
        ckpt.load_optimizer("generator", opt_g), ckpt.load_optimizer("discriminator", opt_d)
        rng.set_state(ckpt.extra("rng_state"))
        torch.set_rng_state(ckpt.extra("torch_rng_state"))
        history, start_epoch = ckpt.meta["history"], ckpt.meta["epoch"]

    images, labels = to_float(data.images), data.labels
    with EpochProgress("GAN", epochs, start_epoch, enabled=progress) as bar:
        for epoch in range(start_epoch, epochs):
            G.train(), D.train()
            sums = {"loss_d": 0.0, "loss_g": 0.0, "d_real": 0.0, "d_fake": 0.0}
            steps = 0
            for idx in real_batches(cfg, labels, rng):
                real, y = images[idx].to(device), labels[idx].to(device)
                y = y if cfg.conditional else None
                z = torch.randn(len(idx), cfg.z_dim, generator=rng).to(device)

                # Discriminator step: real -> 1, fake -> 0 (fake labels follow the real batch's class mix).
                fake = G(z, y)
                real_logits, fake_logits = D(real, y)["adv"], D(fake.detach(), y)["adv"]
                loss_d = loss.discriminator(real_logits, fake_logits)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()

                # Generator step: fool the updated discriminator.
                loss_g = loss.generator(D(fake, y)["adv"])
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()

                sums["loss_d"] += loss_d.item()
                sums["loss_g"] += loss_g.item()
                sums["d_real"] += torch.sigmoid(real_logits).mean().item()
                sums["d_fake"] += torch.sigmoid(fake_logits).mean().item()
                steps += 1

            row = {k: v / max(steps, 1) for k, v in sums.items()}
            check_divergence(row, epoch, last)
            row["images_per_s"] = bar.epoch_done(steps * cfg.batch_size, loss_d=row["loss_d"], loss_g=row["loss_g"])
            row["epoch"] = epoch + 1
            history.append(row)
            if last is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or epoch + 1 == epochs):
                save_checkpoint(
                    last,
                    {"generator": (G, specs["generator"]), "discriminator": (D, specs["discriminator"])},
                    {"generator": opt_g, "discriminator": opt_d},
                    {"rng_state": rng.get_state(), "torch_rng_state": torch.get_rng_state()},
                    {"epoch": epoch + 1, "history": history, "seed": seed, "config": cfg.model_dump(mode="json")},
                )
    return GANResult(G.eval(), D.eval(), specs, history)


def real_batches(cfg: GANConfig, labels: torch.Tensor, rng: torch.Generator):
    """Index batches of real images for one epoch, drawn as ``cfg.sampling`` says."""
    if cfg.sampling == "class-balanced":
        return class_balanced_batches(labels, cfg.batch_size, rng)
    return batches(len(labels), cfg.batch_size, rng, drop_last=True)


def check_divergence(row: dict[str, float], epoch: int, last: Path | None) -> None:
    """Stop on NaN/inf losses, or a discriminator that calls every real image fake-proof (collapsed)."""
    kept = f"; the last good checkpoint is {last}" if last is not None and last.with_suffix(".json").exists() else ""
    if not all(math.isfinite(v) for v in row.values()):
        raise GANDivergedError(f"epoch {epoch + 1}: non-finite GAN loss {row}{kept}. Lower the learning rates.")
    if row["d_real"] > 0.999 and row["d_fake"] < 0.001:
        raise GANDivergedError(
            f"epoch {epoch + 1}: the discriminator separates real and fake perfectly (D(real)={row['d_real']:.4f}, "
            f"D(fake)={row['d_fake']:.4f}); the generator gets no gradient{kept}."
        )


@torch.no_grad()
def generate(
    generator: nn.Module, counts: list[int], z_dim: int, seed: int, device: torch.device, batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """``counts[c]`` images of each class c as float [-1, 1] (N, C, H, W) with their labels; deterministic for a seed."""
    generator.eval()
    rng = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.full((n,), c, dtype=torch.int64) for c, n in enumerate(counts)])
    conditional = getattr(generator, "num_classes", 0) > 0
    out = []
    for start in range(0, len(labels), batch_size):
        y = labels[start : start + batch_size]
        z = torch.randn(len(y), z_dim, generator=rng)
        out.append(generator(z.to(device), y.to(device) if conditional else None).cpu())
    if not out:
        return torch.empty(0), labels
    return torch.cat(out), labels
