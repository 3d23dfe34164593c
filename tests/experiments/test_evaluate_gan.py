"""`ganaug evaluate-gan` through the CLI on a small cdcgan trained on the embedded digits."""

import json
import math
import shlex
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ganaug.checkpoint import save_checkpoint
from ganaug.cli import app
from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.gan.trainer import build_gan, train_gan

runner = CliRunner()
PER_CLASS = 20
CHEAP = ["--set", "feature_classifier.steps=100"]
FEATURES = "digits small-cnn features"
EPOCHS = 5  # a briefly trained GAN: the real test images must sit closer to the reference than its images
# (one BLAS thread: the root conftest's _one_blas_thread)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gan")
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, epochs=EPOCHS)
    train_gan(cfg, load_dataset("digits").train, 0, torch.device("cpu"), checkpoint_dir=folder, progress=False)
    return folder / "last"


def evaluate(checkpoint, out, *extra):
    args = ["evaluate-gan", "--checkpoint", str(checkpoint), "--out", str(out), "--per-class", str(PER_CLASS),
            "--no-progress", *CHEAP, *map(str, extra)]
    return runner.invoke(app, args)


@pytest.fixture(scope="module")
def run(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate")
    r = evaluate(checkpoint, out)
    assert r.exit_code == 0, r.output
    return out, r.output, json.loads((out / "metrics.json").read_text())


def test_prints_report_path_and_writes_the_report(run):
    out, output, _ = run
    assert f"report: {out / 'report.html'}" in output
    for name in ("metrics.json", "report.md", "report.html", "config.yaml", "feature-classifier/last.json",
                 "feature-classifier/last.safetensors", "figures/samples.png", "figures/closest_generated_train.png",
                 "figures/closest_test_train.png", "figures/class_histograms.png"):
        assert (out / name).is_file(), name


def test_metrics_have_the_expected_keys_and_sane_values(run):
    _, _, m = run
    assert m["samples"]["total"] == 10 * PER_CLASS and m["samples"]["reference_size"] == 10 * PER_CLASS
    assert m["generator"]["conditional"] and m["generator"]["architecture"] == "cdcgan" and m["generator"]["epoch"] == EPOCHS
    assert m["feature_classifier"]["test_accuracy"] > 0.9  # a judge worth trusting
    confusion = np.array(m["feature_classifier"]["test_confusion"])  # rows: true class; the diagonal: recall
    recall = np.diag(confusion) / confusion.sum(1)
    assert np.allclose(recall, m["feature_classifier"]["test_per_class_recall"])
    gen, floor = m["classifier_features"], m["real_test_floor"]
    # Real test images sit much closer to the real reference than a briefly trained GAN's images do.
    assert 0 <= floor["fid"]["fid"] < gen["fid"]["fid"]
    assert floor["kid"]["kid_mean"] < gen["kid"]["kid_mean"]
    assert 1.0 <= gen["inception_score"]["is_mean"] <= 10.0 and floor["inception_score"]["is_mean"] > 5.0
    for key in ("precision", "recall", "density", "coverage"):
        assert math.isfinite(gen["prdc"][key]) and gen["prdc"][key] >= 0
        assert key == "density" or gen["prdc"][key] <= 1
    cc = m["class_consistency"]
    assert 0 <= cc["overall"] <= 1 and len(cc["per_class"]) == 10 and cc["judge"].endswith("small-cnn classifier")
    assert 0 <= m["cas"]["accuracy"] <= m["cas_real_same_size"]["accuracy"] <= 1
    assert m["cas"]["n_synthetic"] == m["cas_real_same_size"]["n_real"] == 10 * PER_CLASS
    mc = m["mode_collapse"]
    assert 0 < mc["modes_found"] <= 10 and 0 <= mc["coverage"] <= 1 and 0 <= mc["js_divergence"] <= 1
    assert mc["kl_real_generated"] >= 0 and len(mc["generated_share"]) == 10
    audit = m["memorisation"]
    assert 0 <= audit["flagged_share"] <= 1 and audit["n_generated"] == 10 * PER_CLASS and len(audit["closest_pairs"]) == 16
    assert audit["n_test"] == 360 and audit["exact_copies"] == 0
    assert m["split_duplicates"]["n_test"] == 360 and 0 <= m["split_duplicates"]["duplicated_test_share"] <= 1
    assert m["inception"] is None
    assert {row["key"] for row in m["table"]} >= {"fid", "kid", "is", "precision", "recall", "density", "coverage",
                                                  "class_consistency", "cas", "modes_found", "js_divergence",
                                                  "memorised_share", "duplicated_test_share"}


def test_every_feature_number_names_the_classifier_features_and_never_inception(run):
    out, _, m = run
    assert m["features"] == FEATURES
    for key, metric in (("fid", "FID"), ("kid", "KID"), ("is", "IS"), ("precision", "precision"),
                        ("recall", "recall"), ("density", "density"), ("coverage", "coverage")):
        assert m["labels"][key] == f"{metric} ({FEATURES})"
    assert all("inception" not in label.lower() for label in m["labels"].values())
    assert all(row["label"] not in ("FID", "KID", "IS") for row in m["table"])
    md = (out / "report.md").read_text()
    assert "| FID |" not in md and f"| FID ({FEATURES}) |" in md


def test_report_html_is_self_contained(run):
    out, _, m = run
    page = (out / "report.html").read_text()
    # samples, class histograms, CAS recall / confusion / ROC, curves, closest generated/train and test/train pairs
    assert page.count('src="data:image/png;base64,') == 8
    assert 'src="figures/' not in page
    assert "<table>" in page and "class consistency" in page
    md = (out / "report.md").read_text()
    assert m["command"] in md and "--per-class 20" in m["command"] and "feature_classifier.steps=100" in m["command"]


def test_reproduce_command_rebuilds_the_same_config(run, monkeypatch):
    out, _, m = run
    import ganaug.experiments.evaluate_gan as module
    from ganaug.config import EvaluateGANConfig

    seen = []
    monkeypatch.setattr(module, "evaluate_gan", lambda cfg: seen.append(cfg) or out / "report.html")
    r = runner.invoke(app, shlex.split(m["command"])[1:])
    assert r.exit_code == 0, r.output
    saved = EvaluateGANConfig.model_validate(__import__("yaml").safe_load((out / "config.yaml").read_text()))
    assert seen[0].model_copy(update={"progress": False}) == saved


def test_rerun_reuses_the_feature_classifier(run, checkpoint):
    out, _, first = run
    weights = out / "feature-classifier" / "last.safetensors"
    stamp = weights.stat().st_mtime_ns
    r = evaluate(checkpoint, out)
    assert r.exit_code == 0, r.output
    again = json.loads((out / "metrics.json").read_text())
    assert not first["feature_classifier"]["reused_checkpoint"] and again["feature_classifier"]["reused_checkpoint"]
    assert weights.stat().st_mtime_ns == stamp
    for section in ("classifier_features", "class_consistency", "mode_collapse", "cas"):
        assert again[section] == first[section], section  # deterministic for the seed


def test_unconditional_generator_is_judged_by_the_classifier(run, tmp_path):
    out, _, _ = run
    folder = tmp_path / "gan"
    cfg = GANConfig(architecture="dcgan", conditional=False, g_width=16, d_width=16, z_dim=16, epochs=2)
    train_gan(cfg, load_dataset("digits").train, 0, torch.device("cpu"), checkpoint_dir=folder, progress=False)
    shutil.copytree(out / "feature-classifier", tmp_path / "eval" / "feature-classifier")  # reused: same data, config, seed
    r = evaluate(folder / "last", tmp_path / "eval")
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert m["feature_classifier"]["reused_checkpoint"]
    assert not m["generator"]["conditional"] and m["class_consistency"] is None
    assert m["samples"]["total"] == 10 * PER_CLASS and m["samples"]["labelled_by"] == "the feature classifier's prediction"
    assert "unconditional" in (tmp_path / "eval" / "report.md").read_text()


def forged_checkpoint(path, num_classes, class_names):
    """An untrained cdcgan checkpoint for 8x8 gray images of ``num_classes`` classes."""
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16)
    G, D, specs = build_gan(cfg, 8, 1, num_classes)
    save_checkpoint(path, {"generator": (G, specs["generator"]), "discriminator": (D, specs["discriminator"])},
                    meta={"epoch": 1, "config": cfg.model_dump(mode="json"), "class_names": class_names})
    return path


@pytest.mark.parametrize("case, messages", [
    ("image size", ["does not match dataset 'digits'", "image size: generator 8x8, dataset 16x16"]),
    ("classes", ["classes: generator 3, dataset 10", "class names: checkpoint ['a', 'b', 'c']"]),
    ("names", ["class names: checkpoint ['zero', 'one'"]),
])
def test_a_mismatched_dataset_fails_before_anything_trains(checkpoint, tmp_path, case, messages):
    extra = []
    if case == "image size":
        extra = ["--set", "image_size=16"]
    elif case == "classes":
        checkpoint = forged_checkpoint(tmp_path / "three", 3, ["a", "b", "c"])
    else:
        words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        checkpoint = forged_checkpoint(tmp_path / "named", 10, words)
    r = evaluate(checkpoint, tmp_path / "out", *extra)
    assert r.exit_code == 2, r.output
    for message in messages:
        assert message in r.output
    assert not (tmp_path / "out").exists()  # nothing written, nothing trained


def test_missing_checkpoint_is_a_config_error(tmp_path):
    r = evaluate(tmp_path / "nothing" / "last", tmp_path / "out")
    assert r.exit_code == 2 and "last.json" in r.output


def test_missing_inception_weights_fail_before_anything_trains(checkpoint, tmp_path):
    r = evaluate(checkpoint, tmp_path / "out", "--inception-weights", tmp_path / "pt_inception.pth")
    assert r.exit_code == 2 and "Inception weights not found" in r.output
    assert not (tmp_path / "out").exists()


def test_grid_task_gan_reads_the_metric_table(run):
    """`ganaug run` with task gan stores the report's table: FID, class consistency, CAS, ... (finite values only)."""
    from ganaug.runner import TASKS

    _, _, m = run
    scalars = TASKS.create("gan").scalars(m)[""]
    table = {row["key"]: row["value"] for row in m["table"]}
    assert scalars["fid"] == table["fid"] and scalars["cas"] == table["cas"]
    assert scalars["judge_test_accuracy"] == m["feature_classifier"]["test_accuracy"]  # a weak judge shows in a grid
    assert set(scalars) <= set(table) | {"judge_test_accuracy"} and all(math.isfinite(v) for v in scalars.values())


def test_a_judge_under_its_datasets_bar_is_called_too_weak_to_judge(run):
    from ganaug.report.gan_report import judge_strength

    out, _, m = run
    fc = m["feature_classifier"]
    assert fc["strong_enough_at"] == 0.97  # the digits' bar
    weak = fc["test_accuracy"] < 0.97
    assert ("too weak to judge" in (out / "report.md").read_text()) == weak
    assert "too weak to judge (under the 80" in judge_strength({**fc, "test_accuracy": 0.771, "strong_enough_at": 0.8},
                                                               "cifar10").replace("**", "")
    assert judge_strength({**fc, "test_accuracy": 0.83, "strong_enough_at": 0.8}, "cifar10") == ""
    assert judge_strength({**fc, "test_accuracy": 0.3, "strong_enough_at": None}, "folder pets") == ""
