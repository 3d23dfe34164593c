"""The experiment scaffold: the validation split (own or cut), the run folder's resume check, timings; and the one
summary over repeats every study writes (both metrics.json layouts keep their old keys)."""

import json

import numpy as np
import pytest
from scipy import stats

from ganaug.config import ConfigError, DemoConfig
from ganaug.data import load_dataset
from ganaug.data.dataset import DatasetSplits
from ganaug.experiments.common import compare, summarize
from ganaug.experiments.run import Run, hold_out_validation


def test_validation_is_the_datasets_own_split_or_a_seeded_cut():
    data = load_dataset("digits")
    cut = hold_out_validation(data, 0.2, seed=0)
    assert not cut.own_val and cut.test is data.test
    assert len(cut.train) + len(cut.val) == len(data.train)
    assert not set(cut.train.indices.tolist()) & set(cut.val.indices.tolist())
    assert cut.val.indices.tolist() == hold_out_validation(data, 0.2, seed=0).val.indices.tolist()

    own = hold_out_validation(DatasetSplits(data.train, data.test, val=data.test), 0.2, seed=0)
    assert own.own_val and own.train is data.train and own.val is data.test

    capped = hold_out_validation(data, 0.2, seed=0, shrink=lambda ds: ds.subset(np.arange(100)))
    assert len(capped.train) + len(capped.val) == 100


def test_a_run_writes_nothing_until_claimed_and_refuses_another_config_once_it_computed(tmp_path):
    out = tmp_path / "run"
    run = Run(DemoConfig(out=str(out), device="cpu"))
    assert not out.exists() and str(run.device) == "cpu"
    run.claim()
    assert (out / "config.yaml").is_file()
    Run(DemoConfig(out=str(out), seed=1)).claim()  # nothing computed yet: the corrected config is taken
    run.write_json("metrics.json", {"accuracy": 0.5})
    with pytest.raises(ConfigError, match=r"different config \(seed\)"):
        Run(DemoConfig(out=str(out), seed=2)).claim()
    Run(DemoConfig(out=str(out), seed=2)).claim(resume_check=False)  # an evaluation recomputed on every run
    assert json.loads((out / "metrics.json").read_text()) == {"accuracy": 0.5}


def test_a_file_as_the_run_folder_fails_before_anything_is_written(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        Run(DemoConfig(out=str(tmp_path / "f")))


def test_timings_record_each_block_and_the_total(tmp_path):
    run = Run(DemoConfig(out=str(tmp_path)))
    with run.timed("step_seconds"):
        pass
    t = run.elapsed()
    assert set(t) == {"step_seconds", "total_seconds"} and 0 <= t["step_seconds"] <= t["total_seconds"]


def runs(values: list[float], k: int = 2) -> list[dict]:
    return [{"accuracy": v, "balanced_accuracy": v, "macro_f1": v, "auc": v, "per_class_auc": [v, None],
             "per_class_recall": [v] * k, "confusion_matrix": [[1, 0], [0, 1]], "fid": None} for v in values]


def test_summary_gives_mean_std_n_and_the_t_interval_of_the_mean():
    values = [0.5, 0.6, 0.8]
    s = summarize(runs(values))
    m = s["metrics"]["accuracy"]
    ci = stats.ttest_1samp(values, 0).confidence_interval(0.95)
    assert m["mean"] == pytest.approx(np.mean(values)) and m["std"] == pytest.approx(np.std(values, ddof=1))
    assert m["n"] == 3 and m["runs"] == values
    assert (m["low"], m["high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert summarize(runs([0.5, 0.6]))["metrics"]["accuracy"]["low"] is None  # too few seeds for an interval


def test_flat_summary_keeps_the_demo_and_augment_keys():
    s = summarize(runs([0.5, 0.7]))
    assert {"accuracy", "balanced_accuracy", "macro_f1", "auc", "std", "per_class_recall", "per_class_recall_std",
            "per_class_auc", "confusion_matrix", "repeats", "runs", "metrics"} <= set(s)
    assert s["accuracy"] == pytest.approx(0.6) and s["std"]["accuracy"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert s["per_class_auc"] == [pytest.approx(0.6), None] and s["confusion_matrix"] == [[2, 0], [0, 2]]
    assert s["runs"][0] == {"accuracy": 0.5, "balanced_accuracy": 0.5, "macro_f1": 0.5, "auc": 0.5,
                            "per_class_recall": [0.5, 0.5]}


def test_nested_summary_keeps_the_ssl_keys():
    s = summarize(runs([0.5, 0.7]), ("accuracy", "fid"), layout="nested")
    assert s["accuracy"]["mean"] == pytest.approx(0.6) and s["accuracy"]["runs"] == [0.5, 0.7]
    assert s["fid"] is None and s["accuracy"] is s["metrics"]["accuracy"] and s["repeats"] == 2


def test_compare_pairs_by_seed_overall_and_per_class():
    d = compare(runs([0.6, 0.7, 0.9]), runs([0.5, 0.5, 0.6]), 2)
    assert d["accuracy"]["mean"] == pytest.approx(0.2) and d["accuracy"]["n"] == 3
    assert len(d["per_class_recall"]) == 2 and d["per_class_recall"][0]["mean"] == pytest.approx(0.2)
