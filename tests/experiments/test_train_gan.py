"""`ganaug train-gan`: a checkpoint that generate / evaluate-gan can use, trained on the training split only."""

import json

from typer.testing import CliRunner

from ganaug.checkpoint import Checkpoint
from ganaug.cli import app
from ganaug.data import load_dataset


def test_train_gan_writes_a_resumable_checkpoint(tmp_path):
    args = ["train-gan", "--out", str(tmp_path), "--steps", "40", "--no-progress",
            "--set", "gan.g_width=16", "--set", "gan.d_width=16", "--set", "imbalance.profile=reduce"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    ckpt = Checkpoint(tmp_path / "checkpoints" / "gan" / "last")
    assert ckpt.info["models"]["generator"]["name"] == "cdcgan"
    assert ckpt.meta["class_names"] == [str(d) for d in range(10)]
    splits = json.loads((tmp_path / "splits.json").read_text())
    train = load_dataset("digits").train
    assert set(splits["gan"]) < set(train.indices.tolist())  # training images only, classes 0-2 cut
    assert len(splits["gan"]) == sum(json.loads((tmp_path / "train.json").read_text())["class_counts"])
    epochs = ckpt.meta["epoch"]
    r = CliRunner().invoke(app, args)  # finished run: resumes at its last epoch and trains nothing more
    assert r.exit_code == 0 and Checkpoint(tmp_path / "checkpoints" / "gan" / "last").meta["epoch"] == epochs


def test_quick_is_a_short_run_that_flags_and_set_still_override(tmp_path):
    args = ["train-gan", "--quick", "--out", str(tmp_path), "--no-progress", "--set", "gan.g_width=16",
            "--set", "gan.d_width=16"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    meta = Checkpoint(tmp_path / "checkpoints" / "gan" / "last").meta
    assert meta["config"]["steps"] == 200 and sum(row["g_updates"] for row in meta["history"]) >= 200
    r = CliRunner().invoke(app, ["train-gan", "--quick", "--steps", "30", "--out", str(tmp_path / "b"),
                                 "--no-progress", "--set", "gan.g_width=16", "--set", "gan.d_width=16"])
    assert r.exit_code == 0 and Checkpoint(tmp_path / "b" / "checkpoints" / "gan" / "last").meta["config"]["steps"] == 30
