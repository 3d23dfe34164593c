"""Augmentation strategies by name: what each arm of ``ganaug augment`` changes about classifier training.

A strategy is a declaration: which images join the real ones (none, GAN images, the DCGAN study's strengthened
copies), whether every batch is classically augmented, whether batches are drawn by difficulty-weighted sampling, and
whether the loss is class-weighted. :func:`plan` turns it into a training set plus the trainer's hooks through
one small function per part, so combinations need no code. A new strategy is one registration::

    _register(Strategy("gan-images+weighted-loss", "...", synthetic="gan", class_weighted_loss=True))

Gao's three experiments are ``gan-images`` (Exp1), ``classic-augment`` (Exp2) and ``difficulty-sampling`` (Exp3);
``exp1``, ``exp2``, ``exp3`` and their ``+`` combinations stay registered as aliases, so that old configs and
artifacts keep working (an alias keeps its own name, so its arms are named as before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ganaug.augment.classic import ClassicAugment
from ganaug.augment.sampling import DifficultyWeightedSampler, inverse_frequency_weights
from ganaug.config import ClassicAugConfig, WeightedSamplingConfig
from ganaug.data.dataset import ImageDataset, concat
from ganaug.errors import ConfigError
from ganaug.registry import Registry

STRATEGIES = Registry("augmentation strategy")


def check_strategies(names: list[str], key: str = "strategies") -> None:
    """A ConfigError naming ``key``, the first unknown name and the valid names, unless every name is a strategy."""
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ConfigError(f"{key}: unknown strategy {unknown[0]!r}; valid names: {', '.join(STRATEGIES.names())}")


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    synthetic: Literal["none", "gan", "strengthened"] = "none"  # images added to the target classes
    classic: bool = False  # classic augmentation of every training batch (Gao's Exp2)
    weighted_sampling: bool = False  # difficulty-weighted sampling (Gao's Exp3)
    class_weighted_loss: bool = False  # cross-entropy weighted by inverse class frequency

    @property
    def uses_generator(self) -> bool:
        return self.synthetic == "gan"

    @property
    def uses_mixing(self) -> bool:
        """Whether the arm depends on the mixing plan (one arm per GAN ratio)."""
        return self.synthetic != "none"


@dataclass
class Ingredients:
    """What an arm's training is made from."""

    real: ImageDataset  # the imbalanced real training split (what the GAN saw)
    real_kept: ImageDataset | None = None  # the real images the mixing plan keeps (a ratio near 1 replaces some)
    synthetic: ImageDataset | None = None  # GAN images for this ratio and generator
    strengthened: ImageDataset | None = None  # the DCGAN study's strengthened images, as many per class as the GAN images
    classic: ClassicAugConfig = field(default_factory=ClassicAugConfig)
    sampling: WeightedSamplingConfig = field(default_factory=WeightedSamplingConfig)


@dataclass
class TrainingPlan:
    """A training set and the trainer's optional hooks (None: not used)."""

    train: ImageDataset
    transform: nn.Module | None = None
    sampler: DifficultyWeightedSampler | None = None
    class_weights: torch.Tensor | None = None


def training_set(strategy: Strategy, ing: Ingredients) -> ImageDataset:
    """The real images, joined by the strategy's synthetic images where it adds some."""
    if strategy.synthetic == "none":
        return ing.real
    added = ing.synthetic if strategy.synthetic == "gan" else ing.strengthened
    if added is None or ing.real_kept is None:
        raise ValueError(f"strategy {strategy.name!r} needs the mixed real part and its {strategy.synthetic} images")
    return concat(ing.real_kept, added)


def plan(strategy: Strategy, ing: Ingredients) -> TrainingPlan:
    train = training_set(strategy, ing)
    K = train.num_classes
    return TrainingPlan(
        train,
        transform=ClassicAugment(ing.classic, train.image_size, train.channels) if strategy.classic else None,
        sampler=DifficultyWeightedSampler(train.labels, K, ing.sampling.difficulty_boost)
        if strategy.weighted_sampling else None,
        class_weights=inverse_frequency_weights(train.labels, K) if strategy.class_weighted_loss else None,
    )


def _register(strategy: Strategy) -> None:
    STRATEGIES.register(strategy.name)(lambda: strategy)


PARTS = {  # descriptive name: (its alias, after Gao's experiment number; what it declares; description)
    "gan-images": ("exp1", {"synthetic": "gan"}, "Gao's Exp1: GAN images added to the target classes"),
    "classic-augment": ("exp2", {"classic": True}, "Gao's Exp2: classic augmentation (flip, crop, rotation, colour "
                        "jitter) of every batch, real and synthetic"),
    "difficulty-sampling": ("exp3", {"weighted_sampling": True}, "Gao's Exp3: difficulty-weighted sampling "
                            "(class-balanced, raised each epoch for classes wrong on validation)"),
}
COMBINATIONS = [["gan-images"], ["classic-augment"], ["difficulty-sampling"], ["gan-images", "classic-augment"],
                ["gan-images", "difficulty-sampling"], ["classic-augment", "difficulty-sampling"],
                ["gan-images", "classic-augment", "difficulty-sampling"]]
ALIASES = {"+".join(PARTS[p][0] for p in parts): "+".join(parts) for parts in COMBINATIONS}  # "exp1+exp2": ...


def _combination(name: str, parts: list[str]) -> Strategy:
    declared = {k: v for p in parts for k, v in PARTS[p][1].items()}
    return Strategy(name, "; ".join(PARTS[p][2] for p in parts), **declared)


_register(Strategy("baseline", "the imbalanced real training split as it is"))
_register(Strategy("class-weighted", "real data, cross-entropy weighted by inverse class frequency",
                   class_weighted_loss=True))
_register(Strategy("strengthened", "the DCGAN study: randomly rotated and colour-enhanced copies of real images, as "
                   "many per class as the GAN images (the classic-only set synthetic data must beat)",
                   synthetic="strengthened"))
for _parts in COMBINATIONS:
    _register(_combination("+".join(_parts), _parts))
for _alias, _name in ALIASES.items():
    _register(_combination(_alias, _name.split("+")))
