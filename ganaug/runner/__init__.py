"""Grids of experiments: expansion into resumable cells, executors (local, Ray), and the SQLite results store."""

from ganaug.runner.grid import GridConfig, expand, load_grid, run_cell, run_grid
from ganaug.runner.store import ResultsStore, aggregate, load_results
from ganaug.runner.tasks import TASKS

__all__ = ["GridConfig", "ResultsStore", "TASKS", "aggregate", "expand", "load_grid", "load_results", "run_cell",
           "run_grid"]
