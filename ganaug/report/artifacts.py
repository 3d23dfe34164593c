"""Reading the committed artifacts of docs/reports/ and the pieces every results table is made of: the provenance
line above a table (artifact, command, device, date, scale, wall time), markdown tables, paired differences."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ganaug.report.format import direction, interval, verdict

RENAMED = {"configs/augment-002.yaml": "configs/augment-gao-cifar10.yaml",  # configs renamed since the runs
           "configs/augment-003.yaml": "configs/augment-dcgan-study-cifar10.yaml",
           "configs/ssl-table3-": "configs/ssl-hu-table3-"}

def load(reports: Path, name: str) -> dict:
    return json.loads((reports / name).read_text())


def display_command(command: str) -> str:
    """The recorded command as a reader types it: renamed configs, ``--data-dir PATH``, no output folder."""
    for old, new in RENAMED.items():
        command = command.replace(old, new)
    command = re.sub(r"--data-dir \S+", "--data-dir PATH", command)
    return re.sub(r" --out \S+| --no-progress", "", command)


def provenance(reports: Path, artifact: str, data: dict | None = None) -> list[str]:
    """The line above a table: artifact, command, device, scale, wall time (the artifact's own record first)."""
    note = load(reports, "provenance.json")[artifact]
    data = data or {}
    command = display_command(data.get("command") or note["command"])
    wall = note.get("wall") or _seconds(data.get("timings", {}).get("total_seconds") or note.get("wall_s"))
    scale = note.get("scale") or (data.get("scale") or {}).get("name", "")
    return [f"*Artifact* `docs/reports/{artifact}` · `{command}` · trained on {note['device']} ({note['date']}) · "
            f"scale: {scale} · wall time: {wall}", ""]


def _seconds(s: float | None) -> str:
    return "not recorded" if s is None else f"{s:,.0f} s"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def paired(d: dict | None, metric: str | None = None) -> str:
    """``+1.2 [-0.3, +2.7] cannot tell``: a paired difference and its verdict."""
    if d is None:
        return "—"
    return interval(d, metric) + ("" if direction(d) is None else f" {verdict(d)}")
