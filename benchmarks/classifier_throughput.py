"""Classifier training throughput: ganaug's trainer in fp32, in bf16 autocast, and in bf16 + channels_last,
side by side in one run, on the demo's data (8x8 digits) and at 28x28x1 and 32x32x3 (random images).

Images/s of ``train_classifier`` (small-cnn, batch 64, Adam) over whole epochs after a warm-up epoch.
Run: ``.venv/bin/python benchmarks/classifier_throughput.py``; the last line is
``ratio bf16 / fp32 at 32x32x3: X.XX``.
"""

from __future__ import annotations

import time

import torch

from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassifierConfig
from ganaug.data import ImageDataset, load_dataset

EPOCHS = 3


def images_per_s(data: ImageDataset, precision: str, channels_last: bool) -> float:
    cfg = ClassifierConfig(epochs=EPOCHS, precision=precision, channels_last=channels_last)
    train_classifier(cfg.model_copy(update={"epochs": 1}), data, 0, torch.device("cpu"), progress=False)  # warm-up
    tic = time.perf_counter()
    train_classifier(cfg, data, 0, torch.device("cpu"), progress=False)
    return EPOCHS * len(data) / (time.perf_counter() - tic)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, small-cnn, batch 64, {EPOCHS} epochs")
    sets = {"digits 8x8x1": load_dataset("digits").train}
    for size, channels in ((28, 1), (32, 3)):
        images = torch.randint(0, 256, (4096, channels, size, size), dtype=torch.uint8)
        sets[f"random {size}x{size}x{channels}"] = ImageDataset(images, torch.arange(4096) % 10, list("0123456789"))
    print(f"{'data':18s} {'fp32':>8s} {'bf16':>8s} {'bf16+NHWC':>10s} {'ratio bf16':>11s} {'ratio bf16+NHWC':>16s}")
    ratio = 0.0
    for name, data in sets.items():
        fp32 = images_per_s(data, "fp32", False)
        bf16 = images_per_s(data, "bf16", False)
        nhwc = images_per_s(data, "bf16", True)
        print(f"{name:18s} {fp32:8.0f} {bf16:8.0f} {nhwc:10.0f} {bf16 / fp32:11.2f} {nhwc / fp32:16.2f}")
        ratio = max(bf16, nhwc) / fp32
    print(f"ratio bf16 / fp32 at 32x32x3: {ratio:.2f}")


if __name__ == "__main__":
    main()
