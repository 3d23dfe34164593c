"""``ganaug run GRID.yaml``: a grid of experiments, expanded into cells, each resumable, aggregated in one store.

1. validate the grid file (:class:`GridConfig`), then build and validate every cell's experiment config and
   run the experiment's own checks on it (data, labelled amounts, architectures), all before any training;
2. each cell (one combination of the axes x one repeat) is a folder ``cells/<id>/`` with ``cell.json`` (axes,
   seed, code version, the resolved config), the experiment's own outputs (config.yaml, checkpoints,
   metrics.json, report) and, once finished, ``result.json``; every file is written atomically;
3. cells without ``result.json`` run (in this process, in worker processes, or as Ray tasks); an interrupted
   cell resumes from its experiment's last checkpoint;
4. every finished cell goes into ``results.sqlite``; ``ganaug results RUN_DIR`` aggregates it.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import re
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

import ganaug
from ganaug.checkpoint import write_json
from ganaug.config import ConfigError, Strict, build_config, lookup, merge, nest
from ganaug.data.errors import DataError
from ganaug.experiments.common import claim_run_folder
from ganaug.runner.store import ResultsStore
from ganaug.runner.tasks import TASKS


class GridConfig(Strict):
    """A grid file. Every key of the experiment goes under ``config``; ``grid`` names the axes to vary."""

    task: str  # the experiment of every cell: ssl | augment | demo | gan (ganaug.runner.tasks.TASKS)
    config_file: str | None = None  # an experiment's YAML file to start from (e.g. configs/augment-003.yaml)
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


def code_version() -> str:
    """ganaug's version and, in a git checkout, the commit (``+dirty`` with uncommitted changes)."""
    root = Path(ganaug.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "ganaug"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return f"{ganaug.__version__}" + (f"+{commit}" if commit else "") + ("+dirty" if dirty else "")


def slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return re.sub(r"[^A-Za-z0-9.=+-]+", "_", text).strip("_")[:60]


def expand(grid: GridConfig, out: Path) -> list[dict]:
    """Every cell: its id, axes, repeat, seed and validated experiment config (ConfigError names cell and key)."""
    task = TASKS.create(grid.task)

    def build(*layers: dict[str, Any]) -> Any:
        return task.build(grid.config_file, grid.config, *layers, scale=grid.scale)

    try:
        base = build().model_dump(mode="json")  # for the axes whose key holds a list
    except ConfigError as err:
        raise ConfigError(f"grid config: {err}") from None
    axes = list(grid.grid)
    cells = []
    for combo in itertools.product(*(grid.grid[k] for k in axes)):
        values = dict(zip(axes, combo))
        name = "".join(f"{k.split('.')[-1]}={slug(v)}," for k, v in values.items())
        for repeat in range(grid.repeats):
            cell_id = f"{name}repeat={repeat}"
            layer: dict[str, Any] = {}
            for key, value in values.items():
                wrap = isinstance(lookup(base, key), list) and not isinstance(value, list)
                layer = merge(layer, nest({key: [value] if wrap else value}))
            layer = merge(layer, task.one_repeat)
            layer = merge(layer, {"seed": grid.seed + repeat, "out": str(out / "cells" / cell_id), "progress": False})
            try:
                cfg = build(layer)
            except ConfigError as err:
                raise ConfigError(f"grid cell {cell_id}: {err}") from None
            cells.append({"id": cell_id, "task": grid.task, "axes": values, "repeat": repeat,
                          "seed": grid.seed + repeat, "config": cfg.model_dump(mode="json")})
    ids = [c["id"] for c in cells]
    if len(set(ids)) != len(ids):
        raise ConfigError("two grid cells got the same folder name; make the axis values distinct")
    return cells


def check_cells(grid: GridConfig, cells: list[dict]) -> None:
    """The experiment's own checks (data, labelled amounts, architectures) on every distinct cell config."""
    task = TASKS.create(grid.task)
    seen: set[str] = set()
    for cell in cells:
        cfg = {k: v for k, v in cell["config"].items() if k != "out"}
        key = json.dumps(cfg, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            task.check(task.config.model_validate(cell["config"]))
        except (ConfigError, DataError, KeyError, ValueError) as err:  # KeyError: a registry's unknown name
            raise ConfigError(f"grid cell {cell['id']}: {err.args[0] if isinstance(err, KeyError) else err}") from None


def run_cell(cell: dict, command: str) -> dict:
    """Run (or resume) one cell in this process; write and return its ``result.json``. Skips a finished cell."""
    folder = Path(cell["config"]["out"])
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "result.json"
    # One process per cell: a worker orphaned by a killed runner finishes its cell before a resumed runner starts
    # it again (the OS drops the lock when its holder dies).
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return json.loads(done.read_text())
        task = TASKS.create(cell["task"])
        tic = time.perf_counter()
        report = task.run(task.config.model_validate(cell["config"]), f"{command}  # grid cell {cell['id']}")
        metrics = json.loads((folder / "metrics.json").read_text())
        result = {"scalars": task.scalars(metrics), "seconds": time.perf_counter() - tic,
                  "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "report": str(report)}
        write_json(done, result)
    return result


def run_grid(grid: GridConfig, command: str, log: Callable[[str], None] = print) -> Path:
    """Validate everything, run the unfinished cells, fill the results store; returns the run folder."""
    from ganaug.report.grid import write_grid_report
    from ganaug.runner.executors import EXECUTORS
    from ganaug.runner.store import load_results

    out = Path(grid.out)
    cells = expand(grid, out)
    check_cells(grid, cells)
    claim_run_folder(out, grid.model_copy(update={"executor": "local", "workers": 1, "address": None}))
    store = ResultsStore(out / "results.sqlite")
    version = code_version()
    todo = []
    for cell in cells:
        folder = out / "cells" / cell["id"]
        if (folder / "result.json").exists():
            continue
        cell = {**cell, "code_version": version}
        info = folder / "cell.json"
        if not info.exists():
            write_json(info, cell)
        todo.append(json.loads(info.read_text()))
    store.sync(out / "cells" / c["id"] for c in cells)
    log(f"{len(cells)} cells, {len(cells) - len(todo)} finished, {len(todo)} to run ({grid.executor})")

    def finished(cell: dict, result: dict) -> None:
        store.add(cell, result)
        log(f"done {cell['id']} in {result['seconds']:.0f} s")

    EXECUTORS.get(grid.executor)(grid, todo, command, finished)
    report = write_grid_report(load_results(out), out, command)
    log(f"report: {report}")
    return out


def grid_yaml(grid: GridConfig) -> str:
    return yaml.safe_dump(grid.model_dump(mode="json"), sort_keys=False)
