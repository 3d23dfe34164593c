"""The grid's table and report: verdicts from intervals, rows in order, a self-contained HTML page."""

from rich.console import Console

from ganaug.report.grid import direction_word, results_table, table_rows, write_grid_report


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
    assert direction_word(diff(0.03, 0.01, 0.05)) == "higher"
    assert direction_word(diff(-0.03, -0.05, -0.01)) == "lower"
    assert direction_word(diff(0.01, -0.01, 0.03)) == "cannot tell"
    assert direction_word(diff(0.01, None, None, n=1)) == "cannot tell"


def test_table_rows_have_one_row_per_group_and_the_comparison():
    header, rows = table_rows(DATA)
    assert header == ["algorithms", "n", "accuracy (%)", "Δ accuracy (points)"]
    assert rows[0] == ["supervised", "3", "90.0 ± 1.0", "baseline"]
    assert rows[1][-1] == "+3.0 [+1.0, +5.0] higher"


def test_fewer_than_three_seeds_give_no_interval_and_no_direction_word():
    """With 2 seeds a t-interval is 12.7 standard errors wide (the ±140 points of issue 12): never shown as certain."""
    data = {**DATA, "table": [DATA["table"][0], {**DATA["table"][1], "repeats": [0, 1],
                                                 "vs_baseline": {"accuracy": diff(0.03, 0.029, 0.031, n=2)}}]}
    assert direction_word(diff(0.03, 0.029, 0.031, n=2)) == "cannot tell"
    assert table_rows(data)[1][1][-1] == "+3.0 (n=2, too few seeds)"


def wide_data(metrics: int) -> dict:
    names = ["accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall", "roc_auc", "fid", "kid"]
    entries = [{"axes": {"algorithms": a, "labeled": 0.1}, "arm": "", "repeats": [0, 1, 2],
                "metrics": {m: {"mean": 0.912345, "std": 0.0123, "n": 3} for m in names[:metrics]}}
               for a in ("supervised", "triple-gan-attn")]
    entries[1]["vs_baseline"] = {m: diff(0.0312, 0.0101, 0.0523) for m in names[:metrics]}
    return {**DATA, "axes": ["algorithms", "labeled"], "table": entries}


def test_results_fit_100_columns_and_wide_shows_every_metric():
    console = Console(record=True, width=100)
    results_table(wide_data(8), console)
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 100
    assert "accuracy (%)" in text and "+3.1 [+1.0, +5.2] higher" in text and "triple-gan-attn" in text
    shown, hidden = text.split("not shown: ")
    assert "balanced_accuracy (%)" in shown and "macro_f1" not in shown  # in the grid's order, up to the first too wide
    assert "macro_f1" in hidden and "kid" in hidden and "--wide" in hidden
    console = Console(record=True, width=300)
    results_table(wide_data(8), console, wide=True)
    text = console.export_text()
    assert all(f"{m}" in text for m in ("macro_recall (%)", "roc_auc (%)", "fid", "kid")) and "not shown" not in text
    assert max(map(len, text.splitlines())) > 100


def test_results_table_prints_every_group():
    console = Console(record=True, width=200)
    results_table(DATA, console)
    text = console.export_text()
    assert "semi-cnn" in text and "supervised" in text and "higher" in text


def test_grid_report_is_self_contained(tmp_path):
    page = write_grid_report(DATA, tmp_path, "ganaug run grid.yaml").read_text()
    assert "<table>" in page and "data:image/png;base64," in page
    assert "ganaug run grid.yaml" in page and 'src="figures/' not in page


def test_best_remedy_column_and_first_answer():
    data = {**DATA, "axes": [], "baseline": {"arm": "baseline"}, "table": [
        {"axes": {}, "arm": "baseline", "repeats": [0, 1, 2], "metrics": {"balanced_accuracy": {"mean": 0.5, "std": 0.01,
                                                                                               "n": 3}}},
        {"axes": {}, "arm": "exp1", "repeats": [0, 1, 2],
         "metrics": {"balanced_accuracy": {"mean": 0.52, "std": 0.01, "n": 3},
                     "uses_generator": {"mean": 1.0, "std": 0.0, "n": 3}},
         "vs_baseline": {"balanced_accuracy": diff(0.02, 0.01, 0.03)},
         "vs_best_remedy": {"best": {"axes": {}, "arm": "mixup"}, "metric": "balanced_accuracy", "selected_value": 0.6,
                            "chosen_by": "mean val_balanced_accuracy over repeats",
                            "difference": diff(-0.04, -0.06, -0.02)}}]}
    header, rows = table_rows(data)
    assert "uses_generator" not in " ".join(header)  # a bookkeeping scalar, not a metric to show
    assert header[-1] == "Δ vs best without GAN" and rows[1][-1] == "-4.0 [-6.0, -2.0] vs mixup" and rows[0][-1] == ""
    from ganaug.report.grid import best_remedy_lines

    lines = best_remedy_lines(data)
    assert lines[0].startswith("**Do generated images add anything over the best remedy without them?**")
    assert "exp1 vs mixup (validation 60.0): **did not help** (it hurt), -4.0 [-6.0, -2.0]" in lines[2]
    assert best_remedy_lines(DATA) == []  # no group uses generated images: no such question


def test_axis_values_read_as_words_not_python_reprs():
    from ganaug.report.grid import axis_value

    assert axis_value({}) == "none"
    assert axis_value({"ada": {"enabled": True}, "lecam": {"enabled": True}}) == "ada.enabled=true, lecam.enabled=true"
    assert axis_value([0.2, 0.5]) == "0.2, 0.5" and axis_value("cdcgan") == "cdcgan"
