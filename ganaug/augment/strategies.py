"""Augmentation strategies by name: what each arm of ``ganaug augment`` changes about classifier training.

A strategy is a declaration: which images join the real ones (none, GAN images, the DCGAN study's strengthened
copies), how every batch is augmented (classic, RandAugment, TrivialAugment) or mixed (mixup, CutMix), whether
batches are drawn by difficulty-weighted sampling, and which loss is taken (class-weighted, logit-adjusted, balanced
softmax, LDAM-DRW, DRW, or post-hoc logit adjustment at prediction time). :func:`plan` turns it into a training set
plus the trainer's hooks through one small function per part. A new part is one registration::

    _register(Strategy("mixup", "...", batch_mix="mixup"))

and any ``+`` combination of parts resolves by itself (``gan-images+logit-adjusted``), unless two parts change the
same thing (two losses, two batch mixes, two augmentation policies, two sets of added images): that combination
fails before training, naming it.

Gao's three experiments are ``gan-images`` (Exp1), ``classic-augment`` (Exp2) and ``difficulty-sampling`` (Exp3);
``exp1``, ``exp2``, ``exp3`` stay registered as aliases and combine like the rest, so that old configs and
artifacts keep working (an alias keeps its own name, so its arms are named as before).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import torch
from torch import nn

from ganaug.augment.auto import POLICIES
from ganaug.augment.batch_mix import BATCH_MIXES, BatchMix
from ganaug.augment.classic import ClassicAugment
from ganaug.augment.sampling import DifficultyWeightedSampler, inverse_frequency_weights
from ganaug.classifier.losses import LOSSES, LossAdjustment
from ganaug.config import ClassicAugConfig, RemediesConfig, WeightedSamplingConfig
from ganaug.data.dataset import ImageDataset, concat
from ganaug.errors import ConfigError
from ganaug.registry import Registry


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    synthetic: Literal["none", "gan", "translated", "strengthened"] = "none"  # images added to the target classes
    classic: bool = False  # classic augmentation of every training batch (Gao's Exp2)
    weighted_sampling: bool = False  # difficulty-weighted sampling (Gao's Exp3)
    class_weighted_loss: bool = False  # cross-entropy weighted by inverse class frequency
    loss: str | None = None  # a loss of ganaug.classifier.losses.LOSSES; None: cross-entropy
    posthoc: bool = False  # post-hoc logit adjustment of the test logits, tau chosen on the validation split
    batch_mix: str | None = None  # a mix of ganaug.augment.batch_mix.BATCH_MIXES (mixup, cutmix); None: none
    policy: str | None = None  # an augmentation policy of ganaug.augment.auto.POLICIES; None: none

    @property
    def uses_generator(self) -> bool:
        """Whether the arm trains on generated images (a GAN's, or majority images a CycleGAN translated)."""
        return self.synthetic in ("gan", "translated")

    @property
    def uses_mixing(self) -> bool:
        """Whether the arm depends on the mixing plan (one arm per GAN ratio)."""
        return self.synthetic != "none"


# What each declaration changes: two parts of a combination may not change the same thing.
CHANGES = {"synthetic": "sets of added images", "classic": "augmentation policies", "policy": "augmentation policies",
           "weighted_sampling": "samplers", "class_weighted_loss": "loss modifications", "loss": "loss modifications",
           "posthoc": "loss modifications", "batch_mix": "batch mixes"}


class StrategyRegistry(Registry):
    """Registered strategies, and any ``+`` combination of them, which declares what its parts declare."""

    def get(self, name: str):
        if name in self._entries or "+" not in name:
            return super().get(name)
        parts = [super(StrategyRegistry, self).get(p)() for p in name.split("+")]
        return lambda: combine(name, parts)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)()
        except (KeyError, ConfigError):
            return False
        return True


STRATEGIES = StrategyRegistry("augmentation strategy")


def declared(s: Strategy) -> dict[str, Any]:
    """What a strategy changes against plain training: its fields that differ from their defaults."""
    return {f.name: getattr(s, f.name) for f in fields(s) if f.name in CHANGES and getattr(s, f.name) != f.default}


def combine(name: str, parts: list[Strategy]) -> Strategy:
    """The strategy that declares what each part declares; a ConfigError when two parts change the same thing."""
    seen: dict[str, str] = {}
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in declared(part).items():
            if CHANGES[key] in seen:
                raise ConfigError(f"strategies: {name!r} combines {seen[CHANGES[key]]!r} and {part.name!r}, two "
                                  f"{CHANGES[key]}; expected at most one of them")
            seen[CHANGES[key]] = part.name
            out[key] = value
    if not out:
        raise ConfigError(f"strategies: {name!r} combines parts that change nothing; expected parts such as "
                          "gan-images, mixup, logit-adjusted")
    return replace(Strategy(name, "; ".join(p.description for p in parts)), **out)


def check_strategies(names: list[str], key: str = "strategies") -> None:
    """A ConfigError naming ``key`` and the first name that is neither a strategy nor a sensible ``+`` combination of
    them (with the valid names), unless every name resolves."""
    for n in names:
        try:
            STRATEGIES.create(n)
        except KeyError:
            raise ConfigError(f"{key}: unknown strategy {n!r}; valid names (combine them with +): "
                              f"{', '.join(STRATEGIES.names())}") from None
        except ConfigError as err:
            raise ConfigError(str(err).replace("strategies:", f"{key}:", 1)) from None


@dataclass
class Ingredients:
    """What an arm's training is made from."""

    real: ImageDataset  # the imbalanced real training split (what the GAN saw)
    real_kept: ImageDataset | None = None  # the real images the mixing plan keeps (a ratio near 1 replaces some)
    synthetic: ImageDataset | None = None  # generated images (GAN or translated) for this ratio and generator
    strengthened: ImageDataset | None = None  # the DCGAN study's strengthened images, as many per class as the GAN images
    classic: ClassicAugConfig = field(default_factory=ClassicAugConfig)
    sampling: WeightedSamplingConfig = field(default_factory=WeightedSamplingConfig)
    remedies: RemediesConfig = field(default_factory=RemediesConfig)


@dataclass
class TrainingPlan:
    """A training set and the trainer's optional hooks (None: not used)."""

    train: ImageDataset
    transform: nn.Module | None = None
    sampler: DifficultyWeightedSampler | None = None
    class_weights: torch.Tensor | None = None
    loss: LossAdjustment | None = None
    mix: BatchMix | None = None
    posthoc: bool = False  # adjust the test logits post hoc (tau chosen on the validation split)


def training_set(strategy: Strategy, ing: Ingredients) -> ImageDataset:
    """The real images, joined by the strategy's synthetic images where it adds some."""
    if strategy.synthetic == "none":
        return ing.real
    added = ing.strengthened if strategy.synthetic == "strengthened" else ing.synthetic
    if added is None or ing.real_kept is None:
        raise ValueError(f"strategy {strategy.name!r} needs the mixed real part and its {strategy.synthetic} images")
    return concat(ing.real_kept, added)


def transform(strategy: Strategy, ing: Ingredients, train: ImageDataset) -> nn.Module | None:
    if strategy.classic:
        return ClassicAugment(ing.classic, train.image_size, train.channels)
    return POLICIES.create(strategy.policy, cfg=ing.remedies) if strategy.policy else None


def plan(strategy: Strategy, ing: Ingredients) -> TrainingPlan:
    train = training_set(strategy, ing)
    K = train.num_classes
    return TrainingPlan(
        train,
        transform=transform(strategy, ing, train),
        sampler=DifficultyWeightedSampler(train.labels, K, ing.sampling.difficulty_boost)
        if strategy.weighted_sampling else None,
        class_weights=inverse_frequency_weights(train.labels, K) if strategy.class_weighted_loss else None,
        loss=LOSSES.create(strategy.loss, counts=train.class_counts(), cfg=ing.remedies) if strategy.loss else None,
        mix=BATCH_MIXES.create(strategy.batch_mix, cfg=ing.remedies) if strategy.batch_mix else None,
        posthoc=strategy.posthoc,
    )


def _register(strategy: Strategy) -> None:
    STRATEGIES.register(strategy.name)(lambda: strategy)


def _alias(alias: str, strategy: Strategy) -> None:
    """Gao's experiment number for a part: it declares what the part declares and keeps its own name."""
    _register(replace(strategy, name=alias))


_register(Strategy("baseline", "the imbalanced real training split as it is"))
_register(Strategy("class-weighted", "real data, cross-entropy weighted by inverse class frequency",
                   class_weighted_loss=True))
_register(Strategy("strengthened", "the DCGAN study: randomly rotated and colour-enhanced copies of real images, as "
                   "many per class as the GAN images (the classic-only set synthetic data must beat)",
                   synthetic="strengthened"))
_alias("exp1", GAN := Strategy("gan-images", "Gao's Exp1: GAN images added to the target classes", synthetic="gan"))
_alias("exp2", CLASSIC := Strategy("classic-augment", "Gao's Exp2: classic augmentation (flip, crop, rotation, colour "
                                   "jitter) of every batch, real and synthetic", classic=True))
_alias("exp3", SAMPLING := Strategy("difficulty-sampling", "Gao's Exp3: difficulty-weighted sampling (class-balanced, "
                                    "raised each epoch for classes wrong on validation)", weighted_sampling=True))
for _s in (GAN, CLASSIC, SAMPLING):
    _register(_s)
_register(Strategy("translate", "Zhu et al. 2017: images of the largest class translated into each target class by "
                   "a CycleGAN (one per target class), added as GAN images are", synthetic="translated"))
_register(Strategy("logit-adjusted", "Menon et al. 2021: cross-entropy on logits + tau * log(class prior)",
                   loss="logit-adjusted"))
_register(Strategy("posthoc-logit-adjusted", "Menon et al. 2021: plain training, then test logits - tau * log(class "
                   "prior), tau chosen on the validation split", posthoc=True))
_register(Strategy("balanced-softmax", "Ren et al. 2020: cross-entropy on logits + log(class count)",
                   loss="balanced-softmax"))
_register(Strategy("ldam-drw", "Cao et al. 2019: LDAM margins (n^-1/4, scaled logits) and deferred class-balanced "
                   "re-weighting", loss="ldam-drw"))
_register(Strategy("drw", "Cao et al. 2019: cross-entropy with deferred class-balanced re-weighting", loss="drw"))
_register(Strategy("mixup", "Zhang et al. 2018: mixup of image pairs and their targets", batch_mix="mixup"))
_register(Strategy("cutmix", "Yun et al. 2019: CutMix, a box of another image pasted in, targets by area",
                   batch_mix="cutmix"))
_register(Strategy("randaugment", "Cubuk et al. 2020: RandAugment (kornia) of every batch", policy="randaugment"))
_register(Strategy("trivialaugment", "Müller & Hutter 2021: TrivialAugment (kornia) of every batch",
                   policy="trivialaugment"))
