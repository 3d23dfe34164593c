"""The main job and the augmentation study on users' own folders: 2 and 3 classes, already imbalanced, gray and RGB."""

import json

import pytest
from typer.testing import CliRunner

from ganaug.cli import app

TINY = ["--set", "gan.steps=40", "--set", "classifier.steps=20", "--set", "gan.g_width=16", "--set", "gan.d_width=16",
        "--set", "classifier.width=8", "--no-progress", "--seed", "3"]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("counts, rgb", [({0: 16, 1: 44}, False), ({3: 50, 5: 14, 8: 25}, True)],
                         ids=["2-class-gray-27-73", "3-class-rgb"])
def test_demo_keeps_an_imbalanced_folder_and_targets_its_minority_classes(tmp_path, digit_folder, counts, rgb):
    data = digit_folder(tmp_path / "data", counts, rgb=rgb)
    out = tmp_path / "run"
    result = invoke("demo", "--dataset", f"folder:{data}", "--quick", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    m = json.loads((out / "metrics.json").read_text())
    train = m["counts"]["imbalanced_train"]
    assert m["imbalance"]["profile"] == "natural" and "already imbalanced" in m["imbalance"]["reason"]
    assert train == m["counts"]["full_train"]  # kept as it is
    minority = [c for c, n in enumerate(train) if n < max(train)]
    assert m["target_classes"] == minority
    assert [train[c] + m["counts"]["synthetic"][c] for c in minority] == [max(train)] * len(minority)
    assert m["arms"] == ["baseline", "augmented"]  # no uncut split, so no reference arm
    report = (out / "report.md").read_text()
    assert "already imbalanced" in report and "A smoke run, not a measurement" in report
    assert "too few seeds (2" in report  # --quick trains 2 seeds: no interval, no verdict
    assert "imbalance: the training split is already imbalanced" in result.output


@pytest.mark.parametrize("counts, rgb", [({0: 16, 1: 44}, False), ({3: 50, 5: 14, 8: 25}, True)],
                         ids=["2-class-gray", "3-class-rgb"])
def test_augment_on_an_imbalanced_folder(tmp_path, digit_folder, counts, rgb):
    data = digit_folder(tmp_path / "data", counts, rgb=rgb)
    out = tmp_path / "run"
    result = invoke("augment", "--dataset", f"folder:{data}", "--strategy", "exp1,exp3", "--ratio", "0.5", "--quick",
                    "--out", out, "--repeats", "2", *TINY)
    assert result.exit_code == 0, result.output
    m = json.loads((out / "metrics.json").read_text())
    train = m["counts"]["imbalanced_train"]
    assert m["imbalance"]["profile"] == "natural"
    assert m["target_classes"] == [c for c, n in enumerate(train) if n < max(train)]
    assert (out / "report.html").exists()


def test_demo_on_a_balanced_three_class_folder_says_what_to_do_and_leaves_nothing(tmp_path, digit_folder):
    data = digit_folder(tmp_path / "data", {0: 20, 1: 20, 2: 20})
    out = tmp_path / "run"
    result = invoke("demo", "--dataset", f"folder:{data}", "--quick", "--out", out, *TINY)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: imbalance.profile=auto: the training split is balanced ([18, 18, 18] images per class) and has only 3 "
        "classes, so there is no minority class to rebalance; choose a cut, e.g. --set imbalance.profile=reduce "
        "--set imbalance.classes=[0]"]
    assert not out.exists()
    fixed = invoke("demo", "--dataset", f"folder:{data}", "--quick", "--out", out, *TINY,
                   "--set", "imbalance.profile=reduce", "--set", "imbalance.classes=[0]")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads((out / "metrics.json").read_text())["target_classes"] == [0]


@pytest.mark.parametrize("cut, message", [
    ("[0, 1, 2]", "imbalance.classes: classes [2] out of range for 2 classes"),
    ("[0, 1]", "imbalance.classes: the profile 'reduce' leaves no class smaller than the largest"),
])
def test_a_cut_that_cannot_work_is_one_line_before_training(tmp_path, digit_folder, cut, message):
    data = digit_folder(tmp_path / "data", {0: 20, 1: 20})
    out = tmp_path / "run"
    result = invoke("demo", "--dataset", f"folder:{data}", "--quick", "--out", out, *TINY,
                    "--set", "imbalance.profile=reduce", "--set", f"imbalance.classes={cut}")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not out.exists()


def test_demo_refuses_an_unconditional_gan(tmp_path):
    result = invoke("demo", "--quick", "--out", tmp_path / "run", "--set", "gan.conditional=false")
    assert result.exit_code == 2 and "gan.conditional=false: the demo generates images of chosen classes" in result.output
    assert not (tmp_path / "run").exists()
