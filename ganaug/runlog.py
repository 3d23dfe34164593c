"""TensorBoard event files, as an option (``--tensorboard``): each trainer's per-epoch (or per-evaluation) scalars,
and sample grids of the GANs while they train.

An experiment makes one :class:`TensorBoard` for ``<run folder>/tensorboard`` and hands each trainer a
:class:`RunLog` for its own sub-folder (``tb.run("gan")``), so that TensorBoard shows every trainer as a run
and overlays runs that log the same tags. The trainers only call ``log.scalars(row, step)`` with the rows they
keep in their history, and ``log.samples(generator, z_dim, step)``. Logging never changes training: the
samples come from fixed noise, with the random number generators' states restored afterwards.

    tensorboard --logdir runs/demo/tensorboard
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from ganaug.config import ConfigError

STEP_KEYS = ("epoch", "step")  # history keys that are the x axis, not a scalar
SAMPLES_PER_CLASS = 8  # one row of the grid per class (unconditional generators: 8 rows of 8)


class RunLog:
    """One trainer run's events in its own folder; the writer opens on the first event, so a run that has nothing
    left to train (resumed at its end) leaves no empty file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writer = None

    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.folder))
        return self._writer

    def scalars(self, row: dict[str, float], step: int) -> None:
        """Every number of a history row (losses, accuracies, images/s) under its own name, at ``step``."""
        for key, value in row.items():
            if key not in STEP_KEYS and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    @torch.no_grad()
    def samples(self, generator: nn.Module, z_dim: int, step: int, tag: str = "samples") -> None:
        """A grid of images from fixed noise (the same at every step, so the grids show the generator learning):
        one row per class for a conditional generator."""
        from ganaug.data.dataset import to_uint8
        from ganaug.gan.sampling import generate

        num_classes = int(getattr(generator, "num_classes", 0) or 0)
        counts = [SAMPLES_PER_CLASS] * num_classes if num_classes else [SAMPLES_PER_CLASS * SAMPLES_PER_CLASS]
        device = next(generator.parameters()).device
        was_training = generator.training
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # a forward may draw noise
            x, _ = generate(generator, counts, z_dim, seed=0, device=device)
        generator.train(was_training)
        self.writer.add_images(tag, to_uint8(x).numpy(), step, dataformats="NCHW")  # 8 images a row
        self.writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class TensorBoard:
    """The TensorBoard folder of one experiment run; ``enabled=False`` makes every :meth:`run` None (no logging)."""

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        if enabled and importlib.util.find_spec("tensorboard") is None:
            raise ConfigError("tensorboard: true (--tensorboard) needs the tensorboard package: "
                              "pip install 'ganaug[tensorboard]'")
        self.folder, self.enabled = folder, enabled
        self._current: RunLog | None = None

    def run(self, name: str) -> RunLog | None:
        """The log of the next trainer run, in ``folder/name``; closes the previous one (runs are sequential)."""
        self.close()
        if self.enabled:
            self._current = RunLog(self.folder / name)
        return self._current

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
