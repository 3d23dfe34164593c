"""GAN training throughput: ganaug's trainer against a plain reference loop of the same networks.

Both train the unconditional ``dcgan`` networks (one D step and one G step per iteration, Adam 2e-4,
non-saturating loss) on the same number of iterations of random images, side by side in one run.
The reference is written the way the official PyTorch DCGAN example is (BCELoss on sigmoid outputs,
separate real/fake backward passes, ``.item()`` every iteration, fp32, NCHW). ganaug runs with
``precision=bf16`` and ``channels_last`` (its speed switches) and also in fp32 for comparison.

Run: ``.venv/bin/python benchmarks/gan_throughput.py``; the last line is ``ratio: X.XX`` (ganaug bf16 over
reference at 28x28x1, batch 64).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ganaug.config import GANConfig
from ganaug.data import ImageDataset
from ganaug.gan.trainer import build_gan, train_gan

ITERATIONS = 40  # per measurement, after a warm-up epoch
WIDTH = 128


def reference_images_per_s(size: int, channels: int, batch: int) -> float:
    """The PyTorch DCGAN example's loop, verbatim in shape, on ganaug's dcgan networks."""
    torch.manual_seed(0)
    netG, netD, _ = build_gan(GANConfig(architecture="dcgan", conditional=False, g_width=WIDTH, d_width=WIDTH),
                              size, channels, 0)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.rand(ITERATIONS * batch, channels, size, size) * 2 - 1

    def run(iterations: int) -> None:
        for i in range(iterations):
            real = data[i * batch : (i + 1) * batch]
            netD.zero_grad()
            label = torch.full((batch,), 1.0)
            output = torch.sigmoid(netD(real)["adv"])
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(batch, 100)
            fake = netG(noise)
            label.fill_(0.0)
            output = torch.sigmoid(netD(fake.detach())["adv"])
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            optimizerD.step()
            netG.zero_grad()
            label.fill_(1.0)
            output = torch.sigmoid(netD(fake)["adv"])
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            _ = (errD_real.item() + errD_fake.item(), errG.item(), D_x, D_G_z1, D_G_z2)

    run(3)  # warm-up
    tic = time.perf_counter()
    run(ITERATIONS)
    return ITERATIONS * batch / (time.perf_counter() - tic)


def ganaug_images_per_s(size: int, channels: int, batch: int, precision: str, channels_last: bool) -> float:
    """ganaug's trainer for two epochs of ITERATIONS iterations; images/s of the second (warm) epoch."""
    images = torch.randint(0, 256, (ITERATIONS * batch, channels, size, size), dtype=torch.uint8)
    data = ImageDataset(images, torch.zeros(len(images), dtype=torch.int64), ["x"])
    cfg = GANConfig(architecture="dcgan", conditional=False, g_width=WIDTH, d_width=WIDTH, batch_size=batch, epochs=2,
                    sampling="uniform", precision=precision, channels_last=channels_last)
    history = train_gan(cfg, data, seed=0, device=torch.device("cpu"), progress=False).history
    return history[-1]["images_per_s"]


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, dcgan width {WIDTH}, {ITERATIONS} iterations")
    print("shape      batch  reference img/s  ganaug fp32  ganaug bf16+NHWC  ratio fp32  ratio bf16")
    ratio = None
    for size, channels in ((28, 1), (32, 3)):
        for batch in (64, 128):
            ref = reference_images_per_s(size, channels, batch)
            fp32 = ganaug_images_per_s(size, channels, batch, "fp32", False)
            bf16 = ganaug_images_per_s(size, channels, batch, "bf16", True)
            print(f"{size}x{size}x{channels}  {batch:5d}  {ref:15.0f}  {fp32:11.0f}  {bf16:16.0f}  {fp32 / ref:10.2f}  {bf16 / ref:10.2f}")
            if (size, channels, batch) == (28, 1, 64):
                ratio = bf16 / ref
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
