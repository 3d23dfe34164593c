"""How many intra-op threads torch uses: the cores that are free, not the cores that exist.

On a shared machine, torch's default (one thread per core) fights the other jobs for every core: measured on
2 cores beside a 2-thread job, 200 cdcgan steps took 7.8x as long at 2 threads and 1.9x at 1 thread. So the
CLI counts the cores this process may use (its CPU affinity) and the runnable threads of other processes
(``procs_running`` of /proc/stat, sampled a few times, minus this process's own running threads), and uses
the difference, at least 1. ``--threads N`` or ``GANAUG_THREADS=N`` forces a number. The choice is re-checked
at most every ``RECHECK_S`` seconds from the trainers' epoch loops (``adapt``), and said once it changes.

Only the CLI turns the automatic choice on (``start``); a library caller keeps whatever torch.set_num_threads
it chose.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

RECHECK_S = 30.0  # seconds between re-checks of the free cores
SAMPLES = 10  # /proc/stat samples per check, SAMPLE_GAP_S apart (one snapshot catches a process between runs)
SAMPLE_GAP_S = 0.02


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; the machine's count where there is no affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def own_running_threads() -> int:
    """This process's threads that are running or runnable now (state R in /proc/self/task/*/stat)."""
    count = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return count


def others_running() -> float | None:
    """Runnable threads of other processes, the mean of a few samples of /proc/stat; None where there is no /proc."""
    counts = []
    for i in range(SAMPLES):
        try:
            line = next(l for l in Path("/proc/stat").read_text().splitlines() if l.startswith("procs_running"))
        except (OSError, StopIteration):
            return None
        counts.append(max(0, int(line.split()[1]) - own_running_threads()))
        if i + 1 < SAMPLES:
            time.sleep(SAMPLE_GAP_S)
    return sum(counts) / len(counts)


def choose(usable: int, busy: float) -> int:
    """Threads for ``usable`` cores of which ``busy`` are taken by other processes: the free ones, at least 1.

    A core counts as taken from 0.75 runnable threads on average: a job keeps its threads runnable nearly all
    the time (a 2-thread job reads 1.8-2.0), while short-lived processes (a shell, an editor) read well below."""
    return max(1, min(usable, usable - int(busy + 0.25)))


def forced() -> int | None:
    """``GANAUG_THREADS`` (set by ``--threads N`` too), or None; anything but a whole number >= 1 is an error."""
    value = os.environ.get("GANAUG_THREADS")
    if value is None or value == "":
        return None
    if not value.strip().isdigit() or int(value) < 1:
        from ganaug.config import ConfigError

        raise ConfigError(f"GANAUG_THREADS={value!r} (or --threads): expected a whole number of threads >= 1")
    return int(value)


def decide() -> tuple[int, str]:
    """The thread count and why, in words."""
    n = forced()
    usable = usable_cores()
    if n is not None:
        return n, f"threads: {n} (forced by --threads / GANAUG_THREADS; {usable} cores usable)"
    busy = others_running()
    if busy is None:
        return usable, f"threads: {usable} (the usable cores; no /proc to see other jobs; --threads N to force)"
    n = choose(usable, busy)
    return n, (f"threads: {n} of {usable} cores (other processes keep {busy:.1f} busy; --threads N or "
               "GANAUG_THREADS=N to force)")


class AutoThreads:
    """The CLI's choice of torch threads, re-checked now and then (see the module doc).

    The choice applies at once; it is said when training starts (the first ``adapt``), so that a command that
    stops on a user's mistake before training still prints one line only."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo or (lambda line: print(line, file=sys.stderr))
        self.threads, self.checked, self.unsaid = 0, 0.0, None
        self.update()

    def update(self) -> None:
        n, why = decide()
        self.checked = time.monotonic()
        if n != self.threads:
            torch.set_num_threads(n)
            self.unsaid = why if not self.threads else f"{why} (was {self.threads})"
            self.threads = n

    def adapt(self) -> None:
        if forced() is None and time.monotonic() - self.checked >= RECHECK_S:
            self.update()
        if self.unsaid:
            self.echo(self.unsaid)
            self.unsaid = None


_auto: AutoThreads | None = None  # torch's thread count is process-wide, so its keeper is too


def start(echo: Callable[[str], None] | None = None) -> AutoThreads:
    """Turn the automatic choice on for this process (the CLI does, once per command) and apply it now."""
    global _auto
    _auto = AutoThreads(echo)
    return _auto


def adapt() -> None:
    """Re-check the free cores (at most every RECHECK_S s) when the automatic choice is on; trainers call it per epoch."""
    if _auto is not None:
        _auto.adapt()
