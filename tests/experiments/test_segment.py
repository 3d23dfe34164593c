"""`ganaug segment`: every arm on every fold, Dice/IoU per arm and class, paired verdicts, a report; bad input stops
before training with one line."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ganaug.cli import app

ISBI = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "isbi2012-membrane"
FAST = ["--quick", "--no-progress", "--set", "steps=4", "--set", "pix2pix.steps=3"]


def folder(root: Path, n: int = 4, size: int = 32) -> Path:
    (root / "images").mkdir(parents=True), (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        mask = (rng.random((size, size)) > 0.5).astype(np.uint8)
        Image.fromarray(mask * 200 + 20).save(root / "images" / f"{i}.png")
        Image.fromarray(mask * 255).save(root / "masks" / f"{i}.png")
    return root


@pytest.mark.skipif(not ISBI.exists(), reason="../shared/datasets/isbi2012-membrane is not beside the checkout")
def test_quick_run_on_isbi_scores_every_arm_on_every_fold(tmp_path):
    r = CliRunner().invoke(app, ["segment", "--dataset", f"segfolder:{ISBI}", "--out", str(tmp_path), *FAST])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert list(m["arms"]) == ["baseline", "classic", "gan", "gan+classic"] and m["images"] == 30
    assert all(s["units"] == 2 and len(s["dice"]) == 2 for s in m["arms"].values())  # --quick: 2 folds, 2 classes
    assert set(m["comparisons"]) == {"classic", "gan", "gan+classic"} and len(m["memorisation"]) == 2
    runs = sorted(p.name for p in (tmp_path / "runs" / "seed-0").iterdir())
    assert runs == ["fold-0", "fold-1"]
    fold0 = json.loads((tmp_path / "runs" / "seed-0" / "fold-0" / "gan.json").read_text())
    assert fold0["test_images"] == [str(i) for i in range(15)]  # contiguous: the first half of the slices
    report = (tmp_path / "report.md").read_text()
    assert "**gan** vs baseline" in report and "Dice 255" in report
    assert report.count("too few seeds") == 3 * 2  # 2 units: said once per comparison and metric, not twice


def test_a_built_folder_runs_and_resumes(tmp_path):
    data = folder(tmp_path / "seg")
    args = ["segment", "--dataset", f"segfolder:{data}", "--out", str(tmp_path / "run"), *FAST,
            "--set", "image_size=32", "--set", "crop=32"]
    assert CliRunner().invoke(app, args).exit_code == 0
    first = (tmp_path / "run" / "runs" / "seed-0" / "fold-1" / "classic.json").read_text()
    r = CliRunner().invoke(app, args)  # everything done: nothing retrains, the same results
    assert r.exit_code == 0 and (tmp_path / "run" / "runs" / "seed-0" / "fold-1" / "classic.json").read_text() == first


@pytest.mark.parametrize("change,message", [
    (lambda r: (r / "masks" / "2.png").unlink(), "no mask 2.png"),
    (lambda r: None, "folds: 5 folds need at least 5 images"),
])
def test_bad_input_is_one_line(tmp_path, change, message):
    data = folder(tmp_path / "seg")
    change(data)
    r = CliRunner().invoke(app, ["segment", "--dataset", f"segfolder:{data}", "--out", str(tmp_path / "run"), *FAST,
                                 "--set", "image_size=32", "--set", "crop=32", "--set", "folds=5"])
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "run" / "runs").exists()  # nothing trained
