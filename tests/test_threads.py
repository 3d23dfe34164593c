"""The CLI's torch threads: the free cores, forced by --threads / GANAUG_THREADS, said once, re-checked later."""

from pathlib import Path

import pytest
import torch

from ganaug import threads
from ganaug.config import ConfigError


@pytest.mark.parametrize("usable, busy, expected", [
    (2, 0.0, 2),  # alone: every core
    (2, 0.2, 2),  # a short blip of another process is not a job
    (2, 0.6, 2),
    (2, 1.0, 1),  # a 1-thread job beside us
    (2, 2.0, 1),  # a 2-thread job takes both cores: we keep one (at least 1)
    (16, 5.4, 11),
    (8, 0.8, 7),
])
def test_choose_takes_the_free_cores(usable, busy, expected):
    assert threads.choose(usable, busy) == expected


def test_forced_by_the_environment(monkeypatch):
    monkeypatch.setenv("GANAUG_THREADS", "3")
    assert threads.decide() == (3, f"threads: 3 (forced by --threads / GANAUG_THREADS; {threads.usable_cores()} "
                                   "cores usable)")
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("GANAUG_THREADS", bad)
        with pytest.raises(ConfigError, match="GANAUG_THREADS"):
            threads.decide()


def test_automatic_choice_reads_other_processes(monkeypatch):
    monkeypatch.delenv("GANAUG_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "others_running", lambda: 1.8)
    assert threads.decide() == (1, "threads: 1 of 2 cores (other processes keep 1.8 busy; --threads N or "
                                   "GANAUG_THREADS=N to force)")


def test_others_running_excludes_this_process():
    busy = threads.others_running()
    assert busy is not None and 0 <= busy  # this test's own running thread is not counted as another job


def test_the_choice_is_said_once_when_training_starts_and_again_when_it_changes(monkeypatch):
    monkeypatch.delenv("GANAUG_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    busy = {"now": 0.0}
    monkeypatch.setattr(threads, "others_running", lambda: busy["now"])
    said = []
    before = torch.get_num_threads()
    try:
        auto = threads.AutoThreads(said.append)
        assert torch.get_num_threads() == 2 and said == []  # applied at once, said at the first epoch
        auto.adapt()
        auto.adapt()
        assert said == ["threads: 2 of 2 cores (other processes keep 0.0 busy; --threads N or GANAUG_THREADS=N to "
                        "force)"]
        busy["now"] = 2.0
        auto.checked -= threads.RECHECK_S  # time has passed
        auto.adapt()
        assert torch.get_num_threads() == 1 and said[-1].startswith("threads: 1 of 2 cores") and "(was 2)" in said[-1]
    finally:
        torch.set_num_threads(before)


def test_grid_workers_share_the_free_cores(monkeypatch):
    import ganaug.runner.executors as executors

    monkeypatch.setattr(threads, "decide", lambda: (4, "threads: 4"))
    seen = {}

    class Pool:
        def __init__(self, workers, mp_context, initializer, initargs):
            seen["initargs"] = initargs

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, cell, command, n):
            seen["threads"] = n
            from concurrent.futures import Future

            future = Future()
            future.set_result({"cell": cell})
            return future

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    grid = type("Grid", (), {"workers": 3})()
    executors.run_local(grid, [{"id": "a"}, {"id": "b"}], "cmd", lambda cell, result: None)
    assert seen["threads"] == 1 and seen["initargs"][1] == 1  # 4 free cores // 3 workers


def test_a_worker_ends_with_its_parent():
    """The initialiser's death signal: a grandchild running it dies when its parent is SIGKILLed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import os, sys, time; from ganaug.runner.executors import die_with_parent; "
            "die_with_parent(os.getppid(), 1); print('ready', flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, "
                               f"'-c', {code!r}]); print(p.pid, flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "ready"  # the child has set its death signal
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:  # gone, or a zombie waiting for whoever adopted it to reap it
            if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except OSError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the child outlived its SIGKILLed parent")
