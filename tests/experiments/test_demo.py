"""`ganaug demo --quick` end to end through the CLI, on the embedded digits."""

import json
import re

import pytest
from typer.testing import CliRunner

from ganaug.cli import app

ARMS = ("baseline", "augmented", "reference")


@pytest.fixture(scope="module")
def quick_run(demo_run):
    """``ganaug demo --quick --no-progress --seed 1 --tensorboard``, shortened (tests/conftest.py)."""
    return demo_run


def test_prints_report_path_and_writes_the_run_folder(quick_run):
    out, output = quick_run
    assert f"report: {out / 'report.html'}" in output
    for name in ("report.md", "report.html", "metrics.json", "config.yaml", "checkpoints/gan/last.safetensors",
                 "checkpoints/gan/last.json", "figures/samples.png", "figures/curves.png"):
        assert (out / name).is_file(), name


def test_metrics_json_has_the_documented_keys(quick_run):
    out, _ = quick_run
    m = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= m["reference"]["accuracy"] <= 1.0
    for arm in ARMS:
        for key in ("accuracy", "balanced_accuracy", "macro_f1"):
            assert 0.0 <= m[arm][key] <= 1.0
        assert len(m[arm]["per_class_recall"]) == 10
        assert m[arm]["repeats"] == 2
    assert 0.0 <= m["gan"]["class_consistency"] <= 1.0
    # The protocol: classes 0-2 cut to 10 % and topped up with exactly enough synthetic images to balance them.
    counts = m["counts"]
    assert m["target_classes"] == [0, 1, 2]
    for c in range(10):
        assert counts["imbalanced_train"][c] + counts["synthetic"][c] == (
            max(counts["imbalanced_train"]) if c < 3 else counts["imbalanced_train"][c]
        )
        assert counts["imbalanced_train"][c] == (round(0.1 * counts["full_train"][c]) if c < 3 else counts["full_train"][c])


def test_metrics_hold_roc_curves_and_the_leak_audit(quick_run):
    out, _ = quick_run
    m = json.loads((out / "metrics.json").read_text())
    for arm in ARMS:
        assert 0.5 < m[arm]["auc"] <= 1.0
        assert set(m["roc_curves"][arm]) == {str(c) for c in range(10)}
        for curve in m["roc_curves"][arm].values():  # each curve rises from (0, 0) to (1, 1)
            assert curve["fpr"] == sorted(curve["fpr"]) and curve["tpr"] == sorted(curve["tpr"])
            assert (curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]) == (0, 0, 1, 1)
    audit, dup = m["leak_audit"]["memorisation"], m["leak_audit"]["split_duplicates"]
    assert audit["of"] == sum(m["counts"]["synthetic"]) and audit["audited"] == min(1000, audit["of"])
    distances = [p["distance"] for p in audit["closest_pairs"]]
    assert len(distances) == 16 and distances == sorted(distances)
    assert all(0 <= p["generated"] < audit["of"] and 0 <= p["train"] < sum(m["counts"]["imbalanced_train"])
               for p in audit["closest_pairs"])
    assert dup["n_test"] == sum(m["counts"]["test"]) and 0.0 <= dup["duplicated_test_share"] <= 1.0


def test_gan_saw_only_the_imbalanced_training_images(quick_run):
    """No leakage: the GAN's images are a subset of the training split, disjoint from the validation split."""
    out, _ = quick_run
    splits = json.loads((out / "splits.json").read_text())
    gan, reference, val = (set(splits[k]) for k in ("gan_and_baseline", "reference", "val"))
    assert gan < reference and not gan & val and not reference & val
    m = json.loads((out / "metrics.json").read_text())
    assert len(gan) == sum(m["counts"]["imbalanced_train"]) and len(val) == sum(m["counts"]["val"])


def test_synthetic_images_written_as_image_folder(quick_run):
    out, _ = quick_run
    m = json.loads((out / "metrics.json").read_text())
    for c, name in enumerate(m["class_names"]):
        folder = out / "synthetic" / name
        assert len(list(folder.glob("*.png"))) == m["counts"]["synthetic"][c]


def test_html_report_is_self_contained(quick_run):
    out, _ = quick_run
    page = (out / "report.html").read_text()
    # samples, recall per class, curves, confusion, ROC, closest synthetic/train and test/train pairs
    assert page.count('src="data:image/png;base64,') == 7
    assert not re.search(r'src="(?!data:)', page)  # no image loaded from disk or network
    assert "<table>" in page and "class consistency" in page.lower()


def test_rerun_resumes_from_checkpoints_and_gives_the_same_numbers(quick_run, demo_args):
    out, _ = quick_run
    before = json.loads((out / "metrics.json").read_text())
    # Without --tensorboard: how a run is watched is not part of its config, so this is a resume, not a new run.
    result = CliRunner().invoke(app, [*demo_args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    after = json.loads((out / "metrics.json").read_text())
    for arm in ARMS:
        assert after[arm]["runs"] == before[arm]["runs"]
    assert after["gan"]["class_consistency"] == before["gan"]["class_consistency"]


def test_rerun_with_another_config_is_refused(quick_run, demo_args):
    out, _ = quick_run
    result = CliRunner().invoke(app, [*demo_args, "--out", str(out), "--seed", "2"])
    assert result.exit_code != 0
    assert result.exit_code == 2 and "different config" in result.output


def test_grid_task_reads_the_three_arms(quick_run):
    """`ganaug run` with task demo stores baseline / augmented / reference, and the generator's class consistency."""
    from ganaug.runner import TASKS

    out, _ = quick_run
    m = json.loads((out / "metrics.json").read_text())
    scalars = TASKS.create("demo").scalars(m)
    assert set(scalars) == {"baseline", "augmented", "reference"}
    assert scalars["baseline"]["accuracy"] == m["baseline"]["accuracy"]
    assert scalars["augmented"]["class_consistency"] == m["gan"]["class_consistency"]
