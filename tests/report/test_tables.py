"""docs/results.md holds exactly the tables that ganaug.report.tables generates from the committed artifacts."""

import json
import re
from pathlib import Path

import pytest

from ganaug.report.artifacts import display_command
from ganaug.report.tables import MARKER, TABLES, fill, render

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "docs" / "reports"
RESULTS = (ROOT / "docs" / "results.md").read_text()
MARKED = {m["name"]: m["body"] for m in MARKER.finditer(RESULTS)}


@pytest.mark.parametrize("name", sorted(MARKED))
def test_each_table_equals_what_its_artifact_gives(name):
    assert MARKED[name] == render(REPORTS, name), (
        f"table {name!r} differs from its artifact: run `python -m ganaug.report.tables docs/reports --write "
        "docs/results.md` (and never edit a number by hand)")


def test_every_table_of_results_md_is_generated_and_every_generator_is_used():
    outside = MARKER.sub("", RESULTS)
    assert not [line for line in outside.splitlines() if line.startswith("|")], "a table outside the markers"
    assert set(MARKED) == set(TABLES)


def test_a_number_edited_by_hand_is_put_back():
    name = "augment-dcgan-study-cifar10-paired"
    edited = RESULTS.replace(MARKED[name], MARKED[name].replace("+1.4 [-3.8, +6.6]", "+2.4 [-3.8, +6.6]"))
    assert edited != RESULTS and fill(edited, REPORTS) == RESULTS


def test_every_table_names_where_it_trained():
    provenance = json.loads((REPORTS / "provenance.json").read_text())
    for name, body in MARKED.items():
        artifact = re.search(r"\*Artifact\* `docs/reports/([^`]+)`", body)
        if artifact:  # tables that continue the one above share its artifact line
            assert (REPORTS / artifact[1]).exists() and artifact[1] in provenance, name
            assert " · trained on " in body and " · wall time: " in body


def test_the_gpu_runs_say_so():
    body = MARKED["ssl-hu-table3-mnist"]
    assert "NVIDIA H100 GPU" in body and json.loads((REPORTS / "ssl-hu-table3-mnist.metrics.json").read_text())[
        "device"] == "cpu"


def test_recorded_commands_are_shown_as_a_reader_types_them():
    assert display_command("ganaug augment --config configs/augment-002.yaml --data-dir /x/datasets --out /tmp/a "
                           "--no-progress") == "ganaug augment --config configs/augment-gao-cifar10.yaml --data-dir PATH"


def test_grid_columns_follow_the_grid_axes_whatever_order_a_row_stores_them(tmp_path):
    from ganaug.report.tables import grid

    row = {"axes": {"b": "x", "a": "1"}, "repeats": [0, 1], "metrics": {"accuracy": {"mean": 0.5, "std": 0.1}}}
    (tmp_path / "g.results.json").write_text(json.dumps({"axes": ["a", "b"], "table": [row]}))
    (tmp_path / "provenance.json").write_text(json.dumps({"g.results.json": {"command": "c", "device": "d", "date": "2026-12-03"}}))
    lines = grid(tmp_path, "g.results.json")
    header, rows = lines[-3], lines[-1]
    assert header.startswith("| a | b | n |") and rows.startswith("| 1 | x | 2 |")


def test_a_lower_is_better_metric_gets_its_own_difference_column_said_as_higher_or_lower(tmp_path):
    from ganaug.report.tables import grid

    diff = lambda mean, low, high: {"mean": mean, "n": 3, "confidence": 0.95, "low": low, "high": high}  # noqa: E731
    metrics = {"class_consistency": {"mean": 0.2, "std": 0.01}, "fid": {"mean": 40.0, "std": 2.0}}
    rows = [{"axes": {"g": "a"}, "repeats": [0, 1, 2], "metrics": metrics},
            {"axes": {"g": "b"}, "repeats": [0, 1, 2], "metrics": metrics,
             "vs_baseline": {"class_consistency": diff(-0.05, -0.08, -0.02), "fid": diff(12.0, 4.0, 20.0)}}]
    (tmp_path / "g.results.json").write_text(json.dumps({"axes": ["g"], "table": rows}))
    (tmp_path / "provenance.json").write_text(json.dumps({"g.results.json": {"command": "c", "device": "d", "date": "2026-12-04"}}))
    lines = grid(tmp_path, "g.results.json", also=("fid",))
    assert lines[-4].endswith("| Δ class consistency vs baseline | Δ FID (small-cnn features) |")
    assert lines[-2].startswith("| a |") and lines[-2].endswith("| baseline | baseline |")
    assert lines[-1].endswith("| -5.0 [-8.0, -2.0] **did not help** (it hurt) | +12 [+4, +20] higher |")


def test_a_table_whose_artifact_is_missing_shows_its_command_and_no_number(tmp_path, monkeypatch):
    import ganaug.report.tables as T

    monkeypatch.setitem(T.PENDING, "smoke-grid", ("smoke-grid.results.json", "ganaug run configs/smoke-grid.yaml", "8 cells"))
    body = render(tmp_path, "smoke-grid")  # tmp_path holds no artifact
    assert body.startswith("*No artifact committed yet* (`docs/reports/smoke-grid.results.json`)")
    assert "ganaug run configs/smoke-grid.yaml" in body and "|" not in body  # no table, so no number
    assert render(REPORTS, "smoke-grid") == MARKED["smoke-grid"]  # with its artifact: the table
