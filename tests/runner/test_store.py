"""The results store: rows survive a reopen, sync rebuilds from result.json, aggregation is exact."""

import json

import numpy as np
import pytest
from scipy import stats

from ganaug.runner.store import ResultsStore, aggregate


def cell(cell_id, axes, repeat):
    return {"id": cell_id, "task": "ssl", "axes": axes, "repeat": repeat, "seed": repeat, "code_version": "test"}


def result(acc, arm=""):
    return {"scalars": {arm: {"accuracy": acc}}, "seconds": 1.0, "finished": "now", "report": "r.html"}


def test_store_round_trip_and_replace(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.add(cell("a", {"alg": "x"}, 0), result(0.5))
    store.add(cell("a", {"alg": "x"}, 0), result(0.75))  # a re-added cell replaces its rows
    rows = ResultsStore(tmp_path / "results.sqlite").rows()
    assert rows == [{"cell": "a", "arm": "", "axes": {"alg": "x"}, "repeat": 0, "seed": 0, "metrics": {"accuracy": 0.75}}]


def test_sync_adds_finished_cells_only(tmp_path):
    for name, done in (("a", True), ("b", False)):
        folder = tmp_path / "cells" / name
        folder.mkdir(parents=True)
        (folder / "cell.json").write_text(json.dumps(cell(name, {"alg": name}, 0)))
        if done:
            (folder / "result.json").write_text(json.dumps(result(0.9)))
    store = ResultsStore(tmp_path / "results.sqlite")
    assert store.sync(sorted((tmp_path / "cells").iterdir())) == 1
    assert store.sync(sorted((tmp_path / "cells").iterdir())) == 0
    assert store.cell_ids() == {"a"}


def test_aggregate_mean_std_and_paired_interval():
    base = [0.80, 0.82, 0.79, 0.85]
    treat = [0.83, 0.86, 0.80, 0.90]
    rows = [{"cell": f"b{r}", "arm": "", "axes": {"alg": "base", "k": 1}, "repeat": r, "seed": r,
             "metrics": {"accuracy": v}} for r, v in enumerate(base)]
    rows += [{"cell": f"t{r}", "arm": "", "axes": {"alg": "new", "k": 1}, "repeat": r, "seed": r,
              "metrics": {"accuracy": v}} for r, v in enumerate(treat)]
    table = {e["axes"]["alg"]: e for e in aggregate(rows, {"alg": "base"})}
    assert table["new"]["metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(treat))
    assert table["new"]["metrics"]["accuracy"]["std"] == pytest.approx(np.std(treat, ddof=1))
    d = np.subtract(treat, base)
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    diff = table["new"]["vs_baseline"]["accuracy"]
    assert diff["mean"] == pytest.approx(d.mean())
    assert (diff["low"], diff["high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert "vs_baseline" not in table["base"]  # the baseline is not compared with itself


def test_aggregate_pairs_by_repeat_and_by_arm():
    rows = [{"cell": f"c{r}", "arm": arm, "axes": {"ratio": 0.5}, "repeat": r, "seed": r,
             "metrics": {"accuracy": v + r}} for r in range(3) for arm, v in (("baseline", 0.0), ("exp1", 0.1))]
    rows.pop()  # exp1 lacks repeat 2: only repeats both groups have are paired
    table = {e["arm"]: e for e in aggregate(rows, {"arm": "baseline"})}
    diff = table["exp1"]["vs_baseline"]["accuracy"]
    assert diff["n"] == 2 and diff["mean"] == pytest.approx(0.1)
