"""Where grid cells run: ``local`` (this process, or ``workers`` processes) or ``ray`` (a local Ray or a cluster).

An executor gets the unfinished cells and calls ``finished(cell, result)`` in this process as each one ends,
so the results store has a single writer whatever runs the cells. Adding one is a function plus
``@EXECUTORS.register``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from ganaug.registry import Registry
from ganaug.runner.grid import GridConfig, run_cell

EXECUTORS = Registry("executor")

Finished = Callable[[dict, dict], None]


def run_cell_with_threads(cell: dict, command: str, threads: int) -> dict:
    """``run_cell`` with ``threads`` torch threads: cells sharing a machine must not oversubscribe its cores."""
    torch.set_num_threads(max(1, int(threads)))
    return run_cell(cell, command)


@EXECUTORS.register("local")
def run_local(grid: GridConfig, cells: list[dict], command: str, finished: Finished) -> None:
    """One cell after another in this process (``workers: 1``), or ``workers`` spawned processes at once."""
    if grid.workers == 1 or len(cells) <= 1:
        for cell in cells:
            finished(cell, run_cell(cell, command))
        return
    threads = max(1, (os.cpu_count() or 1) // grid.workers)
    with ProcessPoolExecutor(grid.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_cell_with_threads, cell, command, threads): cell for cell in cells}
        for future in as_completed(futures):
            finished(futures[future], future.result())


@EXECUTORS.register("ray")
def run_ray(grid: GridConfig, cells: list[dict], command: str, finished: Finished) -> None:
    """Every cell as a Ray task reserving ``cpus_per_cell`` CPUs and ``gpus_per_cell`` GPUs.

    Connects to ``address`` (a running cluster), or starts a local Ray when it is None. On a cluster the run
    folder must be on storage every node sees (cells write their checkpoints and results there).
    """
    try:
        import ray
    except ImportError:
        from ganaug.config import ConfigError

        raise ConfigError("executor: ray needs the optional extra: pip install 'ganaug[ray]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports sent from the machines we run on
    started = not ray.is_initialized()
    if started:
        ray.init(address=grid.address, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=grid.cpus_per_cell, num_gpus=grid.gpus_per_cell, max_retries=0)(run_cell_with_threads)
        pending = {task.remote(cell, command, grid.cpus_per_cell): cell for cell in cells}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                finished(pending.pop(ref), ray.get(ref))
    finally:
        if started:
            ray.shutdown()
