"""The scaffold every experiment stands on: its data splits, its run folder, device, TensorBoard and timings.

An experiment reads as: ``run = Run(cfg)`` (the folder checked, the device chosen); its data loaded once
(:func:`load_data`, :func:`hold_out_validation`); every check that can fail; ``run.claim()`` (the resume check,
then config.yaml); training and evaluation with ``run.device``, ``run.log(name)`` and ``with run.timed(key)``;
then ``run.write_json`` and ``run.report``. Under torchrun every rank runs all of it and rank 0 alone writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from ganaug import distributed as dist
from ganaug.checkpoint import write_json
from ganaug.config import save_config
from ganaug.data import ImageDataset, load_dataset
from ganaug.data import splits as S
from ganaug.data.dataset import DatasetSplits
from ganaug.experiments.common import check_out_folder, claim_run_folder
from ganaug.runlog import RunLog, TensorBoard
from ganaug.runtime import resolve_device


class DataOptions(Protocol):
    """What locates and shapes a dataset: ``DataConfig``, or ``EvaluateGANConfig`` which holds the same keys."""

    dataset: str
    data_dir: str | None
    download: bool
    image_size: int | None
    channels: int | None


def load_data(d: DataOptions) -> DatasetSplits:
    """The dataset's splits (train, test and its own val/ when it has one), as the data options describe them."""
    return load_dataset(d.dataset, d.data_dir, d.download, d.image_size, d.channels)


@dataclass
class Splits:
    train: ImageDataset  # the training split, validation held out
    val: ImageDataset
    test: ImageDataset  # only ever evaluated on
    own_val: bool  # the dataset's own val/ split (else a seeded cut of the training split)


def hold_out_validation(loaded: DatasetSplits, fraction: float, seed: int,
                        shrink: Callable[[ImageDataset], ImageDataset] | None = None) -> Splits:
    """The splits an experiment trains, selects and evaluates on: the dataset's own val/ split when it has one,
    else a seeded cut of ``fraction`` of each class of the training split. ``shrink`` (e.g. at most N images per
    class) applies to the training split before the cut."""
    full = loaded.train if shrink is None else shrink(loaded.train)
    if loaded.val is not None:
        return Splits(full, loaded.val, loaded.test, True)
    train, val = S.validation_split(full, fraction, seed)
    return Splits(train, val, loaded.test, False)


class Run:
    """One experiment's run folder, device, TensorBoard writer, rank-0 writes and timings.

    Making one writes nothing: it checks that ``cfg.out`` can be a run folder and chooses the device. ``claim``
    refuses to resume a folder holding a run with another config (a folder with nothing computed takes the
    corrected one) and writes config.yaml.
    """

    def __init__(self, cfg: BaseModel) -> None:
        self.cfg = cfg
        self.out = check_out_folder(cfg.out)
        self.device = resolve_device(cfg.device)
        self.timings: dict[str, float] = {}
        self.tic = time.perf_counter()
        self.tensorboard = TensorBoard(self.out / "tensorboard", bool(getattr(cfg, "tensorboard", False))
                                       and dist.is_main())

    def claim(self, resume_check: bool = True) -> None:
        """Make the folder and write config.yaml; with ``resume_check``, first refuse a folder whose computed results
        came from another config. Without it (an evaluation recomputed on every run) config.yaml is replaced."""
        if resume_check:
            claim_run_folder(self.out, self.cfg)
        elif dist.is_main():
            self.out.mkdir(parents=True, exist_ok=True)
            save_config(self.cfg, self.out / "config.yaml")

    def log(self, name: str) -> RunLog | None:
        """The TensorBoard log of one trainer (None without ``tensorboard: true``)."""
        return self.tensorboard.run(name)

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        """Record the seconds the block takes as ``timings[key]``."""
        t = time.perf_counter()
        yield
        self.timings[key] = time.perf_counter() - t

    def elapsed(self) -> dict[str, float]:
        """The recorded timings and the total so far (``total_seconds``)."""
        return {**self.timings, "total_seconds": time.perf_counter() - self.tic}

    def say(self, *args: Any) -> None:
        """Print on rank 0 only."""
        dist.on_main(print, *args)

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``out/name`` on rank 0 (every rank waits for it)."""
        dist.on_main(write_json, self.out / name, data)
        return self.out / name

    def report(self, write: Callable[..., Path], *args: Any) -> Path:
        """``write(out, *args)`` on rank 0 (the report writers); every rank returns the path of report.html."""
        self.tensorboard.close()
        return dist.on_main(write, self.out, *args) or self.out / "report.html"

    def close(self) -> None:
        self.tensorboard.close()
