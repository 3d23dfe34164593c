"""Where grid cells run: ``local`` (this process, or ``workers`` processes) or ``ray`` (a local Ray or a cluster).

An executor gets the unfinished cells and calls ``finished(cell, result)`` in this process as each one ends,
so the results store has a single writer whatever runs the cells. Adding one is a function plus
``@EXECUTORS.register``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from ganaug import threads as torch_threads
from ganaug.errors import ConfigError
from ganaug.registry import Registry
from ganaug.runner.cell import run_cell
from ganaug.runner.spec import GridConfig

PR_SET_PDEATHSIG = 1  # linux/prctl.h

EXECUTORS = Registry("executor")

Finished = Callable[[dict, dict], None]


def run_cell_with_threads(cell: dict, command: str, threads: int) -> dict:
    """``run_cell`` with ``threads`` torch threads: cells sharing a machine must not oversubscribe its cores."""
    torch.set_num_threads(max(1, int(threads)))
    return run_cell(cell, command)


def die_with_parent(parent: int, threads: int) -> None:
    """A worker's initialiser: end when the runner ends, however it ends (SIGKILL included), and use ``threads``.

    Linux: the kernel sends this process SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); elsewhere a daemon
    thread polls the parent's pid. A parent that died before this ran is caught by the ``getppid`` check.
    """
    os.environ["GANAUG_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl failed")
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="watch-runner").start()
    if os.getppid() != parent:
        os._exit(1)


@EXECUTORS.register("local")
def run_local(grid: GridConfig, cells: list[dict], command: str, finished: Finished) -> None:
    """One cell after another in this process (``workers: 1``), or ``workers`` spawned processes at once, which
    share the free cores (``ganaug.threads``) and end with the runner."""
    if grid.workers == 1 or len(cells) <= 1:
        for cell in cells:
            finished(cell, run_cell(cell, command))
        return
    threads = max(1, torch_threads.decide()[0] // grid.workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(grid.workers, mp_context=context, initializer=die_with_parent,
                             initargs=(os.getpid(), threads)) as pool:
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
