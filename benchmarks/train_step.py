"""Milliseconds per training step of the conditional DCGAN (one D + one G update) and the small CNN.

Prints one row per (image size, width), measured side by side in one run, so that the cost of a
width or a size is read as a ratio to the first row. Run: ``.venv/bin/python benchmarks/train_step.py``.
"""

from __future__ import annotations

import time

import torch

from ganaug.classifier.trainer import build_classifier
from ganaug.config import ClassifierConfig, GANConfig
from ganaug.gan.losses import GAN_LOSSES
from ganaug.gan.trainer import build_gan

BATCH, REPEATS = 64, 10


def time_it(step) -> float:
    step()  # warm-up
    tic = time.perf_counter()
    for _ in range(REPEATS):
        step()
    return (time.perf_counter() - tic) / REPEATS * 1000


def gan_step_ms(size: int, width: int) -> float:
    cfg = GANConfig(g_width=width, d_width=width)
    G, D, _ = build_gan(cfg, size, 1, 10)
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    loss = GAN_LOSSES.create(cfg.loss)
    x, y = torch.randn(BATCH, 1, size, size), torch.randint(0, 10, (BATCH,))

    def step() -> None:
        fake = G(torch.randn(BATCH, cfg.z_dim), y)
        loss_d = loss.discriminator(D(x, y)["adv"], D(fake.detach(), y)["adv"])
        opt_d.zero_grad(), loss_d.backward(), opt_d.step()
        loss_g = loss.generator(D(fake, y)["adv"])
        opt_g.zero_grad(), loss_g.backward(), opt_g.step()

    return time_it(step)


def classifier_step_ms(size: int) -> float:
    model, _ = build_classifier(ClassifierConfig(), size, 1, 10)
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(BATCH, 1, size, size), torch.randint(0, 10, (BATCH,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(), loss.backward(), opt.step()

    return time_it(step)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}")
    base = None
    print("model        size  width   ms/step  x first row")
    for size, width in [(8, 128), (28, 32), (28, 64), (28, 128), (32, 128), (64, 128)]:
        ms = gan_step_ms(size, width)
        base = base or ms
        print(f"dcgan (D+G)  {size:>4}  {width:>5}  {ms:8.1f}  {ms / base:8.1f}")
    for size in (8, 28, 32):
        ms = classifier_step_ms(size)
        print(f"small-cnn    {size:>4}     32  {ms:8.1f}  {ms / base:8.1f}")


if __name__ == "__main__":
    main()
