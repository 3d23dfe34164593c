"""The grid's table and report: verdicts from intervals, rows in order, a self-contained HTML page."""

from rich.console import Console

from ganaug.report.grid import results_table, table_rows, verdict, write_grid_report


def diff(mean, low, high, n=3):
    return {"mean": mean, "low": low, "high": high, "n": n, "confidence": 0.95}


DATA = {
    "run_dir": "runs/x", "task": "ssl", "axes": ["algorithms"], "baseline": {"algorithms": "supervised"},
    "cells_finished": 6,
    "table": [
        {"axes": {"algorithms": "supervised"}, "arm": "", "repeats": [0, 1, 2],
         "metrics": {"accuracy": {"mean": 0.9, "std": 0.01, "n": 3}}},
        {"axes": {"algorithms": "semi-cnn"}, "arm": "", "repeats": [0, 1, 2],
         "metrics": {"accuracy": {"mean": 0.93, "std": 0.01, "n": 3}},
         "vs_baseline": {"accuracy": diff(0.03, 0.01, 0.05)}},
    ],
}


def test_verdict_reads_the_interval():
    assert verdict(diff(0.03, 0.01, 0.05)) == "higher"
    assert verdict(diff(-0.03, -0.05, -0.01)) == "lower"
    assert verdict(diff(0.01, -0.01, 0.03)) == "cannot tell"
    assert verdict(diff(0.01, None, None, n=1)) == "cannot tell"


def test_table_rows_have_one_row_per_group_and_the_comparison():
    header, rows = table_rows(DATA)
    assert header == ["algorithms", "n", "accuracy", "Δ accuracy vs baseline"]
    assert rows[0] == ["supervised", "3", "0.9 ± 0.01", "baseline"]
    assert rows[1][-1] == "+0.03 [+0.01, +0.05] higher"


def test_results_table_prints_every_group():
    console = Console(record=True, width=200)
    results_table(DATA, console)
    text = console.export_text()
    assert "semi-cnn" in text and "supervised" in text and "higher" in text


def test_grid_report_is_self_contained(tmp_path):
    page = write_grid_report(DATA, tmp_path, "ganaug run grid.yaml").read_text()
    assert "<table>" in page and "data:image/png;base64," in page
    assert "ganaug run grid.yaml" in page and 'src="figures/' not in page
