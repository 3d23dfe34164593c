"""Images made by any model (here: `ganaug generate`'s folder and an .npz) replace the GAN in `augment` and `demo`,
and are judged by `evaluate-gan --images`, with the same mixing, judge and audit; a mismatch is one line."""

import hashlib
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ganaug.cli import app
from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.data.imageset import read_image_set
from ganaug.gan.trainer import train_gan

TINY_CLASSIFIER = ["--no-progress", "--set", "classifier.steps=10", "--set", "classifier.width=8"]


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def digests(images: torch.Tensor) -> set[str]:
    return {hashlib.sha256(x.numpy().tobytes()).hexdigest() for x in images}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A folder written by `ganaug generate` from a tiny GAN of digits (30 images per class), and an .npz."""
    root = tmp_path_factory.mktemp("supplied")
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, epochs=1)
    train_gan(cfg, load_dataset("digits").train, 0, torch.device("cpu"), checkpoint_dir=root / "gan", progress=False)
    for out in (root / "images", root / "images.npz"):
        r = invoke("generate", "--checkpoint", root / "gan" / "last", "--per-class", 30, "--out", out)
        assert r.exit_code == 0, r.output
    return root


def test_augment_uses_the_supplied_folder_and_trains_no_gan(generated, tmp_path):
    out = tmp_path / "run"
    r = invoke("augment", "--dataset", "digits", "--strategy", "exp1", "--ratio", "0.5", "--quick",
               "--synthetic", generated / "images", "--out", out, *TINY_CLASSIFIER, "--set", "audit_samples=30")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert not (out / "checkpoints" / "gan").exists() and m["timings"]["gan_seconds"] < 0.1
    assert list(m["generators"]) == ["supplied"] and m["generators"]["supplied"]["pool"]["supplied"]
    plan = m["mixing"]["plans"]["r=0.5"]
    assert m["generators"]["supplied"]["synthetic_counts"]["r=0.5"] == plan["synthetic"]  # 30 per class suffice
    assert sum(plan["synthetic"]) > 0 and "exp1 r=0.5" in m["results"]["small-cnn"]["arms"]
    supplied = read_image_set(generated / "images", load_dataset("digits").train)
    arm = m["training_images_sha256"]["arms"]["exp1 r=0.5"]
    assert arm["images"] == sum(plan["real"]) + sum(plan["synthetic"])
    report = (out / "report.md").read_text()
    assert "images supplied from" in report and "no GAN trained" in report
    assert len(digests(supplied.images)) >= sum(plan["synthetic"])


def test_demo_tops_up_from_an_npz_with_its_own_images(generated, tmp_path):
    out = tmp_path / "demo"
    r = invoke("demo", "--quick", "--synthetic", generated / "images.npz", "--out", out, *TINY_CLASSIFIER)
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["gan"]["history"] == [] and "no GAN trained" in m["gan"]["source"]
    needed = [max(m["counts"]["imbalanced_train"]) - n if c in m["target_classes"] else 0
              for c, n in enumerate(m["counts"]["imbalanced_train"])]
    assert m["counts"]["synthetic"] == [min(n, 30) for n in needed]  # the set holds 30 per class
    with np.load(generated / "images.npz") as f:
        allowed = digests(torch.from_numpy(f["images"]))
    added = read_image_set(out / "synthetic", load_dataset("digits").train)
    assert digests(added.images) <= allowed  # every added image is one of the supplied images
    assert not (out / "checkpoints" / "gan").exists()


def test_evaluate_gan_judges_a_supplied_set(generated, tmp_path):
    out = tmp_path / "eval"
    r = invoke("evaluate-gan", "--images", generated / "images", "--dataset", "digits", "--per-class", 10, "--out", out,
               "--no-progress", "--set", "feature_classifier.steps=30", "--set", "feature_classifier.width=8")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["checkpoint"] is None and m["images"] == str(generated / "images")
    assert m["samples"]["total"] == 100 and m["samples"]["labelled_by"] == "the supplied labels"
    assert 0.0 <= m["class_consistency"]["overall"] <= 1.0 and m["cas"]["accuracy"] is not None
    assert "--images" in m["command"] and "Images supplied from" in (out / "report.md").read_text()


@pytest.mark.parametrize("command", ["augment", "demo", "evaluate-gan"])
def test_a_set_of_another_size_is_refused_in_one_line_before_training(generated, tmp_path, command):
    rgb = tmp_path / "rgb.npz"
    np.savez(rgb, images=np.zeros((20, 3, 8, 8), np.uint8), labels=np.arange(20) % 10)
    flag = "--images" if command == "evaluate-gan" else "--synthetic"
    extra = ["--dataset", "digits"] + (["--strategy", "exp1"] if command == "augment" else [])
    r = invoke(command, flag, rgb, *extra, "--out", tmp_path / "out", "--no-progress")
    assert r.exit_code == 2, r.output
    assert "images are 3 x 8 x 8" in r.output and "the dataset's are 1 x 8 x 8" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out" / "metrics.json").exists()


def test_a_checkpoint_and_a_set_at_once_is_refused(generated, tmp_path):
    r = invoke("evaluate-gan", "--images", generated / "images", "--checkpoint", generated / "gan" / "last",
               "--out", tmp_path / "out")
    assert r.exit_code == 2 and "give either checkpoint" in r.output
    r = invoke("augment", "--synthetic", generated / "images", "--generator", generated / "gan" / "last",
               "--out", tmp_path / "out")
    assert r.exit_code == 2 and "give one source of generated images" in r.output
