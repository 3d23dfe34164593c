"""The aggregated table of a grid (``ganaug results``), on the terminal and as markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def interval(diff: dict) -> str:
    """``+0.012 [-0.003, +0.027]`` in the metric's own units, or ``+0.012 (too few seeds ...)``."""
    if diff["low"] is None:
        return f"{diff['mean']:+.3g} ({diff.get('note') or 'no interval'})"
    return f"{diff['mean']:+.3g} [{diff['low']:+.3g}, {diff['high']:+.3g}]"


def verdict(diff: dict) -> str:
    """"higher" / "lower" when the 95 % interval excludes 0, else "cannot tell"."""
    if diff["low"] is None:
        return "cannot tell"
    return "higher" if diff["low"] > 0 else "lower" if diff["high"] < 0 else "cannot tell"


def table_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per (axes, arm) group, ``mean ± std (n)`` per metric, then the baseline comparison."""
    axes = data["axes"]
    has_arms = any(e["arm"] for e in data["table"])
    names = list(dict.fromkeys(m for e in data["table"] for m in e["metrics"]))
    compared = list(dict.fromkeys(m for e in data["table"] for m in e.get("vs_baseline", {})))
    header = [*axes, *(["arm"] if has_arms else []), "n", *names, *(f"Δ {m} vs baseline" for m in compared[:1])]
    rows = []
    for e in data["table"]:
        row = [str(e["axes"].get(a)) for a in axes] + ([e["arm"]] if has_arms else []) + [str(len(e["repeats"]))]
        for m in names:
            s = e["metrics"].get(m)
            row.append("" if s is None else f"{s['mean']:.4g} ± {s['std']:.2g}")
        for m in compared[:1]:
            d = e.get("vs_baseline", {}).get(m)
            row.append("baseline" if d is None else f"{interval(d)} {verdict(d)}")
        rows.append(row)
    return header, rows


def results_table(data: dict[str, Any], console: Console | None = None) -> None:
    """Print the aggregated table with rich."""
    header, rows = table_rows(data)
    table = Table(title=f"{data['run_dir']}: {data['task']}, {data['cells_finished']} cells finished", show_lines=False)
    for h in header:
        table.add_column(h)
    for row in rows:
        table.add_row(*row)
    (console or Console(width=max(Console().width, 160))).print(table)


def results_markdown(data: dict[str, Any]) -> str:
    header, rows = table_rows(data)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def group_bars(data: dict[str, Any], metric: str, path: Path) -> Path:
    """Mean ± std of ``metric`` per group (axes and arm), baseline groups hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganaug.report.figures import _save

    entries = [e for e in data["table"] if metric in e["metrics"]]
    labels = [", ".join([*map(str, e["axes"].values()), *([e["arm"]] if e["arm"] else [])]) for e in entries]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(entries) + 2), 3.6))
    means = [e["metrics"][metric]["mean"] for e in entries]
    stds = [e["metrics"][metric]["std"] for e in entries]
    bars = ax.bar(range(len(entries)), means, yerr=stds, capsize=3, color="#4c72b0")
    for bar, e in zip(bars, entries):
        if "vs_baseline" not in e and data["baseline"]:
            bar.set_hatch("//"), bar.set_facecolor("#bbbbbb")
    ax.set_xticks(range(len(entries)), labels, rotation=30, ha="right", fontsize=8)
    if means:  # zoom to the bars: differences of a point are what a grid is about
        low, high = min(m - s for m, s in zip(means, stds)), max(m + s for m, s in zip(means, stds))
        pad = 0.1 * (high - low) + 1e-3
        ax.set_ylim(max(0.0, low - pad) if low >= 0 else low - pad, high + pad)
    ax.set(ylabel=f"{metric} (mean ± std)", title=f"{metric} per group")
    fig.tight_layout()
    return _save(fig, path)


def write_grid_report(data: dict[str, Any], run_dir: Path, command: str) -> Path:
    """``RUN_DIR/report.md`` and the self-contained ``report.html``: the table, a bar chart per metric, every cell's
    report, and the commands that reproduce it."""
    from ganaug.report.html import write_report

    run_dir = Path(run_dir)
    names = list(dict.fromkeys(m for e in data["table"] for m in e["metrics"]))
    md = [f"# Grid: {data['task']}, {data['cells_finished']} cells", "",
          "Mean ± std over repeats (n); the last column is the paired difference to the baseline "
          f"({data['baseline'] or 'none'}) over repeats with the same seed, with its 95 % t-interval: "
          "*higher* or *lower* only where the interval excludes 0.", "", results_markdown(data), ""]
    for metric in names[:4]:
        group_bars(data, metric, run_dir / "figures" / f"{metric}.png")
        md += [f"![{metric}](figures/{metric}.png)", ""]
    md += ["## Reproduce", "", "```", command, f"ganaug results {run_dir}", "```", "",
           "## Cells", "", *(f"- [{c.name}](cells/{c.name}/report.html)" for c in sorted(run_dir.glob("cells/*"))
                            if (c / "report.html").exists())]
    return write_report(run_dir, "\n".join(md) + "\n", f"ganaug grid {data['task']}")
