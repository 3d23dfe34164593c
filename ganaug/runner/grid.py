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

import itertools
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import ganaug
from ganaug.checkpoint import write_json
from ganaug.config import ConfigError, lookup, merge, nest
from ganaug.errors import DataError
from ganaug.experiments.common import claim_run_folder
from ganaug.paths import slug
from ganaug.runner.cell import run_cell
from ganaug.runner.executors import EXECUTORS
from ganaug.runner.spec import GridConfig, load_grid
from ganaug.runner.store import ResultsStore, load_results
from ganaug.runner.tasks import TASKS

__all__ = ["GridConfig", "check_cells", "code_version", "expand", "grid_yaml", "load_grid", "run_cell", "run_grid"]


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
        name = "".join(f"{k.split('.')[-1]}={slug(v, 60)}," for k, v in values.items())
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
    """The experiment's own checks (data, labelled amounts, architectures) on every distinct cell config; the
    repeats of a config differ only in seed and folder, which no check depends on, so they are checked once (each
    check may load the dataset: a minute for CIFAR-10's JPEGs)."""
    task = TASKS.create(grid.task)
    seen: set[str] = set()
    for cell in cells:
        cfg = {k: v for k, v in cell["config"].items() if k not in ("out", "seed")}
        key = json.dumps(cfg, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            task.check(task.config.model_validate(cell["config"]))
        except (ConfigError, DataError, KeyError, ValueError) as err:  # KeyError: a registry's unknown name
            raise ConfigError(f"grid cell {cell['id']}: {err.args[0] if isinstance(err, KeyError) else err}") from None


def run_grid(grid: GridConfig, command: str, log: Callable[[str], None] = print) -> Path:
    """Validate everything, run the unfinished cells, fill the results store; returns the run folder."""
    from ganaug.report.grid import write_grid_report

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
