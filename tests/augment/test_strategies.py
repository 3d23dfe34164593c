"""Every registered strategy turns into a training set plus exactly the trainer hooks it declares."""

import pytest
import torch

from ganaug.augment import STRATEGIES, Ingredients, plan
from ganaug.augment.classic import ClassicAugment
from ganaug.augment.sampling import DifficultyWeightedSampler
from ganaug.data import ImageDataset


def dataset(counts, seed):
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    images = torch.randint(0, 256, (len(labels), 1, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    return ImageDataset(images, labels, ["a", "b", "c"])


REAL = dataset([2, 10, 10], 0)
INGREDIENTS = Ingredients(REAL, real_kept=REAL, synthetic=dataset([8, 0, 0], 1), strengthened=dataset([8, 0, 0], 2))


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_plan_follows_the_declaration(name):
    s = STRATEGIES.create(name)
    p = plan(s, INGREDIENTS)
    assert isinstance(p.transform, ClassicAugment) == s.classic
    assert isinstance(p.sampler, DifficultyWeightedSampler) == s.weighted_sampling
    assert (p.class_weights is not None) == s.class_weighted_loss
    expected = {"none": [2, 10, 10], "gan": [10, 10, 10], "strengthened": [10, 10, 10]}[s.synthetic]
    assert p.train.class_counts() == expected
    if s.synthetic != "none":  # the added images are exactly the synthetic (or strengthened) set, after the real ones
        added = INGREDIENTS.synthetic if s.synthetic == "gan" else INGREDIENTS.strengthened
        assert torch.equal(p.train.images[len(REAL):], added.images) and (p.train.indices[len(REAL):] == -1).all()


def test_the_studies_strategies_are_registered():
    for name in ("baseline", "class-weighted", "exp1", "exp2", "exp3", "exp1+exp2", "exp1+exp3", "exp1+exp2+exp3",
                 "strengthened"):
        assert name in STRATEGIES
    with pytest.raises(KeyError, match="valid names"):
        STRATEGIES.create("exp4")


def test_a_strategy_that_adds_images_needs_them():
    with pytest.raises(ValueError, match="exp1"):
        plan(STRATEGIES.create("exp1"), Ingredients(REAL))


@pytest.mark.parametrize("alias, name", [("exp1", "gan-images"), ("exp2", "classic-augment"),
                                         ("exp3", "difficulty-sampling"),
                                         ("exp1+exp2+exp3", "gan-images+classic-augment+difficulty-sampling")])
def test_gaos_experiment_numbers_are_aliases_of_descriptive_names(alias, name):
    """An alias declares what its descriptive name declares and keeps its own name (old arms keep theirs)."""
    a, s = STRATEGIES.create(alias), STRATEGIES.create(name)
    assert (a.synthetic, a.classic, a.weighted_sampling, a.class_weighted_loss) == \
        (s.synthetic, s.classic, s.weighted_sampling, s.class_weighted_loss)
    assert (a.name, s.name) == (alias, name) and a.description == s.description
