"""The grid file's schema (``ganaug run GRID.yaml``) and its loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from ganaug.config import Strict, build_config
from ganaug.runner.tasks import TASKS


class GridConfig(Strict):
    """A grid file. Every key of the experiment goes under ``config``; ``grid`` names the axes to vary."""

    task: str  # the experiment of every cell: ssl | augment | demo | gan (ganaug.runner.tasks.TASKS)
    config_file: str | None = None  # an experiment's YAML file to start from (e.g. configs/augment-dcgan-study-cifar10.yaml)
    scale: str | None = None  # a named scale of that file (its `scales:`); None: the file's default
    config: dict[str, Any] = {}  # the experiment's config keys (as in `ganaug <task> --config`), over config_file
    grid: dict[str, list[Any]] = {}  # dotted config key -> values; the cells are every combination. A key whose
    # value is a list in the experiment (algorithms, labeled, strategies, ratios) takes one item per cell
    repeats: int = Field(1, ge=1)  # seeds per combination: cell seed = seed + repeat
    seed: int = 0
    baseline: dict[str, Any] | None = None  # the group others are compared with, paired by repeat: axis values
    # and/or an arm, e.g. {algorithms: supervised} or {arm: baseline}
    metrics: list[str] | None = None  # the metrics in the results table (`ganaug results`); None: all
    out: str = "runs/grid"
    executor: Literal["local", "ray"] = "local"
    workers: int = Field(1, ge=1)  # local: cells run at once, each in its own process (1: in this process)
    address: str | None = None  # ray: the cluster's address (None: start a local Ray)
    cpus_per_cell: float = Field(1.0, gt=0)  # ray: CPUs reserved per cell (and its torch threads)
    gpus_per_cell: float = Field(0.0, ge=0)  # ray: GPUs reserved per cell (fractions share a GPU)

    @model_validator(mode="after")
    def _known(self) -> "GridConfig":
        if self.task not in TASKS:
            raise ValueError(f"task: unknown task {self.task!r}; valid names: {', '.join(TASKS.names())}")
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid.{key}: an axis needs at least one value")
        for key, value in (self.baseline or {}).items():
            if key != "arm" and key not in self.grid:
                raise ValueError(f"baseline.{key}: not an axis of the grid (axes: {', '.join(self.grid) or 'none'}; "
                                 "or `arm`)")
            if key != "arm" and value not in self.grid[key]:
                raise ValueError(f"baseline.{key}={value!r} names no cell: the axis {key} takes {self.grid[key]}")
        return self


def load_grid(path: Path | None, *layers: dict[str, Any]) -> GridConfig:
    """The grid file, then ``layers`` (e.g. ``--set config.steps=50``), validated."""
    return build_config(GridConfig, path, *layers)
