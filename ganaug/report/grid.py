"""The aggregated table of a grid (``ganaug results``), on the terminal and as markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ganaug.config.keys import flatten
from ganaug.metrics.classification import MIN_SEEDS  # no interval below it: with 2 seeds a t-interval is +-12.7 SE
from ganaug.report.format import direction, interval, is_fraction, number, verdict

WIDTH = 100  # columns of `ganaug results` without --wide
GENERATOR = "uses_generator"  # a cell's scalar: 1 for an arm (or method) that trains on generated images, else 0


def direction_word(diff: dict) -> str:
    """"higher" / "lower" when the 95 % interval excludes 0, else "cannot tell" (always, with too few seeds)."""
    way = direction(diff)
    return "cannot tell" if way in (None, "unclear") else way


def axis_value(value: Any) -> str:
    """A grid axis value in a few words: ``ada.enabled=true, lecam.enabled=true`` for a layer of keys (``none`` for
    an empty one), ``0.2, 0.5`` for a list, else the value itself."""
    if isinstance(value, dict):
        flat = flatten(value)
        return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in flat.items()) or "none"
    if isinstance(value, list):
        return ", ".join(map(axis_value, value))
    return str(value)


def table_columns(data: dict[str, Any]) -> list[tuple[str, list[str], bool]]:
    """(header, cells, is a metric) per column: the axes, the arm, n, ``mean ± std`` per metric, the comparison."""
    entries, axes = data["table"], data["axes"]
    names = [m for m in dict.fromkeys(m for e in entries for m in e["metrics"]) if m != GENERATOR]
    compared = list(dict.fromkeys(m for e in entries for m in e.get("vs_baseline", {})))
    columns = [(a, [axis_value(e["axes"].get(a)) for e in entries], False) for a in axes]
    if any(e["arm"] for e in entries):
        columns.append(("arm", [e["arm"] for e in entries], False))
    columns.append(("n", [str(len(e["repeats"])) for e in entries], False))
    for m in names:
        cells = [f"{number(s['mean'], m)} ± {number(s['std'], m)}" if (s := e["metrics"].get(m)) else "" for e in entries]
        columns.append((f"{m} (%)" if is_fraction(m) else m, cells, True))
    for m in compared[:1]:
        cells = []
        for e in entries:
            d = e.get("vs_baseline", {}).get(m)
            too_few = d is not None and (d["low"] is None or d["n"] < MIN_SEEDS)
            cells.append("baseline" if d is None else interval(d, m) + ("" if too_few else f" {direction_word(d)}"))
        columns.append((f"Δ {m}" + (" (points)" if is_fraction(m) else ""), cells, False))
    if any("vs_best_remedy" in e for e in entries):
        cells = [f"{interval(v['difference'], v['metric'])} vs {label(v['best'])}" if (v := e.get("vs_best_remedy"))
                 else "" for e in entries]
        columns.append(("Δ vs best without GAN", cells, False))
    return columns


def label(group: dict) -> str:
    """An (axes, arm) group in a few words: its arm, else its axis values."""
    return group["arm"] or "; ".join(map(axis_value, group["axes"].values()))


def best_remedy_lines(data: dict[str, Any]) -> list[str]:
    """The grid report's first answer: does each group with generated images beat the best group without them
    (chosen on the validation split, never test), paired by repeat? Empty when no group uses generated images."""
    compared = [e for e in data["table"] if "vs_best_remedy" in e]
    if not compared:
        return []
    lines = ["**Do generated images add anything over the best remedy without them?** Each group with generated "
             "images against the group without them that scored best on the validation split (same other axes), "
             "paired by repeat on the test split:", ""]
    for e in compared:
        v = e["vs_best_remedy"]
        where = "; ".join(f"{k}={axis_value(x)}" for k, x in e["axes"].items())
        lines.append(f"- {label(e)}{f' ({where})' if where and e['arm'] else ''} vs {label(v['best'])} "
                     f"(validation {number(v['selected_value'], v['metric'])}): {verdict(v['difference'])}, "
                     f"{interval(v['difference'], v['metric'])} ({v['metric']}, points)")
    return lines + [""]


def table_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per (axes, arm) group, ``mean ± std`` per metric, then the baseline comparison."""
    columns = table_columns(data)
    return [h for h, _, _ in columns], [list(row) for row in zip(*(cells for _, cells, _ in columns))]


def fit(columns: list[tuple[str, list[str], bool]], width: int) -> tuple[list[int], list[str]]:
    """The columns that fit in ``width`` characters (every non-metric column, then metrics in order up to the first
    that does not fit), and the names of the metrics left out."""
    def size(i: int) -> int:  # rich's box: a separator and a space either side of each column
        header, cells, _ = columns[i]
        return max([len(header), *map(len, cells)]) + 3

    keep = [i for i, c in enumerate(columns) if not c[2]]
    used = 1 + sum(size(i) for i in keep)
    left_out = []
    for i, (header, _, is_metric) in enumerate(columns):
        if is_metric:
            if not left_out and used + size(i) <= width:
                keep.append(i)
                used += size(i)
            else:
                left_out.append(header.removesuffix(" (%)"))
    return sorted(keep), left_out


def results_table(data: dict[str, Any], console: Console | None = None, wide: bool = False, width: int = WIDTH) -> None:
    """Print the aggregated table with rich, in ``width`` columns (``wide``: every metric, as wide as it takes)."""
    columns = table_columns(data)
    keep, left_out = (list(range(len(columns))), []) if wide else fit(columns, width)
    table = Table(title=f"{data['run_dir']}: {data['task']}, {data['cells_finished']} cells finished", show_lines=False)
    for i in keep:
        table.add_column(columns[i][0])
    for row in zip(*(columns[i][1] for i in keep)):
        table.add_row(*row)
    needed = 1 + sum(max([len(columns[i][0]), *map(len, columns[i][1])]) + 3 for i in keep)
    console = console or Console(width=max(Console().width, needed) if wide else width)
    console.print(table)
    baseline = ", ".join(f"{k}={v}" for k, v in (data.get("baseline") or {}).items()) or "none"
    notes = [f"mean ± std over repeats; Δ: paired difference to {baseline}, 95 % interval (from {MIN_SEEDS} seeds)"]
    if left_out:
        notes.append(f"not shown: {', '.join(left_out)}; --wide shows all")
    for note in notes:
        console.print(note, highlight=False, markup=False)


def results_markdown(data: dict[str, Any]) -> str:
    header, rows = table_rows(data)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def group_bars(data: dict[str, Any], metric: str, path: Path) -> Path:
    """Mean ± std of ``metric`` per group (axes and arm), baseline groups hatched."""
    from ganaug.report.figures import _save, subplots

    entries = [e for e in data["table"] if metric in e["metrics"]]
    labels = ["; ".join([*map(axis_value, e["axes"].values()), *([e["arm"]] if e["arm"] else [])]) for e in entries]
    fig, ax = subplots(figsize=(max(4.0, 0.7 * len(entries) + 2), 3.6))
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
    names = [m for m in dict.fromkeys(m for e in data["table"] for m in e["metrics"]) if m != GENERATOR]
    baseline = ", ".join(f"{k}={v}" for k, v in (data["baseline"] or {}).items()) or "none"
    md = [f"# Grid: {data['task']}, {data['cells_finished']} cells", "", *best_remedy_lines(data),
          "Mean ± std over repeats (n), in percent for accuracies and other fractions; the last column is the "
          f"paired difference to the baseline ({baseline}) over repeats with the same seed "
          f"(points for fractions), with its 95 % t-interval: *higher* or *lower* only where the interval excludes "
          f"0, and no interval with fewer than {MIN_SEEDS} seeds.", "", results_markdown(data), ""]
    for metric in names[:4]:
        group_bars(data, metric, run_dir / "figures" / f"{metric}.png")
        md += [f"![{metric}](figures/{metric}.png)", ""]
    md += ["## Reproduce", "", "```", command, f"ganaug results {run_dir}", "```", "",
           "## Cells", "", *(f"- [{c.name}](cells/{c.name}/report.html)" for c in sorted(run_dir.glob("cells/*"))
                            if (c / "report.html").exists())]
    return write_report(run_dir, "\n".join(md) + "\n", f"ganaug grid {data['task']}")
