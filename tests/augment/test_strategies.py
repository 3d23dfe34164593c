"""Every registered strategy turns into a training set plus exactly the trainer hooks it declares."""

import pytest
import torch

from ganaug.augment import STRATEGIES, Ingredients, plan
from ganaug.augment.auto import Policy
from ganaug.augment.batch_mix import CutMix, Mixup
from ganaug.augment.classic import ClassicAugment
from ganaug.augment.sampling import DifficultyWeightedSampler
from ganaug.augment.strategies import check_strategies
from ganaug.classifier.losses import DeferredReweighting, LogitOffset
from ganaug.config import AugmentConfig, ConfigError, RemediesConfig, build_config
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
    assert isinstance(p.transform, Policy) == (s.policy is not None)
    assert (p.loss is not None) == (s.loss is not None) and p.posthoc == s.posthoc
    assert {None: type(None), "mixup": Mixup, "cutmix": CutMix}[s.batch_mix] == type(p.mix)
    expected = {"none": [2, 10, 10], "gan": [10, 10, 10], "translated": [10, 10, 10], "strengthened": [10, 10, 10]}[
        s.synthetic]
    assert p.train.class_counts() == expected
    if s.synthetic != "none":  # the added images are exactly the synthetic (or strengthened) set, after the real ones
        added = INGREDIENTS.strengthened if s.synthetic == "strengthened" else INGREDIENTS.synthetic  # GAN, translated
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


@pytest.mark.parametrize("name, expected", [
    ("exp1+logit-adjusted", {"synthetic": "gan", "loss": "logit-adjusted"}),
    ("gan-images+mixup", {"synthetic": "gan", "batch_mix": "mixup"}),
    ("exp1+exp2+ldam-drw", {"synthetic": "gan", "classic": True, "loss": "ldam-drw"}),
    ("difficulty-sampling+cutmix+trivialaugment", {"weighted_sampling": True, "batch_mix": "cutmix",
                                                   "policy": "trivialaugment"}),
    ("strengthened+posthoc-logit-adjusted", {"synthetic": "strengthened", "posthoc": True}),
])
def test_any_sensible_combination_declares_what_its_parts_declare(name, expected):
    s = STRATEGIES.create(name)
    assert s.name == name and name in STRATEGIES
    for key, value in expected.items():
        assert getattr(s, key) == value
    assert s.description.count(";") == name.count("+")
    p = plan(s, INGREDIENTS)
    assert p.train.class_counts() == ([10, 10, 10] if s.synthetic != "none" else [2, 10, 10])


def test_combined_losses_see_the_training_set_with_its_added_images():
    p = plan(STRATEGIES.create("gan-images+balanced-softmax"), INGREDIENTS)
    assert isinstance(p.loss, LogitOffset)
    torch.testing.assert_close(p.loss.offset, torch.tensor([10.0, 10.0, 10.0]).log())  # 2 real + 8 GAN images
    p = plan(STRATEGIES.create("ldam-drw"), Ingredients(REAL, remedies=RemediesConfig(max_margin=0.3)))
    assert isinstance(p.loss, DeferredReweighting) and p.loss.margins.max().item() == pytest.approx(0.3)


@pytest.mark.parametrize("name, parts, what", [
    ("logit-adjusted+balanced-softmax", ("logit-adjusted", "balanced-softmax"), "loss modifications"),
    ("mixup+cutmix", ("mixup", "cutmix"), "batch mixes"),
    ("class-weighted+ldam-drw", ("class-weighted", "ldam-drw"), "loss modifications"),
    ("logit-adjusted+posthoc-logit-adjusted", ("logit-adjusted", "posthoc-logit-adjusted"), "loss modifications"),
    ("exp2+randaugment", ("exp2", "randaugment"), "augmentation policies"),
    ("gan-images+strengthened", ("gan-images", "strengthened"), "sets of added images"),
])
def test_a_combination_that_changes_one_thing_twice_fails_in_one_line_naming_it(name, parts, what):
    with pytest.raises(ConfigError) as err:
        check_strategies(["baseline", name])
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"strategies: {name!r} combines {parts[0]!r} and {parts[1]!r}")
    assert what in message and name not in STRATEGIES
    with pytest.raises(ConfigError, match="^compare_to: "):
        check_strategies([name], "compare_to")


def test_an_unknown_part_is_named_with_the_valid_names():
    with pytest.raises(ConfigError, match=r"strategies: unknown strategy 'exp1\+focal'; valid names .*logit-adjusted"):
        check_strategies(["exp1+focal"])


def test_remedies_options_are_validated_before_training():
    with pytest.raises(ConfigError, match=r"^invalid config \(command line\): remedies.tau: .*greater than or equal "
                                          r"to 0 \(got -1\)$"):
        build_config(AugmentConfig, None, {"remedies": {"tau": -1}})
    with pytest.raises(ConfigError, match="remedies.posthoc_taus"):
        build_config(AugmentConfig, None, {"remedies": {"posthoc_taus": [-0.5, 1.0]}})
