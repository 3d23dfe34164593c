"""Post-processing of generated images: colour matching, quality filtering, near-duplicates, teacher labels, and
the candidate pool the synthetic sets are drawn from."""

import math

import pytest
import torch
from torch import nn

from ganaug.augment import postprocess as P
from ganaug.augment.synthetic import build_pool
from ganaug.config import PostprocessConfig
from ganaug.data import ImageDataset
from ganaug.gan.trainer import build_gan
from ganaug.config import GANConfig

CPU = torch.device("cpu")


class StubGenerator(nn.Module):
    """Images whose brightness encodes the class asked for (conditional) or a random class (unconditional)."""

    def __init__(self, num_classes: int, constant: bool = False) -> None:
        super().__init__()
        self.num_classes, self.constant = num_classes, constant

    def forward(self, z, y=None):
        level = (y.float() if y is not None else (z[:, 0].abs() * 10).floor() % 3) / 3 - 0.5
        noise = 0.0 if self.constant else 0.3 * torch.tanh(z[:, 1:2, None, None].expand(-1, 3, 8, 8))
        return (level.view(-1, 1, 1, 1) + noise).expand(-1, 3, 8, 8).clamp(-1, 1)


class BrightnessTeacher(nn.Module):
    """Logits favouring class round(3 * (mean + 0.5)), i.e. the stub's classes; never class ``never``."""

    def __init__(self, never: int | None = None) -> None:
        super().__init__()
        self.never = never

    def forward(self, x):
        level = ((x.mean((1, 2, 3)) + 0.5) * 3).round().clamp(0, 2).long()
        if self.never is not None:
            level[level == self.never] = (self.never + 1) % 3
        return torch.nn.functional.one_hot(level, 3).float() * 5


def real_set(n=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ImageDataset(torch.randint(0, 256, (n, 3, 8, 8), generator=g, dtype=torch.uint8),
                        torch.arange(n) % 3, ["a", "b", "c"])


def test_colour_match_gives_each_class_the_real_channel_statistics():
    real = real_set()
    g = torch.Generator().manual_seed(1)
    fake = (torch.rand(60, 3, 8, 8, generator=g) * 80 + 20).to(torch.uint8)
    labels = torch.arange(60) % 3
    matched = P.colour_match(fake, labels, real)
    for c in range(3):
        mu_m, sd_m = P.channel_stats(matched[labels == c])
        mu_r, sd_r = P.channel_stats(real.images[real.labels == c])
        assert torch.allclose(mu_m, mu_r, atol=1.0) and torch.allclose(sd_m, sd_r, atol=1.0)


def test_near_duplicates_and_copies_of_training_images_are_dropped():
    real = real_set()
    g = torch.Generator().manual_seed(2)
    new = torch.randint(0, 256, (4, 3, 8, 8), generator=g, dtype=torch.uint8)
    candidates = torch.cat([new[:2], new[:1], real.images[:1], new[2:]])  # a repeat and a training-image copy
    labels = torch.tensor([0, 1, 0, 2, 1, 2])
    keep = P.near_duplicate_free(candidates, labels, 0.01, real=real.images)
    assert keep.tolist() == [True, True, False, False, True, True]
    kept_before = P.near_duplicate_free(new[:1], torch.tensor([0]), 0.01, kept=new[:1], kept_labels=torch.tensor([0]))
    assert kept_before.tolist() == [False]
    other_class = P.near_duplicate_free(new[:1], torch.tensor([1]), 0.01, kept=new[:1], kept_labels=torch.tensor([0]))
    assert other_class.tolist() == [True]


def test_candidates_needed_is_exact():
    assert P.candidates_needed(3, 0.7) == 10  # 3 / (1 - 0.7) is 10.000000000000002 in floating point
    assert P.candidates_needed(10, 0.0) == 10 and P.candidates_needed(5, 0.5) == 10


def test_select_keeps_the_best_scored_of_the_first_candidates_per_class():
    labels = torch.tensor([0, 1, 0, 0, 1, 0, 0, 1])
    scores = torch.tensor([0.1, 0.9, 0.8, 0.3, 0.2, 0.7, 0.99, 0.5])
    # class 0: first ceil(2 / 0.5) = 4 candidates are positions 0, 2, 3, 5; best two: 2 (0.8), 5 (0.7)
    # class 1: first 2 candidates are 1, 4: best one: 1
    assert P.select(labels, [2, 1], 0.5, scores).tolist() == [1, 2, 5]
    assert P.select(labels, [2, 1], 0.0, None).tolist() == [0, 1, 2]
    assert P.select(labels, [9, 0], 0.0, None).tolist() == [0, 2, 3, 5, 6]  # too few: all there is


def test_scores_from_a_classifier_and_from_a_discriminator():
    x = ((torch.arange(6) % 3).float() / 3 - 0.5).view(-1, 1, 1, 1).expand(-1, 3, 8, 8)
    images = ((x + 1) * 127.5).round().to(torch.uint8)
    labels = torch.tensor([0, 1, 2, 1, 1, 1])
    probs = P.classifier_scores(BrightnessTeacher(), images, labels, CPU)
    assert probs[[0, 1, 2, 4]].min() > 0.9 and probs[[3, 5]].max() < 0.1  # images 3, 5 are of classes 0 and 2, not 1
    assert P.teacher_labels(BrightnessTeacher(), images, CPU).tolist() == [0, 1, 2, 0, 1, 2]
    _, D, _ = build_gan(GANConfig(architecture="cdcgan", d_width=16), 8, 3, 3)
    assert P.discriminator_scores(D, images, labels, CPU).shape == (6,)


def test_pool_from_a_conditional_generator_with_a_quality_filter():
    pp = PostprocessConfig(filter_by="classifier", drop_fraction=0.5)
    pool = build_pool(StubGenerator(3), 4, [4, 0, 2], real_set(), pp, 0, CPU, judge=BrightnessTeacher())
    assert pool.info["candidates_per_class"] == [8, 0, 4] and pool.info["shortfall_per_class"] == [0, 0, 0]
    assert pool.scores is not None and pool.take([4, 0, 2], 0.5).class_counts() == [4, 0, 2]
    assert pool.take([2, 0, 1], 0.5).class_counts() == [2, 0, 1]


def test_pool_from_an_unconditional_generator_uses_teacher_labels_and_reports_a_shortfall():
    pp = PostprocessConfig(max_rounds=3)
    pool = build_pool(StubGenerator(0), 4, [5, 5, 5], real_set(), pp, 0, CPU, judge=BrightnessTeacher(never=1))
    teacher = P.teacher_labels(BrightnessTeacher(never=1), pool.images, CPU)
    assert torch.equal(pool.labels, teacher) and pool.info["labelled_by"].startswith("the teacher")
    assert pool.info["candidates_per_class"] == [5, 0, 5] and pool.info["shortfall_per_class"] == [0, 5, 0]
    assert pool.info["rounds"] == 3
    with pytest.raises(ValueError, match="teacher"):
        build_pool(StubGenerator(0), 4, [1, 1, 1], real_set(), pp, 0, CPU)


def test_pool_drops_near_duplicates_of_each_other():
    pp = PostprocessConfig(dedup_threshold=0.01, max_rounds=2)
    pool = build_pool(StubGenerator(3, constant=True), 4, [3, 3, 0], real_set(), pp, 0, CPU)
    assert pool.info["candidates_per_class"] == [1, 1, 0]  # every candidate of a class is the same image
    assert pool.info["candidates_drawn"] == 6 + 4 and not math.isnan(float(pool.images.float().mean()))
