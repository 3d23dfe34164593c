"""``ganaug augment`` from the command line: each strategy on digits and on a folder tree (tiny settings; the
README's --quick commands are the same with more steps), and every bad input refused before anything trains."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ganaug.checkpoint import save_checkpoint
from ganaug.cli import app
from ganaug.config import GANConfig
from ganaug.gan.trainer import build_gan

TINY = ["--quick", "--no-progress", "--repeats", "3", "--set", "gan.steps=20", "--set", "gan.g_width=16",
        "--set", "gan.d_width=16", "--set", "gan.batch_size=32", "--set", "classifier.steps=10",
        "--set", "classifier.width=8", "--set", "audit_samples=30"]


def invoke(*args):
    return CliRunner().invoke(app, ["augment", *args])


@pytest.mark.parametrize("strategy", ["exp1", "exp2", "exp3"])
def test_each_strategy_on_digits_writes_report_and_paired_difference(tmp_path, strategy):
    out = tmp_path / "run"
    r = invoke("--dataset", "digits", "--strategy", strategy, "--ratio", "0.5", "--out", str(out), *TINY)
    assert r.exit_code == 0, r.output
    assert f"report: {out / 'report.html'}" in r.output and (out / "report.md").is_file()
    m = json.loads((out / "metrics.json").read_text())
    res = m["results"]["small-cnn"]
    arm = "exp1 r=0.5" if strategy == "exp1" else strategy
    assert {"baseline", arm} <= set(res["arms"]) and res["arms"]["baseline"]["repeats"] == 3
    d = res["comparisons"][arm]["vs baseline"]["balanced_accuracy"]
    assert d["low"] is not None and d["low"] <= d["mean"] <= d["high"]
    assert bool(m["generators"]) == (strategy == "exp1")  # no GAN is trained when no arm uses one


def write_tree(root, classes=("cat", "dog", "fox"), train=12, test=4, size=8):
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        for c, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                a = (rng.integers(0, 120, (size, size, 3)) + 60 * c).astype(np.uint8)
                Image.fromarray(a, "RGB").save(folder / f"{i}.png")
    return root


def test_folder_dataset(tmp_path):
    tree = write_tree(tmp_path / "tree")
    out = tmp_path / "run"
    r = invoke("--dataset", f"folder:{tree}", "--strategy", "exp1,exp3", "--ratio", "0.5", "--out", str(out), *TINY,
               "--set", "imbalance.profile=reduce", "--set", "imbalance.classes=[2]", "--set", "imbalance.fraction=0.3",
               "--set", "target_classes=[fox]")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["class_names"] == ["cat", "dog", "fox"] and m["target_classes"] == [2]
    assert m["counts"]["imbalanced_train"][2] < m["counts"]["train"][2]
    assert set(m["results"]["small-cnn"]["arms"]) == {"baseline", "exp2", "exp1 r=0.5", "exp3"}


def forged_generator(path, size, num_classes, names):
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16)
    G, D, specs = build_gan(cfg, size, 1, num_classes)
    save_checkpoint(path, {"generator": (G, specs["generator"]), "discriminator": (D, specs["discriminator"])},
                    meta={"epoch": 1, "config": cfg.model_dump(mode="json"), "class_names": names})
    return path


DIGITS = [str(c) for c in range(10)]


@pytest.mark.parametrize("args, message", [
    (["--ratio", "1.5"], "ratios: 1.5 is outside [0, 1]"),
    (["--ratio", "half"], "--ratio half: expected float"),
    (["--strategy", "exp9"], "unknown strategy 'exp9'"),
    (["--classifier", "nosuchnet"], "unknown classifier 'nosuchnet'"),
    (["--set", "target_classes=[zebra]"], "target_classes: unknown class 'zebra'"),
    (["--set", "imbalance.profile=reduce", "--set", "imbalance.classes=[12]"],
     "imbalance.classes: classes [12] out of range"),
    (["--set", "imbalance.classes=[1]"], "imbalance.classes is set but imbalance.profile is auto"),
    (["--set", "imbalance.profile=counts", "--set", f"imbalance.counts={[0] + [5] * 9}"], "class 0 ('0') has no training"),
    (["--set", "mixing=add"], "add_per_class"),
    (["--set", "gan_epochs=[50]", "--set", "gan.steps=20"], "gan_epochs [50]: the GAN trains for"),
    (["--generator", "GEN16"], "image size: generator 16x16, dataset 8x8"),
    (["--generator", "GEN3"], "classes: generator 3, dataset 10"),
    (["--generator", "NONE"], "does not exist"),
])
def test_bad_input_fails_before_training(tmp_path, args, message):
    forged = {"GEN16": forged_generator(tmp_path / "g16", 16, 10, DIGITS),
              "GEN3": forged_generator(tmp_path / "g3", 8, 3, ["a", "b", "c"]), "NONE": tmp_path / "missing"}
    args = [str(forged.get(a, a)) for a in args]
    out = tmp_path / "run"
    r = invoke("--out", str(out), "--no-progress", *args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert not out.exists()  # nothing was written, nothing trained


def test_a_generator_that_saw_the_validation_split_is_refused(tmp_path):
    first = tmp_path / "first"
    r = invoke("--out", str(first), "--seed", "0", *TINY)
    assert r.exit_code == 0, r.output
    reuse = ["--generator", str(first / "checkpoints" / "gan" / "last"), *TINY]
    r = invoke("--out", str(tmp_path / "same-split"), "--seed", "0", *reuse)  # same split: reused, not retrained
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "same-split" / "metrics.json").read_text())
    assert m["generators"]["reused"]["validation_images_seen"] == 0 and m["timings"]["gan_seconds"] < 5
    r = invoke("--out", str(tmp_path / "other-split"), "--seed", "5", *reuse)  # another seed, another validation split
    assert r.exit_code == 2 and "validation split" in r.output


def test_exit_code_2_and_one_line_on_the_terminal(tmp_path):
    r = subprocess.run([sys.executable, "-m", "ganaug.cli", "augment", "--ratio", "-0.2", "--out", str(tmp_path / "x")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "ratios: -0.2 is outside [0, 1]" in r.stderr and not (tmp_path / "x").exists()


@pytest.mark.parametrize("scale", ["cpu", "paper"])
@pytest.mark.parametrize("study", ["augment-gao-cifar10", "augment-dcgan-study-cifar10", "augment-longtail",
                                   "augment-small-cifar10"])
def test_study_configs_check_out_at_both_scales(tmp_path, study, scale):
    """Every study config validates and plans its grid (here on digits: the studies' data is not needed for this)."""
    config = Path(__file__).resolve().parents[1] / "configs" / f"{study}.yaml"
    r = invoke("--config", str(config), "--scale", scale, "--dataset", "digits", "--dry-run", "--out", str(tmp_path / "x"))
    assert r.exit_code == 0, r.output
    assert f"scale {scale}: " in r.output and "arms (" in r.output and "classifier trainings" in r.output
    assert not (tmp_path / "x").exists()


def test_plain_classifiers_train_the_baseline_arm_alone(tmp_path):
    """strategies [] with compare_to [baseline]: no GAN, no mixing, one arm (the overview's classifier configs)."""
    config = Path(__file__).resolve().parents[1] / "configs" / "classifier-mlp-fashion-mnist.yaml"
    r = invoke("--config", str(config), "--dataset", "digits", "--dry-run", "--out", str(tmp_path / "x"))
    assert r.exit_code == 0, r.output
    assert "GAN: none" in r.output and "arms (1): baseline" in r.output and "mixing" not in r.output
    assert "classifiers: mlp-128; 3 classifier trainings" in r.output
    r = invoke("--set", "strategies=[]", "--set", "compare_to=[]", "--dry-run", "--out", str(tmp_path / "y"))
    assert r.exit_code == 2 and "compare_to: [baseline] alone" in r.output


def test_scale_is_chosen_with_the_flag_not_set():
    r = invoke("--set", "scale=paper", "--dry-run")
    assert r.exit_code == 2 and "--scale NAME" in r.output


def test_remedies_without_a_generator_and_the_best_of_them(tmp_path):
    """The remedies run as arms, every one trained with its hooks; with no GAN arm the report's first answer names
    the remedy best on validation and its verdict against the baseline, and a line gives the seeds' resolution."""
    out = tmp_path / "run"
    remedies = ["logit-adjusted", "balanced-softmax", "ldam-drw", "mixup", "cutmix", "randaugment"]
    r = invoke("--dataset", "digits", "--strategy", ",".join(remedies), "--out", str(out), *TINY,
               "--set", "compare_to=[baseline]", "--set", "classifier.steps=5", "--set", "remedies.tau=0.5")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    res = m["results"]["small-cnn"]
    assert list(res["arms"]) == ["baseline", *remedies] and not m["generators"]
    finals = {arm: h[-1]["loss"] for arm, h in res["histories"].items()}
    assert len(set(finals.values())) == len(finals)  # every arm trained differently from the others
    v = res["vs_best_remedy"]
    val_means = {k: sum(s) / len(s) for k, s in res["validation_balanced_accuracy"].items()}
    assert v["best"] == max(val_means, key=val_means.get) and v["comparisons"] == {}
    assert (v["best"] == "baseline") == ("vs_baseline" not in v) and res["resolution"]["seeds"] == 3
    report = (out / "report.md").read_text().splitlines()
    first = next(line for line in report[1:] if line and not line.startswith(">"))
    assert first.startswith("**Do generated images add anything over the best remedy without them?** No arm here")
    assert any(f"best remedy `{v['best']}`" in line for line in report)
    assert any("resolves a balanced accuracy difference of about" in line for line in report)


@pytest.mark.parametrize("args, message", [
    (["--strategy", "logit-adjusted+balanced-softmax"],
     "strategies: 'logit-adjusted+balanced-softmax' combines 'logit-adjusted' and 'balanced-softmax', two loss "
     "modifications"),
    (["--strategy", "mixup+cutmix"], "strategies: 'mixup+cutmix' combines 'mixup' and 'cutmix', two batch mixes"),
    (["--strategy", "logit-adjusted", "--set", "remedies.tau=-1"], "remedies.tau: Input should be greater than or "
                                                                   "equal to 0 (got -1)"),
])
def test_a_senseless_remedy_fails_in_one_line_before_training(tmp_path, args, message):
    r = invoke("--dataset", "digits", "--out", str(tmp_path / "run"), *args, *TINY)
    assert r.exit_code != 0 and message in r.output and not (tmp_path / "run").exists()
