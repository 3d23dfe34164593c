"""One grid cell, run (or resumed) in the calling process: what every executor runs, wherever it runs."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from ganaug.checkpoint import exclusive_lock, write_json
from ganaug.runner.tasks import TASKS


def run_cell(cell: dict, command: str) -> dict:
    """Run (or resume) one cell in this process; write and return its ``result.json``. Skips a finished cell."""
    folder = Path(cell["config"]["out"])
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "result.json"
    # One process per cell: a worker orphaned by a killed runner finishes its cell before a resumed runner starts
    # it again (the OS drops the lock when its holder dies).
    with exclusive_lock(folder / "lock"):
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
