"""``ganaug ssl`` end to end on real digits (and a folder tree made from them); bad labelled amounts."""

import json
import os

import pytest
from typer.testing import CliRunner

from ganaug.cli import app
from ganaug.config import ConfigError, SSLConfig
from ganaug.data import load_dataset
from ganaug.data.export import write_image_folder
from ganaug.experiments.ssl import label_tag, labeled_counts, run_ssl
from ganaug.names import check_names

TINY = ["--steps", "20", "--set", "eval_every=10", "--set", "generated_per_class=10", "--set", "judge.steps=20",
        "--set", "width=8", "--set", "options.triple-gan-attn.g_width=32", "--set", "options.triple-gan-attn.d_width=32"]


def ssl(*args, cwd):
    """``ganaug ssl --no-progress ARGS`` from ``cwd``, in-process (CliRunner: the exit code and stderr of the
    command line, without a python+torch start per run; tests/test_cli.py keeps a subprocess test of the entry
    point)."""
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, ["ssl", "--no-progress", *args])
    finally:
        os.chdir(here)


def test_labeled_counts_fraction_and_total():
    assert labeled_counts(0.1, [100, 50, 7], ["a", "b", "c"]) == [10, 5, 1]
    assert labeled_counts(21, [100, 50, 7], ["a", "b", "c"]) == [7, 7, 7]
    assert labeled_counts(1.0, [4, 5], ["a", "b"]) == [4, 5]
    assert label_tag(0.1) == "10%" and label_tag(100) == "100 labels"


@pytest.mark.parametrize("value,message", [
    (0.0, "expected a fraction in \\(0, 1\\]"),
    (-2, "expected a fraction"),
    (0.02, "class 'c' would get no labelled image .*has 7 training images"),
    (31, "whole multiple of the 3 classes"),
    (45, "class 'c' needs 15 labelled images, but the training split has only 7"),
])
def test_labeled_counts_errors_name_the_problem(value, message):
    with pytest.raises(ConfigError, match=message):
        labeled_counts(value, [100, 50, 7], ["a", "b", "c"])


def test_config_refuses_bad_labeled_values_and_unknown_algorithms():
    with pytest.raises(ValueError, match="labeled: 2.5 is neither"):
        SSLConfig(labeled=[2.5])
    with pytest.raises(ConfigError, match="unknown algorithm 'nosuch'"):
        check_names(SSLConfig(algorithms=["nosuch"]))
    with pytest.raises(ConfigError, match="options.semi-gan: lr"):
        check_names(SSLConfig(options={"semi-gan": {"lr": -1}}))


@pytest.mark.parametrize("options, message", [
    ({"fixmatch": {"threshold": 0.0}}, r"options.fixmatch: threshold=0.0: Input should be greater than 0"),
    ({"fixmatch": {"threshold": 1.5}}, r"options.fixmatch: threshold=1.5: Input should be less than or equal to 1"),
    ({"freematch": {"mu": 0}}, r"options.freematch: mu=0: Input should be greater than or equal to 1"),
])
def test_bad_threshold_or_mu_fails_in_one_line_before_training(options, message):
    with pytest.raises(ConfigError, match=message) as err:
        check_names(SSLConfig(algorithms=["fixmatch", "freematch"], options=options))
    assert "\n" not in str(err.value)


def test_cli_bad_threshold_fails_before_anything_is_written(tmp_path):
    r = ssl("--dataset", "digits", "--algorithm", "fixmatch", "--set", "options.fixmatch.threshold=2", "--out", "run",
            cwd=tmp_path)
    assert r.exit_code == 2 and "options.fixmatch: threshold=2" in r.stderr
    assert not (tmp_path / "run").exists()


def test_all_labelled_leaves_fixmatch_no_unlabelled_image(tmp_path):
    cfg = SSLConfig(algorithms=["fixmatch"], labeled=[1.0], out=str(tmp_path / "run"), progress=False)
    with pytest.raises(ConfigError, match="fixmatch would have no unlabelled image"):
        run_ssl(cfg)
    assert not (tmp_path / "run").exists()


def test_cli_verdict_against_the_best_method_without_a_generator(tmp_path):
    r = ssl("--dataset", "digits", "--labeled", "0.1", "--repeats", "2", "--out", "run", *TINY,
            "--set", "options.fixmatch.mu=1", "--set", "options.freematch.mu=1", "--set", "generation_metrics=false",
            *[x for a in ("fixmatch", "freematch", "bad-gan") for x in ("--algorithm", a)], cwd=tmp_path)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["uses_generator"] == {"fixmatch": False, "freematch": False, "bad-gan": True}
    v = m["vs_best_without_generator"]["10%"]
    val = {a: m["results"][a]["10%"]["val_accuracy"]["mean"] for a in ("fixmatch", "freematch")}
    assert v["best"] == max(val, key=val.get) and v["validation_accuracy"] == pytest.approx(val)
    d = v["comparisons"]["bad-gan"]["accuracy"]
    runs = {a: m["results"][a]["10%"]["accuracy"]["runs"] for a in ("bad-gan", v["best"])}
    assert d["mean"] == pytest.approx(sum(runs["bad-gan"]) / 2 - sum(runs[v["best"]]) / 2)
    assert list(v["comparisons"]) == ["bad-gan"]
    first = (tmp_path / "run" / "report.md").read_text().splitlines()[0]
    assert first.startswith("# ganaug ssl on digits: `bad-gan` vs the best without a generator (`" + v["best"])
    assert "cannot tell" in first  # 2 repeats: too few for an interval


def test_all_labelled_with_a_semi_supervised_algorithm_fails_before_training(tmp_path):
    cfg = SSLConfig(algorithms=["supervised", "semi-cnn"], labeled=[1.0], out=str(tmp_path / "run"), progress=False)
    with pytest.raises(ConfigError, match="semi-cnn would have no unlabelled image"):
        run_ssl(cfg)
    assert not (tmp_path / "run").exists()


def test_cli_digits_every_algorithm_writes_report_and_metrics(tmp_path):
    r = ssl("--dataset", "digits", "--labeled", "0.1", "--repeats", "2", "--out", "run", *TINY,
            *[x for a in ("supervised", "semi-cnn", "semi-gan", "triple-gan-attn") for x in ("--algorithm", a)], cwd=tmp_path)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["labeled"]["10%"]["per_class"] == [round(0.1 * n) for n in m["counts"]["train"]]
    for algorithm, per in m["results"].items():
        s = per["10%"]
        for key in ("accuracy", "macro_f1", "roc_auc"):
            assert set(s[key]) >= {"mean", "std"} and 0 <= s[key]["mean"] <= 1 and len(s[key]["runs"]) == 2
        assert (s["fid"] is not None) == (algorithm in ("semi-gan", "triple-gan-attn"))
    assert m["results"]["triple-gan-attn"]["10%"]["class_consistency"] is not None
    assert m["results"]["semi-gan"]["10%"]["class_consistency"] is None  # unconditional generator
    assert set(m["vs_supervised"]) == {"semi-cnn", "semi-gan", "triple-gan-attn"}
    vs = m["vs_supervised"]["semi-cnn"]["10%"]["accuracy"]  # 2 repeats: too few for an interval
    assert vs["low"] is None and vs["note"].startswith("too few seeds (2")
    html = (tmp_path / "run" / "report.html").read_text()
    assert "triple-gan-attn" in html and html.count("data:image/png;base64") == 5  # recall, curves, ROC, confusion, samples
    # Re-running the same command finds every run done and retrains nothing.
    again = ssl("--dataset", "digits", "--labeled", "0.1", "--repeats", "2", "--out", "run", *TINY,
                *[x for a in ("supervised", "semi-cnn", "semi-gan", "triple-gan-attn") for x in ("--algorithm", a)],
                cwd=tmp_path)
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["results"] == m["results"]


def test_cli_folder_dataset_and_label_count(tmp_path):
    data = load_dataset("digits")
    write_image_folder(data.train, tmp_path / "tree" / "train")
    write_image_folder(data.test, tmp_path / "tree" / "test")
    r = ssl("--dataset", f"folder:{tmp_path / 'tree'}", "--labeled", "50", "--repeats", "1", "--algorithm", "semi-cnn",
            "--out", "run", *TINY, cwd=tmp_path)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["labeled"]["50 labels"]["per_class"] == [5] * 10
    assert m["results"]["semi-cnn"]["50 labels"]["accuracy"]["mean"] > 0.1


def test_cli_rejects_a_class_without_labels(tmp_path):
    r = ssl("--dataset", "digits", "--labeled", "0.001", "--out", "run", cwd=tmp_path)
    assert r.exit_code == 2
    assert "would get no labelled image" in r.stderr
    assert not (tmp_path / "run").exists()


def test_grid_cells_carry_what_ganaug_results_needs_for_the_verdict():
    """An SSL grid cell's scalars hold val_accuracy (the selection) and uses_generator; the task compares on accuracy."""
    from ganaug.runner.tasks import TASKS

    task = TASKS.get("ssl")()
    summary = {"accuracy": {"mean": 0.9}, "val_accuracy": {"mean": 0.8}, "fid": None}
    metrics = {"results": {"fixmatch": {"10%": summary}, "bad-gan": {"10%": summary}},
               "uses_generator": {"fixmatch": False, "bad-gan": True}}
    scalars = task.scalars(metrics)
    assert scalars["fixmatch 10%"] == {"accuracy": 0.9, "val_accuracy": 0.8, "uses_generator": 0.0}
    assert scalars["bad-gan 10%"]["uses_generator"] == 1.0
    assert task.primary == ("accuracy", "val_accuracy")
