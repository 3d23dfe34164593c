"""The augmentation jobs' schemas: the demo (imbalance, GAN, rebalance, compare) and the augment study grid."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ganaug.config.core import ClassifierConfig, DataConfig, GANConfig, ImbalanceConfig, RunOptions, Strict
from ganaug.config.translate import CycleGANConfig


class DemoConfig(RunOptions):
    """The main job: imbalance a dataset, train a conditional GAN on it, rebalance with synthetic images, compare."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig()
    gan: GANConfig = GANConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    judge_samples_per_class: int = Field(100, ge=1)  # generated images per class scored by the reference classifier
    synthetic: str | None = None  # images made by any model (folder <class>/*.png or .npz) to use instead of
    # training a GAN: checked against the data, then mixed, judged and audited alike (see ganaug/data/imageset.py)
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    out: str = "runs/demo"
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard


class ClassicAugConfig(Strict):
    """Classic augmentation (Gao's Exp2), drawn afresh for every training batch, real and synthetic images alike.

    the DCGAN study's "strengthened" images use the rotation and colour settings only.
    """

    flip: float = Field(0.5, ge=0.0, le=1.0)  # probability of a horizontal flip (0 where a flip changes the class)
    crop_padding: float = Field(0.125, ge=0.0, lt=0.5)  # pad by this share of the side (4 px at 32 px), crop back at random
    rotation: float = Field(15.0, ge=0.0, le=180.0)  # degrees, uniform in [-rotation, +rotation]; 0 = off
    brightness: float = Field(0.2, ge=0.0, le=1.0)  # colour jitter strengths (kornia ColorJitter); 0 = off
    contrast: float = Field(0.2, ge=0.0, le=1.0)
    saturation: float = Field(0.2, ge=0.0, le=1.0)  # RGB images only
    hue: float = Field(0.0, ge=0.0, le=0.5)  # RGB images only; Gao jitters brightness, contrast and saturation


class PostprocessConfig(Strict):
    """What happens to generated images before they join a training set (Gao, section 3.4.1)."""

    colour_match: bool = False  # per class and channel, shift/scale the synthetic mean and std to the real class's
    filter_by: Literal["none", "classifier", "discriminator"] = "none"  # who scores candidates for the quality filter:
    # the judge classifier (trained on the imbalanced real training split; score = its probability of the class)
    # or the GAN's discriminator (its logit)
    drop_fraction: float = Field(0.0, ge=0.0, lt=1.0)  # share of the lowest-scored candidates dropped: n / (1 - f) drawn
    dedup_threshold: float | None = Field(None, gt=0.0)  # drop candidates within this rms pixel distance ([0, 1] units)
    # of a kept candidate of the same class or of a real training image; None: off
    max_rounds: int = Field(10, ge=1)  # sampling rounds to fill each class's quota (dedup, teacher labels), then stop

    @model_validator(mode="after")
    def _coherent(self) -> "PostprocessConfig":
        if (self.filter_by == "none") != (self.drop_fraction == 0.0):
            raise ValueError(
                f"postprocess.filter_by={self.filter_by!r} with drop_fraction={self.drop_fraction}: the quality filter "
                "needs both a scorer (classifier | discriminator) and a drop_fraction in (0, 1)"
            )
        return self


class WeightedSamplingConfig(Strict):
    """Gao's Exp3: class-balanced sampling weights, raised each epoch for the classes the model gets wrong."""

    difficulty_boost: float = Field(2.0, ge=0.0)  # a class entirely misclassified on the validation split is drawn
    # (1 + this) times as often as under class balance; 0 = plain class-balanced sampling


class RemediesConfig(Strict):
    """Options of the remedies without a generator (``ganaug/classifier/losses.py``, ``ganaug/augment/batch_mix.py``,
    ``ganaug/augment/auto.py``); each is read only by the strategies that use it."""

    tau: float = Field(1.0, ge=0.0)  # logit-adjusted loss: cross-entropy on logits + tau * log(class prior) (Menon et al.)
    posthoc_taus: list[float] = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]  # post-hoc logit adjustment: the grid
    # of tau searched on the validation split (balanced accuracy), never on test
    max_margin: float = Field(0.5, gt=0.0)  # LDAM: the largest class margin (that of the rarest class; Cao et al.)
    ldam_scale: float = Field(30.0, gt=0.0)  # LDAM: the logits' scale s
    drw_start: float = Field(0.8, ge=0.0, le=1.0)  # deferred re-weighting from this share of the training steps
    drw_beta: float = Field(0.9999, ge=0.0, lt=1.0)  # DRW: effective-number weights (1 - beta) / (1 - beta^n)
    mixup_alpha: float = Field(1.0, gt=0.0)  # mixup: lambda ~ Beta(alpha, alpha) (Zhang et al.)
    cutmix_alpha: float = Field(1.0, gt=0.0)  # cutmix: lambda ~ Beta(alpha, alpha) (Yun et al.)
    randaugment_n: int = Field(2, ge=1)  # RandAugment: operations per image
    randaugment_m: int = Field(9, ge=1, le=29)  # RandAugment: magnitude, out of kornia's 30

    @field_validator("posthoc_taus")
    @classmethod
    def _grid(cls, taus: list[float]) -> list[float]:
        if not taus or min(taus) < 0:
            raise ValueError("expected a non-empty list of taus >= 0")
        return taus


class Preset(Strict):
    """A named layer of values in a study config: a dataset variant (e.g. mnist, stl10)."""

    note: str = ""  # what the layer changes, in words; printed and written to the report
    set: dict[str, Any] = {}  # dotted keys -> values, e.g. {classifier.steps: 1500, train_per_class: 500}

    @model_validator(mode="after")
    def _no_nesting(self) -> "Preset":
        bad = [k for k in self.set if k.split(".")[0] in ("scale", "variant", "variants")]
        if bad:
            raise ValueError(f"a variant cannot set {bad}: variants do not nest")
        return self


class AugmentConfig(RunOptions):
    """``ganaug augment``: does synthetic (or classically augmented) data help a classifier, per strategy and ratio?

    A grid: every classifier x every strategy (x every ratio and generator, for strategies that use generated
    images), ``classifier.repeats`` seeds each, paired by seed with the ``compare_to`` arms.
    """

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig()
    gan: GANConfig = GANConfig()
    cyclegan: CycleGANConfig = CycleGANConfig()  # the `translate` strategy's translators (one per target class)
    translate_from: int | str | None = None  # the `translate` strategy's source class (a name or index); None: the
    # largest class of the imbalanced training split (its variety is what the translation keeps)
    classifier: ClassifierConfig = ClassifierConfig()
    classifiers: list[str] = []  # classifier names to run, each with `classifier`'s settings; []: classifier.model
    classifier_overrides: dict[str, dict[str, Any]] = {}  # per-classifier settings, e.g. {lenet5: {epochs: 300}}
    strategies: list[str] = ["exp1"]  # names in ganaug.augment.STRATEGIES (listed by `ganaug augment --help`) or
    # their combinations joined by + (e.g. exp1+logit-adjusted); options of the remedies under `remedies`
    compare_to: list[str] = ["baseline", "exp2"]  # always run; every other arm is compared with each of them
    # (strategies [] and compare_to [baseline]: plain classifiers, e.g. a grid over their optimizers)
    target_classes: list[int | str] | None = None  # classes that get synthetic images (index or name); None: those
    # the imbalance made smaller (all classes when it made none smaller)
    mixing: Literal["ratio", "balance", "add"] = "ratio"  # synthetic images per target class (ganaug/augment/mixing.py):
    # ratio: Gao's GAN ratio; balance: up to the largest class; add: add_per_class each (the DCGAN study)
    ratios: list[float] = [0.5]  # "ratio": the share of a target class's training images that are synthetic, in [0, 1]
    # (1.0: all of them, as many as the largest class); one arm per value
    add_per_class: int = Field(0, ge=0)  # "add": synthetic images per target class (DCGAN study: 5,000; 50,000 in all)
    generator: str | None = None  # a GAN checkpoint to use instead of training one (checked against the data first)
    synthetic: str | None = None  # or images made by any model (folder <class>/*.png or .npz), used instead of a
    # GAN's: the same mixing, post-processing, judge, leak check and audit (see ganaug/data/imageset.py)
    gan_epochs: list[int] = []  # compare the generators of these epochs (the DCGAN study: [50, 100]); []: the last one
    classic: ClassicAugConfig = ClassicAugConfig()
    postprocess: PostprocessConfig = PostprocessConfig()
    sampling: WeightedSamplingConfig = WeightedSamplingConfig()
    remedies: RemediesConfig = RemediesConfig()  # options of the remedies without a generator (logit adjustment, ...)
    train_per_class: int | None = Field(None, ge=2)  # keep at most this many images per class of the official
    # training split (seeded), before the validation split: for CPU-sized studies; None: all
    test_per_class: int | None = Field(None, ge=1)  # evaluate on at most this many test images per class; None: all
    audit_samples: int = Field(1000, ge=10)  # generated (and test) images per set in the memorisation audit (seeded)
    scale: str | None = None  # the config file's scale this run uses (--scale, else its scales.default); set for you
    scale_note: str = ""  # what that scale changes against the paper, in words (printed and in the report)
    variant: str | None = None  # apply variants[variant] over the scale (e.g. mnist, stl10); None: none
    variants: dict[str, Preset] = {}
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    out: str = "runs/augment"
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard

    @model_validator(mode="after")
    def _coherent(self) -> "AugmentConfig":
        if not self.strategies and not self.compare_to:  # names: ganaug.names.check_names, where the config is built
            raise ValueError("strategies: give at least one strategy, e.g. [exp1], or compare_to: [baseline] alone "
                             "for plain classifiers")
        for r in self.ratios:
            if not 0.0 <= r <= 1.0:
                raise ValueError(f"ratios: {r} is outside [0, 1]; the GAN ratio is the share of a target class's "
                                 "training images that are synthetic (0.2, 0.5, 1.0 in Gao)")
        if self.mixing == "ratio" and not self.ratios:
            raise ValueError("ratios: mixing 'ratio' needs at least one ratio, e.g. [0.5]")
        if self.mixing == "add" and self.add_per_class == 0:
            raise ValueError("add_per_class: mixing 'add' needs add_per_class > 0 (the DCGAN study: 5000)")
        if self.generator is not None and self.synthetic is not None:
            raise ValueError("generator and synthetic: give one source of generated images, a GAN checkpoint or a set")
        if self.synthetic is not None and (self.gan_epochs or self.postprocess.filter_by == "discriminator"):
            raise ValueError("synthetic: a supplied image set has no GAN, so neither gan_epochs nor "
                             "postprocess.filter_by=discriminator apply (filter_by=classifier does)")
        if self.generator is not None and self.gan_epochs:
            raise ValueError("gan_epochs compares generators trained in this run; with `generator` give one checkpoint")
        if any(e < 1 for e in self.gan_epochs):
            raise ValueError(f"gan_epochs: {self.gan_epochs} must be epochs >= 1")
        for name, options in self.classifier_overrides.items():
            try:
                ClassifierConfig.model_validate({**self.classifier.model_dump(), **options, "model": name})
            except ValidationError as err:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
                raise ValueError(f"classifier_overrides.{name}: {problems}") from None
        if self.variant is not None and self.variant not in self.variants:
            valid = ", ".join(self.variants) or "none in this config"
            raise ValueError(f"variant: {self.variant!r} is not one of this config's variants ({valid})")
        return self

    def classifier_configs(self) -> dict[str, ClassifierConfig]:
        """Every classifier of the grid by name, with its settings (``classifier`` < ``classifier_overrides``)."""
        names = self.classifiers or [self.classifier.model]
        base = self.classifier.model_dump()
        return {n: ClassifierConfig.model_validate({**base, **self.classifier_overrides.get(n, {}), "model": n})
                for n in names}
