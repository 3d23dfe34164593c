"""The results store: rows survive a reopen, sync rebuilds from result.json, aggregation is exact."""

import json

import numpy as np
import pytest
from scipy import stats

from ganaug.runner.store import ResultsStore, aggregate, versus_best_remedy


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


def augment_rows(test: dict[str, list[float]], val: dict[str, float], ratio: float = 0.5) -> list[dict]:
    """Rows of an augment grid cell per repeat: arms with test and validation balanced accuracy."""
    return [{"cell": f"{ratio}-{r}", "arm": arm, "axes": {"ratio": ratio}, "repeat": r, "seed": r,
             "metrics": {"balanced_accuracy": values[r], "val_balanced_accuracy": val[arm],
                         "uses_generator": float(arm.startswith("exp1"))}}
            for arm, values in test.items() for r in range(len(values))]


def test_best_remedy_is_chosen_on_validation_and_paired_by_repeat():
    # mixup has the best test score but logit-adjusted the best validation score: the choice must follow validation
    test = {"baseline": [0.50, 0.52, 0.51], "mixup": [0.70, 0.71, 0.72], "logit-adjusted": [0.60, 0.63, 0.61],
            "exp1": [0.62, 0.66, 0.62]}
    val = {"baseline": 0.5, "mixup": 0.55, "logit-adjusted": 0.65, "exp1": 0.9}
    rows = augment_rows(test, val) + augment_rows({k: [x - 0.1 for x in v] for k, v in test.items()},
                                                  {**val, "mixup": 0.99}, ratio=1.0)
    table = aggregate(rows, {"arm": "baseline"})
    versus_best_remedy(table, rows, {"arm"}, "balanced_accuracy", "val_balanced_accuracy")
    by = {(e["axes"]["ratio"], e["arm"]): e for e in table}
    v = by[(0.5, "exp1")]["vs_best_remedy"]
    assert v["best"]["arm"] == "logit-adjusted" and v["selected_value"] == pytest.approx(0.65)
    assert v["difference"]["mean"] == pytest.approx(np.mean([0.02, 0.03, 0.01]))
    assert by[(1.0, "exp1")]["vs_best_remedy"]["best"]["arm"] == "mixup"  # each ratio chooses on its own
    assert all("vs_best_remedy" not in e for e in table if e["arm"] != "exp1")  # only arms with generated images


def test_best_remedy_across_an_axis_that_names_the_method():
    # an SSL-like grid: the method is the `algorithms` axis (the baseline's key), `labeled` is a setting
    rows = [{"cell": f"{a}{n}{r}", "arm": "", "axes": {"algorithms": a, "labeled": n}, "repeat": r, "seed": r,
             "metrics": {"accuracy": acc + 0.01 * r, "val_accuracy": val, "uses_generator": float(a == "gan")}}
            for n in (100, 1000) for r in range(3)
            for a, acc, val in (("supervised", 0.8, 0.8), ("fixmatch", 0.9, 0.9), ("gan", 0.85 + n / 1e4, 0.7))]
    table = aggregate(rows, {"algorithms": "supervised"})
    versus_best_remedy(table, rows, {"algorithms"}, "accuracy", "val_accuracy")
    gan = {e["axes"]["labeled"]: e["vs_best_remedy"] for e in table if e["axes"]["algorithms"] == "gan"}
    assert gan[100]["best"]["axes"] == {"algorithms": "fixmatch", "labeled": 100}
    assert gan[100]["difference"]["mean"] == pytest.approx(-0.04)
    assert gan[1000]["difference"]["mean"] == pytest.approx(0.05)
