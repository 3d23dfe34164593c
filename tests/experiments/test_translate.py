"""`ganaug translate`: a CycleGAN between two classes or folders, its translated images and report; clear errors."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ganaug.cli import app

FAST = ["--no-progress", "--set", "cyclegan.steps=6", "--set", "cyclegan.width=4", "--set", "cyclegan.blocks=1",
        "--set", "cyclegan.d_width=4", "--set", "cyclegan.log_every=3"]


def test_translate_writes_every_source_image_translated_and_a_report(tmp_path):
    r = CliRunner().invoke(app, ["translate", "--from", "3", "--to", "8", "--out", str(tmp_path), *FAST])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert (m["source"], m["target"], m["source_images"]) == ("3", "8", 146)  # digits' training split has 146 threes
    assert [row["step"] for row in m["history"]] == [3, 6] and m["cycle_l1"] > 0
    pngs = sorted((tmp_path / "translated" / "8").glob("*.png"))
    assert len(pngs) == 146 and np.asarray(Image.open(pngs[0])).shape == (8, 8)
    assert len(list((tmp_path / "reconstructed" / "3").glob("*.png"))) == 146  # translated back: the judge's control
    assert "3 -> 8" in (tmp_path / "report.md").read_text() and (tmp_path / "report.html").exists()


def test_a_folder_is_a_domain(tmp_path):
    folder = tmp_path / "blobs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["translate", "--from", f"folder:{folder}", "--to", "0", "--out", str(out), *FAST])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert (m["source"], m["source_images"]) == ("blobs", 5)  # resized to the dataset's 8 px
    assert len(list((out / "translated" / "0").glob("*.png"))) == 5


@pytest.mark.parametrize("args,message", [
    (["--from", "3", "--to", "eleven"], "--to 'eleven': expected a class index in 0..9"),
    (["--from", "3", "--to", "3"], "are the same"),
    (["--from", "3"], "give both --from and --to"),
    (["--from", "folder:/nonexistent/x", "--to", "3"], "/nonexistent/x: no such folder"),
])
def test_user_mistakes_are_one_line(tmp_path, args, message):
    r = CliRunner().invoke(app, ["translate", *args, "--out", str(tmp_path / "o"), *FAST])
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output


def test_augment_translate_fills_each_target_class_with_the_largest_class_translated(tmp_path):
    """The `translate` strategy: one CycleGAN per target class, from the largest class; no GAN trained; the translated
    images go through the mixing plan, the judge and the audit like any generated set, beside exp1."""
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["augment", "--dataset", "digits", "--strategy", "translate,exp1", "--ratio", "0.5",
                                 "--quick", "--out", str(out), "--no-progress", "--set", "classifier.steps=10",
                                 "--set", "classifier.width=8", "--set", "classifier.repeats=2", "--set", "gan.steps=20",
                                 "--set", "audit_samples=30", *FAST[1:]])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert [a["key"] for a in m["arms"]] == ["baseline", "exp2", "translate r=0.5", "exp1 r=0.5"]
    assert [a["generator"] for a in m["arms"]][2:] == ["translated", "last"]
    tr = m["generators"]["translated"]
    targets, plan = m["target_classes"], m["mixing"]["plans"]["r=0.5"]["synthetic"]
    assert targets == [0, 1, 2] and tr["translated_from"] not in ("0", "1", "2")  # a full class is the source
    assert sorted(tr["translators"]) == ["0", "1", "2"] and all(len(t["history"]) == 2 for t in tr["translators"].values())
    assert tr["synthetic_counts"]["r=0.5"] == plan and tr["pool"]["labelled_by"].startswith("the class each image")
    assert set(tr["class_consistency"]["r=0.5"]) >= {"overall"} and "r=0.5" in tr["leak_audit"]
    verdict = m["results"]["small-cnn"]["vs_best_remedy"]
    assert set(verdict["comparisons"]) == {"translate r=0.5", "exp1 r=0.5"}  # both arms use generated images
    assert "### translated" in (out / "report.md").read_text()


def test_translate_from_chooses_the_source_class_and_a_wrong_one_fails_first(tmp_path):
    args = ["augment", "--dataset", "digits", "--strategy", "translate", "--ratio", "0.5", "--quick", "--no-progress",
            "--set", "classifier.steps=5", "--set", "classifier.width=8", "--set", "classifier.repeats=1",
            "--set", "audit_samples=20", "--set", "target_classes=[1]", *FAST[1:]]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a"), "--set", "translate_from=seven"])
    assert r.exit_code != 0 and "translate_from: unknown class 'seven'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "a" / "checkpoints").exists()  # nothing trained
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--set", "translate_from=7"])
    assert r.exit_code == 0, r.output
    tr = json.loads((tmp_path / "b" / "metrics.json").read_text())["generators"]["translated"]
    assert tr["translated_from"] == "7" and list(tr["translators"]) == ["1"]
    assert tr["source"].startswith("the class chosen by translate_from")
