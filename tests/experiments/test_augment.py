"""``run_augment`` end to end on the embedded digits at a tiny size: what each model saw, the ratio arithmetic, the
paired intervals, weighted sampling, the leak audit and the report."""

import hashlib
import json
import math
import re
import shutil

import numpy as np
import pytest
import torch
from scipy import stats

import ganaug.experiments.augment as A
from ganaug.augment.mixing import plan_ratio
from ganaug.config import AugmentConfig, ClassifierConfig, GANConfig
from ganaug.data import load_dataset

STRATEGIES = ["exp1", "exp3", "exp1+exp2", "class-weighted", "strengthened"]
ARMS = ["baseline", "exp2", "exp1 r=0.5", "exp1 r=1", "exp3", "exp1+exp2 r=0.5", "exp1+exp2 r=1", "class-weighted",
        "strengthened r=0.5", "strengthened r=1"]


def tiny(out, **kw) -> AugmentConfig:
    return AugmentConfig(**{
        "strategies": STRATEGIES, "ratios": [0.5, 1.0], "seed": 1, "out": str(out), "progress": False,
        "gan": GANConfig(steps=20, g_width=16, d_width=16, z_dim=16, batch_size=32),
        "classifier": ClassifierConfig(steps=15, width=8, repeats=3), "audit_samples": 50, **kw})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The run, with every dataset handed to the GAN trainer and the classifier trainer recorded."""
    out = tmp_path_factory.mktemp("augment")
    seen = {"gan": [], "classifier": []}
    train_gan, train_classifier = A.train_gan, A.train_classifier

    def spy_gan(cfg, data, *args, **kwargs):
        seen["gan"].append(data)
        return train_gan(cfg, data, *args, **kwargs)

    def spy_classifier(cfg, train, *args, **kwargs):
        seen["classifier"].append((train, kwargs.get("val")))
        return train_classifier(cfg, train, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(A, "train_gan", spy_gan)
        mp.setattr(A, "train_classifier", spy_classifier)
        report = A.run_augment(tiny(out), command="test")
    m = json.loads((out / "metrics.json").read_text())
    splits = json.loads((out / "splits.json").read_text())
    return out, report, m, splits, seen


def hashes(images):
    return {hashlib.sha256(img.contiguous().numpy().tobytes()).hexdigest() for img in images}


def test_writes_report_and_metrics_with_every_arm(run):
    out, report, m, _, _ = run
    assert report == out / "report.html" and (out / "report.md").is_file() and (out / "config.yaml").is_file()
    res = m["results"]["small-cnn"]
    assert list(res["arms"]) == ARMS
    for arm, s in res["arms"].items():
        assert s["repeats"] == 3 and len(s["runs"]) == 3 and len(s["per_class_recall"]) == 10
        for key in ("accuracy", "balanced_accuracy", "macro_f1", "auc"):
            assert 0.0 <= s[key] <= 1.0 and key in s["std"]
        assert len(s["per_class_auc"]) == 10
    assert res["comparisons"]["baseline"] == {}  # the references: exp2 against baseline only
    assert list(res["comparisons"]["exp2"]) == ["vs baseline"]
    for arm in ARMS[2:]:
        assert list(res["comparisons"][arm]) == ["vs baseline", "vs exp2"]
        for d in res["comparisons"][arm].values():
            assert d["balanced_accuracy"]["low"] <= d["balanced_accuracy"]["mean"] <= d["balanced_accuracy"]["high"]
            assert len(d["per_class_recall"]) == 10


def test_paired_interval_is_the_students_t_interval_of_the_differences(run):
    _, _, m, _, _ = run
    arms = m["results"]["small-cnn"]["arms"]
    for arm in ("exp1 r=0.5", "strengthened r=1"):
        for ref in ("baseline", "exp2"):
            a = np.array([r["balanced_accuracy"] for r in arms[arm]["runs"]])
            b = np.array([r["balanced_accuracy"] for r in arms[ref]["runs"]])
            d = a - b  # by hand: mean +- t_{0.975, n-1} * sd / sqrt(n)
            half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
            got = m["results"]["small-cnn"]["comparisons"][arm][f"vs {ref}"]["balanced_accuracy"]
            assert got["mean"] == pytest.approx(d.mean(), abs=1e-12)
            assert (got["low"], got["high"]) == pytest.approx((d.mean() - half, d.mean() + half), abs=1e-12)
            ci = stats.ttest_rel(a, b).confidence_interval(0.95) if d.std() > 0 else None
            if ci is not None:
                assert (got["low"], got["high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_no_validation_or_test_image_reaches_the_gan_or_a_classifier(run):
    _, _, m, splits, seen = run
    digits = load_dataset("digits")
    official = digits.train
    row = {int(i): k for k, i in enumerate(official.indices)}  # a position (``indices``) -> its row in the split
    rows = lambda positions: torch.tensor([row[int(i)] for i in positions], dtype=torch.int64)  # noqa: E731
    val_pos, gan_pos = set(splits["val"]), set(splits["gan"])
    val_hashes = hashes(official.images[rows(splits["val"])])
    test_hashes = hashes(digits.test.images)
    # The GAN trained once, on the imbalanced training split: its images are those positions, none of them val.
    (gan_data,) = seen["gan"]
    assert gan_data.indices.tolist() == splits["gan"] and not gan_pos & val_pos
    assert torch.equal(gan_data.images, official.images[rows(gan_data.indices)])
    # Every classifier (judge + 10 arms x 3 repeats): real rows are official training images at their positions,
    # all among the GAN's (the imbalanced split), none in the validation split; generated rows copy no val/test image.
    assert len(seen["classifier"]) == 1 + len(ARMS) * 3
    for train, val in seen["classifier"]:
        assert val.indices.tolist() == splits["val"]
        real = train.indices >= 0
        assert set(train.indices[real].tolist()) <= gan_pos
        assert torch.equal(train.images[real], official.images[rows(train.indices[real])])
        assert not hashes(train.images[~real]) & (val_hashes | test_hashes)
    for arm, positions in splits["arms_real_images"].items():
        assert set(positions) <= gan_pos and not set(positions) & val_pos
    assert m["leak_check"]["validation_positions_in_training_data"] == 0
    assert m["leak_check"]["generated_images_identical_to_a_test_image"] == 0
    assert m["training_images_sha256"]["gan_and_judge"] == A.images_digest(gan_data.images)


def test_training_sets_follow_the_ratio_arithmetic(run):
    _, _, m, _, seen = run
    imbalanced = m["counts"]["imbalanced_train"]
    assert m["target_classes"] == [0, 1, 2]
    for key, r in (("r=0.5", 0.5), ("r=1", 1.0)):
        plan = plan_ratio(imbalanced, [0, 1, 2], r)
        assert m["mixing"]["plans"][key]["real"] == list(plan.real)
        assert m["mixing"]["plans"][key]["synthetic"] == list(plan.synthetic)
        for arm in (f"exp1 {key}", f"strengthened {key}"):
            assert m["training_images_sha256"]["arms"][arm]["class_counts"] == plan.totals()
    assert m["mixing"]["plans"]["r=1"]["real"][:3] == [0, 0, 0]  # ratio 1: the target classes are all synthetic
    assert m["mixing"]["plans"]["r=0.5"]["achieved_ratio_per_class"][:3] == [0.5, 0.5, 0.5]
    gan_sets = m["generators"]["last"]["synthetic_counts"]
    assert gan_sets["r=1"][:3] == [max(imbalanced)] * 3 and gan_sets["r=0.5"][:3] == imbalanced[:3]


def test_weighted_sampling_is_recorded_and_moves(run):
    _, _, m, _, _ = run
    log = m["results"]["small-cnn"]["weighted_sampling"]["exp3"]
    shares = np.array(log["final_class_shares"])
    errors = np.array(log["validation_errors_per_epoch"][-1])
    assert shares.sum() == pytest.approx(1.0) and len(log["validation_errors_per_epoch"]) >= 1
    expected = (1 + 2.0 * errors) / (1 + 2.0 * errors).sum()  # class-balanced x (1 + boost x error)
    assert shares == pytest.approx(expected)


def test_generated_sets_are_audited(run):
    _, _, m, _, _ = run
    g = m["generators"]["last"]
    assert g["source"].startswith("trained in this run") and set(g["leak_audit"]) == {"r=0.5", "r=1"}
    for audit in g["leak_audit"].values():
        assert 0.0 <= audit["flagged_share"] <= 1.0 and audit["audited"] <= 50 and "generated_distances" not in audit
    assert set(g["class_consistency"]) == {"r=0.5", "r=1"}
    assert m["split_duplicates"]["n_test"] == 50


def test_report_says_it_in_words_and_is_self_contained(run):
    out, _, _, _, _ = run
    md = (out / "report.md").read_text()
    assert re.search(r"helped|did not help|cannot tell", md) and "exp1 r=0.5" in md and "Leak check" in md
    page = (out / "report.html").read_text()
    # per classifier: recall, differences, curves, confusion, ROC; samples, closest pairs of both sets, test/train pairs
    assert page.count('src="data:image/png;base64,') == 9 and not re.search(r'src="(?!data:)', page)


def test_rerun_resumes_grows_more_seeds_and_another_config_is_refused(run, tmp_path):
    """Re-running resumes; classifier.repeats may change on resume (seed k is seed + k whatever the count): 3 -> 4
    seeds trains only the fourth seed's classifiers, and the first three runs are the finished ones, number for
    number. Any other change is refused."""
    out, _, m, _, _ = run
    copy = tmp_path / "grown"
    shutil.copytree(out, copy)
    trained = []
    train_classifier = A.train_classifier

    def spy(cfg, train, seed, *args, **kwargs):
        folder = kwargs.get("checkpoint_dir")
        if folder is not None and not (folder / "last.json").exists():
            trained.append(seed)
        return train_classifier(cfg, train, seed, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(A, "train_classifier", spy)
        again = A.run_augment(tiny(copy, classifier=ClassifierConfig(steps=15, width=8, repeats=4)), command="test")
    grown = json.loads((copy / "metrics.json").read_text())["results"]["small-cnn"]["arms"]["exp3"]["runs"]
    assert grown[:3] == m["results"]["small-cnn"]["arms"]["exp3"]["runs"] and len(grown) == 4 and again.is_file()
    assert trained and set(trained) == {1 + 3}  # only seed 4 (seed 1 + repeat 3) trained anew
    with pytest.raises(Exception, match="different config"):
        A.run_augment(tiny(out, ratios=[0.2]), command="test")


def test_dcgan_study_protocol_unconditional_gan_snapshots_and_strengthened_reference(tmp_path):
    """The DCGAN study: an unconditional DCGAN labelled by the teacher, generators of two epochs, N added per class,
    each compared with the original data and with as many strengthened images."""
    cfg = tiny(tmp_path / "run", strategies=["exp1", "strengthened"], compare_to=["baseline", "strengthened"],
               mixing="add", add_per_class=12, gan_epochs=[1, 2], imbalance={"profile": "none"},
               gan=GANConfig(architecture="dcgan", conditional=False, epochs=2, g_width=16, d_width=16, z_dim=16,
                             batch_size=64), classifier=ClassifierConfig(steps=10, width=8, repeats=3))
    A.run_augment(cfg, command="test")
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    res = m["results"]["small-cnn"]
    assert list(res["arms"]) == ["baseline", "strengthened +12/class", "exp1 +12/class epoch 1", "exp1 +12/class epoch 2"]
    assert list(res["comparisons"]["exp1 +12/class epoch 2"]) == ["vs baseline", "vs strengthened +12/class"]
    assert list(res["comparisons"]["strengthened +12/class"]) == ["vs baseline"]
    assert m["target_classes"] == list(range(10)) and set(m["generators"]) == {"epoch 1", "epoch 2"}
    for g in m["generators"].values():
        assert not g["pool"]["conditional"] and g["pool"]["labelled_by"].startswith("the teacher")
        assert sum(g["synthetic_counts"]["+12/class"]) + sum(g["pool"]["shortfall_per_class"]) == 120
    assert m["strengthened_counts"]["+12/class"] == [12] * 10
    assert (tmp_path / "run" / "checkpoints" / "gan" / "epoch-0001.json").is_file()


def test_grid_task_reads_every_arm_of_the_metrics(run):
    """`ganaug run` with task augment stores each arm's scalars (the grid pairs them across repeats)."""
    from ganaug.runner import TASKS

    _, _, m, _, _ = run
    scalars = TASKS.create("augment").scalars(m)
    assert list(scalars) == ARMS
    arm = m["results"]["small-cnn"]["arms"][ARMS[1]]
    assert scalars[ARMS[1]]["accuracy"] == arm["accuracy"] and "std" not in scalars[ARMS[1]]
