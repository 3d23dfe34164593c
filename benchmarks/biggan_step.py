"""Seconds per GAN training step (one D + one G update, bf16 autocast as in the trainer) of biggan against cdcgan.

32x32x3, 10 classes, batch 64, bf16 autocast, channels_last, side by side in one run; also the parameter counts of
G and D at biggan's CPU width (g_width 128, d_width 64) and at the paper width of PyTorch-StudioGAN's CIFAR-10 BigGAN
(g_width 384, d_width 192). Run with one thread: ``GANAUG_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python
benchmarks/biggan_step.py``; the last line is ``ratio: X.X`` (biggan over cdcgan, seconds per step).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ganaug.config import GANConfig
from ganaug.gan.losses import GAN_LOSSES
from ganaug.gan.trainer import build_gan
from ganaug.runtime import adam, autocast, update

SIZE, CHANNELS, CLASSES, BATCH, REPEATS = 32, 3, 10, 64, 5
CPU = torch.device("cpu")


def params(module: nn.Module) -> str:
    return f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f}M"


def step_seconds(**gan: object) -> float:
    """Mean seconds of one D step and one G step (on the D step's fakes, as the trainer) on random images."""
    torch.manual_seed(0)
    cfg = GANConfig(batch_size=BATCH, precision="bf16", **gan)
    G, D, _ = build_gan(cfg, SIZE, CHANNELS, CLASSES)
    G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    opt_g = adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    loss = GAN_LOSSES.create(cfg.loss)
    real = (torch.rand(BATCH, CHANNELS, SIZE, SIZE) * 2 - 1).contiguous(memory_format=torch.channels_last)
    y = torch.arange(BATCH) % CLASSES

    def step() -> None:
        with autocast(CPU, "bf16"):
            fake = G(torch.randn(BATCH, cfg.z_dim), y)
            loss_d = loss.discriminator(D(real, y)["adv"].float(), D(fake.detach(), y)["adv"].float())
        update(opt_d, loss_d)
        with autocast(CPU, "bf16"):
            loss_g = loss.generator(D(fake, y)["adv"].float())
        update(opt_g, loss_g)

    step()
    tic = time.perf_counter()
    for _ in range(REPEATS):
        step()
    return (time.perf_counter() - tic) / REPEATS


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {SIZE}x{SIZE}x{CHANNELS}, "
          f"batch {BATCH}, bf16")
    for label, gw, dw in (("cpu width", 128, 64), ("paper width", 384, 192)):
        G, D, _ = build_gan(GANConfig(architecture="biggan", g_width=gw, d_width=dw), SIZE, CHANNELS, CLASSES)
        print(f"biggan {label} (g_width {gw}, d_width {dw}): G {params(G)}, D {params(D)} parameters")
    G, D, _ = build_gan(GANConfig(), SIZE, CHANNELS, CLASSES)
    print(f"cdcgan default (g_width 128, d_width 128): G {params(G)}, D {params(D)} parameters")
    cdcgan = step_seconds(architecture="cdcgan")
    print(f"cdcgan: {cdcgan:.3f} s/step")
    big = step_seconds(architecture="biggan")
    print(f"biggan: {big:.3f} s/step")
    print(f"ratio: {big / cdcgan:.1f}")


if __name__ == "__main__":
    main()
