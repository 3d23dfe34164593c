"""The results store of a grid: one SQLite file, ``RUN_DIR/results.sqlite``, and its aggregation.

Why SQLite: it ships with Python (no pyarrow), it is one file, every insert is a transaction (a process
killed mid-write leaves the previous state, never half a row), several runs can read it while the grid
writes, and any tool (sqlite3, pandas, DuckDB) queries it. It is an index, not the truth: each finished
cell's ``result.json`` is, and :meth:`ResultsStore.sync` rebuilds missing rows from them.

Tables::

    cells(id, task, axes JSON, repeat, seed, code_version, seconds, finished, report)
    metrics(cell, arm, name, value)          -- one row per scalar; arm "" when a run has one
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ganaug.metrics import paired_difference
from ganaug.report.grid import GENERATOR
from ganaug.runner.tasks import TASKS

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (id TEXT PRIMARY KEY, task TEXT, axes TEXT, repeat INTEGER, seed INTEGER,
                                  code_version TEXT, seconds REAL, finished TEXT, report TEXT);
CREATE TABLE IF NOT EXISTS metrics (cell TEXT, arm TEXT, name TEXT, value REAL, PRIMARY KEY (cell, arm, name));
"""


class ResultsStore:
    """Finished cells and their scalars, in ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def add(self, cell: dict, result: dict) -> None:
        """Record a finished cell (``cell.json`` and ``result.json`` contents) in one transaction; replaces a previous row."""
        with self._connect() as db:
            db.execute("DELETE FROM metrics WHERE cell = ?", (cell["id"],))
            db.execute("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (cell["id"], cell["task"], json.dumps(cell["axes"], sort_keys=True), cell["repeat"], cell["seed"],
                        cell["code_version"], result["seconds"], result["finished"], result["report"]))
            db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)",
                           [(cell["id"], arm, name, value) for arm, values in result["scalars"].items()
                            for name, value in values.items()])

    def cell_ids(self) -> set[str]:
        with self._connect() as db:
            return {row[0] for row in db.execute("SELECT id FROM cells")}

    def sync(self, cell_dirs: Iterable[Path]) -> int:
        """Add every finished cell (a ``result.json`` beside its ``cell.json``) the store lacks; returns how many."""
        known, added = self.cell_ids(), 0
        for folder in cell_dirs:
            if (folder / "result.json").exists() and folder.name not in known:
                self.add(json.loads((folder / "cell.json").read_text()), json.loads((folder / "result.json").read_text()))
                added += 1
        return added

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (cell, arm): axes, arm, repeat, seed and every metric."""
        with self._connect() as db:
            cells = {r[0]: {"axes": json.loads(r[1]), "repeat": r[2], "seed": r[3]}
                     for r in db.execute("SELECT id, axes, repeat, seed FROM cells")}
            out: dict[tuple[str, str], dict] = {}
            for cell, arm, name, value in db.execute("SELECT cell, arm, name, value FROM metrics ORDER BY cell, arm"):
                row = out.setdefault((cell, arm), {"cell": cell, "arm": arm, **cells[cell], "metrics": {}})
                row["metrics"][name] = value
        return list(out.values())


def group_key(row: dict) -> tuple:
    """What a group of repeats shares: the axis values and the arm."""
    return (json.dumps(row["axes"], sort_keys=True), row["arm"])


def aggregate(rows: list[dict], baseline: dict[str, Any] | None = None, metrics: list[str] | None = None) -> list[dict]:
    """Mean and std over repeats per (axes, arm), and the paired difference (same repeat) to the baseline group.

    ``baseline`` names axis values and/or an ``arm``, e.g. ``{"algorithms": "supervised"}`` or ``{"arm":
    "baseline"}``: a group's baseline is the group with those values in place of its own. Differences use
    only repeats both groups have, with a 95 % Student-t interval (:func:`ganaug.metrics.paired_difference`).
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)
    names = metrics or sorted({m for row in rows for m in row["metrics"]})
    table = []
    for key, members in groups.items():
        members = sorted(members, key=lambda r: r["repeat"])
        axes, arm = members[0]["axes"], members[0]["arm"]
        entry: dict[str, Any] = {"axes": axes, "arm": arm, "repeats": [r["repeat"] for r in members], "metrics": {}}
        for name in names:
            values = [r["metrics"][name] for r in members if name in r["metrics"]]
            if values:
                entry["metrics"][name] = {"mean": float(np.mean(values)), "n": len(values),
                                          "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
        base_key = baseline_of(axes, arm, baseline)
        if base_key is not None and base_key != key and base_key in groups:
            entry["baseline"] = {"axes": json.loads(base_key[0]), "arm": base_key[1]}
            by_repeat = {r["repeat"]: r["metrics"] for r in groups[base_key]}
            entry["vs_baseline"] = {}
            for name in names:
                pairs = [(r["metrics"][name], by_repeat[r["repeat"]][name]) for r in members
                         if name in r["metrics"] and name in by_repeat.get(r["repeat"], {})]
                if pairs:
                    entry["vs_baseline"][name] = paired_difference([p[0] for p in pairs], [p[1] for p in pairs])
        table.append(entry)
    return table


def versus_best_remedy(table: list[dict], rows: list[dict], method_keys: set[str], metric: str, select: str) -> None:
    """Add ``vs_best_remedy`` to every entry that uses generated images: the paired difference of ``metric`` (same
    repeat) to the entry without them that has the best mean ``select`` (a validation score, never test) among the
    entries that differ from it only in ``method_keys`` (the arm and/or the axes that name the method)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)

    def context(entry: dict) -> str:  # what the compared entries share: every axis that does not name the method
        return json.dumps({k: v for k, v in entry["axes"].items() if k not in method_keys}
                          | ({} if "arm" in method_keys else {"arm": entry["arm"]}), sort_keys=True)

    def mean(entry: dict, name: str) -> float | None:
        return entry["metrics"].get(name, {}).get("mean")

    for ctx in dict.fromkeys(map(context, table)):
        members = [e for e in table if context(e) == ctx]
        without = [e for e in members if mean(e, GENERATOR) == 0 and mean(e, select) is not None]
        if not without:
            continue
        best = max(without, key=lambda e: mean(e, select))  # the first listed of tied entries
        best_rows = {r["repeat"]: r["metrics"] for r in groups[(json.dumps(best["axes"], sort_keys=True), best["arm"])]}
        for e in members:
            if mean(e, GENERATOR) != 1:
                continue
            pairs = [(r["metrics"][metric], best_rows[r["repeat"]][metric])
                     for r in groups[(json.dumps(e["axes"], sort_keys=True), e["arm"])]
                     if metric in r["metrics"] and metric in best_rows.get(r["repeat"], {})]
            if pairs:
                e["vs_best_remedy"] = {"best": {"axes": best["axes"], "arm": best["arm"]}, "metric": metric,
                                       "chosen_by": f"mean {select} over repeats", "selected_value": mean(best, select),
                                       "difference": paired_difference([a for a, _ in pairs], [b for _, b in pairs])}


def check_baseline(baseline: dict[str, Any], axes: dict[str, list], arms: set[str]) -> None:
    """``--baseline`` must name an axis and one of its values (or an arm of the cells): else one line saying which."""
    from ganaug.config import ConfigError

    for key, value in baseline.items():
        if key == "arm":
            if arms and value not in arms:
                raise ConfigError(f"--baseline arm={value}: no cell has this arm; arms: {', '.join(sorted(arms))}")
        elif key not in axes:
            raise ConfigError(f"--baseline {key}={value}: {key} is not an axis of this grid (axes: "
                              f"{', '.join(axes) or 'none'}; or arm=NAME)")
        elif value not in axes[key]:
            raise ConfigError(f"--baseline {key}={value}: no cell has this value; {key} takes "
                              f"{', '.join(map(str, axes[key]))}")


def baseline_of(axes: dict, arm: str, baseline: dict[str, Any] | None) -> tuple | None:
    """The group key of the baseline of (axes, arm), or None without a baseline."""
    if not baseline:
        return None
    axes = dict(axes)
    for k, v in baseline.items():
        if k != "arm":
            axes[k] = v
    return json.dumps(axes, sort_keys=True), baseline.get("arm", arm)


def load_results(run_dir: Path, baseline: dict[str, Any] | None = None, metrics: list[str] | None = None) -> dict:
    """The aggregated table of a grid's run folder (see :func:`aggregate`); baseline and metrics default to the grid's.

    Cells that finished but are missing from the store (e.g. the runner was killed right after a cell) are added
    first, so the table always covers every ``result.json``.
    """
    import yaml

    from ganaug.config import ConfigError

    run_dir = Path(run_dir)
    saved = run_dir / "config.yaml"
    if not saved.exists():
        raise ConfigError(f"{run_dir}: not a grid run folder (no config.yaml); expected the --out of `ganaug run`")
    grid = yaml.safe_load(saved.read_text())
    if not isinstance(grid, dict) or "task" not in grid:
        raise ConfigError(f"{run_dir}: not a grid run folder (its config.yaml has no `task`; a demo, augment or ssl "
                          "folder has its report.html); `ganaug results` reads the --out of `ganaug run`")
    store = ResultsStore(run_dir / "results.sqlite")
    store.sync(sorted((run_dir / "cells").glob("*")) if (run_dir / "cells").exists() else [])
    rows = store.rows()
    axes = grid.get("grid") or {}
    if baseline is not None:
        check_baseline(baseline, axes, {r["arm"] for r in rows})
    baseline = grid.get("baseline") if baseline is None else baseline
    known = sorted({m for row in rows for m in row["metrics"]})
    unknown = [m for m in metrics or [] if rows and m not in known]
    if unknown:
        raise ConfigError(f"--metric {unknown[0]}: no cell has this metric; valid metrics: {', '.join(known)}")
    metrics = metrics or grid.get("metrics")

    def position(entry: dict) -> tuple:  # the grid file's order of axis values, then the arm
        return (*(axes[a].index(v) if v in axes[a] else len(axes[a]) for a, v in entry["axes"].items() if a in axes),
                entry["arm"])

    table = sorted(aggregate(rows, baseline, metrics), key=position)
    primary = TASKS.get(grid["task"])().primary if grid["task"] in TASKS else None
    if primary is not None and any(r["metrics"].get(GENERATOR) == 1 for r in rows):
        everything = aggregate(rows, None, [*{m for r in rows for m in r["metrics"]}])  # selection needs every scalar
        by_key = {group_key(e): e for e in table}
        versus_best_remedy(everything, rows, set(baseline or {"arm": ""}), *primary)
        for e in everything:
            if "vs_best_remedy" in e:
                by_key[group_key(e)]["vs_best_remedy"] = e["vs_best_remedy"]
    return {"run_dir": str(run_dir), "task": grid["task"], "axes": list(axes), "baseline": baseline,
            "cells_finished": len({r["cell"] for r in rows}), "table": table}
