"""Classification accuracy score on digits: real images standing in for a perfect generator score high,
a generator that ignores the class it is asked for scores at chance."""

import pytest
import torch

from ganaug.config import ClassifierConfig
from ganaug.data.dataset import ImageDataset
from ganaug.data.digits import load_digits
from ganaug.metrics import classification_accuracy_score

CFG = ClassifierConfig(width=8, steps=120, batch_size=64)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_faithful_synthetic_data_scores_high(digits):
    out = classification_accuracy_score(digits.train, digits.test, CFG, seed=0)
    assert out["accuracy"] > 0.8 and out["balanced_accuracy"] > 0.8  # chance is 0.1
    assert (out["n_synthetic"], out["n_test"], out["classifier"]) == (len(digits.train), len(digits.test), "small-cnn")


def test_labels_unrelated_to_images_score_near_chance(digits):
    shuffled = digits.train.labels[torch.randperm(len(digits.train), generator=torch.Generator().manual_seed(0))]
    synthetic = ImageDataset(digits.train.images, shuffled, digits.train.class_names)
    out = classification_accuracy_score(synthetic, digits.test, CFG, seed=0)
    assert out["accuracy"] < 0.3


def test_mismatched_sets_are_refused(digits):
    other = ImageDataset(digits.test.images, digits.test.labels, [str(i) for i in range(10, 20)])
    with pytest.raises(ValueError, match="class names"):
        classification_accuracy_score(digits.train, other, CFG)
