"""The judge: trained once in a shared folder and reused, refused when it was trained on something else, and its
optional flips and crops."""

import json

import pytest
import torch

from ganaug.config import ClassifierConfig, ConfigError, EvaluateGANConfig
from ganaug.data import load_dataset, to_float
from ganaug.experiments.judge import feature_classifier, flips_and_crops

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def config(shared, seed=0, steps=30, **extra):
    return EvaluateGANConfig(images="unused", dataset="digits", seed=seed, progress=False,
                             feature_classifier=ClassifierConfig(steps=steps), feature_classifier_dir=str(shared),
                             **extra)


def test_a_shared_judge_is_trained_once_with_seed_0_and_reused_by_runs_of_other_seeds(digits, tmp_path):
    shared = tmp_path / "judge"
    first_model, first = feature_classifier(config(shared, seed=3), digits.train, digits.test, CPU, tmp_path / "a")
    stamp = (shared / "last.safetensors").stat().st_mtime_ns
    model, again = feature_classifier(config(shared, seed=7), digits.train, digits.test, CPU, tmp_path / "b")
    assert not first["reused_checkpoint"] and again["reused_checkpoint"] and again["shared"]
    assert (shared / "last.safetensors").stat().st_mtime_ns == stamp
    assert first["trained_on"].endswith("seed 0") and json.loads((shared / "source.json").read_text())["seed"] == 0
    assert again["test_accuracy"] == first["test_accuracy"]
    x = to_float(digits.test.images[:16])
    assert torch.equal(model(x), first_model(x))
    assert not (tmp_path / "a" / "last.json").exists() and not (tmp_path / "b" / "last.json").exists()


def test_a_shared_judge_of_another_config_is_an_error_and_is_kept(digits, tmp_path):
    shared = tmp_path / "judge"
    feature_classifier(config(shared), digits.train, digits.test, CPU, tmp_path / "a")
    stamp = (shared / "last.safetensors").stat().st_mtime_ns
    with pytest.raises(ConfigError, match=r"feature_classifier_dir=.*judge.*\(config differ\)"):
        feature_classifier(config(shared, steps=40), digits.train, digits.test, CPU, tmp_path / "b")
    with pytest.raises(ConfigError, match=r"\(augment differ\)"):
        feature_classifier(config(shared, feature_classifier_augment=True), digits.train, digits.test, CPU,
                           tmp_path / "b")
    assert (shared / "last.safetensors").stat().st_mtime_ns == stamp


def test_flips_and_crops_move_pixels_and_do_nothing_else(digits):
    torch.manual_seed(0)
    augment = flips_and_crops(digits.train)
    assert augment.description == "RandomHorizontalFlip, RandomCrop"  # no rotation, no colour jitter
    x = to_float(digits.train.images[:256])
    y = augment(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    changed = (y != x).flatten(1).any(1).float().mean()
    assert 0.5 < changed < 1  # most images flipped or shifted; a few drew neither (1/2 x 1/9 at 8 px: no shift)


def test_the_augmented_judge_records_it(digits, tmp_path):
    _, info = feature_classifier(config(tmp_path / "j", feature_classifier_augment=True), digits.train, digits.test,
                                 CPU, tmp_path / "a")
    assert info["augment"] == "flips and crops"
    assert json.loads((tmp_path / "j" / "source.json").read_text())["augment"] == "flips and crops"


def test_a_judge_saved_before_a_config_key_existed_is_still_reused(digits, tmp_path):
    shared = tmp_path / "judge"
    feature_classifier(config(shared), digits.train, digits.test, CPU, tmp_path / "a")
    source = json.loads((shared / "source.json").read_text())
    del source["config"]["lr_schedule"]  # as an older ganaug wrote it
    (shared / "source.json").write_text(json.dumps(source))
    _, info = feature_classifier(config(shared, seed=4), digits.train, digits.test, CPU, tmp_path / "b")
    assert info["reused_checkpoint"] and info["retrained_because"] is None
