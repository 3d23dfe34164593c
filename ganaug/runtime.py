"""What every trainer needs from its surroundings: a device, seeded randomness, mini-batches, a progress bar."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is not there is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch.cuda.is_available() is False; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device 'mps' was asked for but is not available; use --device cpu")
    return torch.device(name)


def num_epochs(epochs: int | None, steps: int, n: int, batch_size: int) -> int:
    """``epochs`` if given, else the fewest whole epochs that make at least ``steps`` updates over ``n`` images."""
    if epochs is not None:
        return epochs
    return max(1, math.ceil(steps / max(1, n // batch_size)))


def batches(n: int, batch_size: int, generator: torch.Generator, drop_last: bool) -> Iterator[torch.Tensor]:
    """Index batches over a seeded permutation of ``range(n)``."""
    perm = torch.randperm(n, generator=generator)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield perm[start : start + batch_size]


def class_balanced_batches(labels: torch.Tensor, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``len(labels) // batch_size`` batches drawn with replacement so that every class is equally likely.

    For a conditional GAN on imbalanced data: sampled in proportion to their counts, the rare classes
    are too rare in the discriminator's batches for the generator to learn their label (on MNIST with
    classes 0-2 cut to 10 %, the generator drew other digits for them).
    """
    counts = torch.bincount(labels).clamp(min=1).float()
    weights = (1.0 / counts)[labels]
    steps = max(1, len(labels) // batch_size)
    drawn = torch.multinomial(weights, steps * batch_size, replacement=True, generator=generator)
    yield from drawn.view(steps, batch_size)


class EpochProgress:
    """A rich progress bar over epochs showing the latest losses, images/s and ETA (silent when disabled)."""

    def __init__(self, title: str, epochs: int, start: int = 0, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            disable=not enabled,
        )
        self._task = self._progress.add_task(title, total=epochs, completed=start, status="")
        self._tic = time.perf_counter()

    def __enter__(self) -> "EpochProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def epoch_done(self, images: int, advance: int = 1, **scalars: float) -> float:
        """Advance ``advance`` units (one epoch, or iterations); returns the images per second since the last call."""
        now = time.perf_counter()
        rate = images / max(now - self._tic, 1e-9)
        self._tic = now
        status = "  ".join(f"{k} {v:.3f}" for k, v in scalars.items()) + f"  {rate:,.0f} img/s"
        self._progress.update(self._task, advance=advance, status=status)
        return rate
