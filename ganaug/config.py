"""Validated configuration objects. Configuration flows one way: defaults < YAML < ``--set key=value`` -> these -> constructors.

Every default lives here, next to its meaning. Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ganaug.errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Precision = Literal["fp32", "bf16", "fp16"]  # autocast dtype of forward passes; weights and optimisers stay fp32


class DataConfig(Strict):
    dataset: str = "digits"  # digits | mnist | fashion-mnist | cifar10 | svhn | stl10 | folder:PATH
    data_dir: str | None = None  # None: $GANAUG_DATA_DIR, else ./data
    download: bool = True  # fetch missing files from the official URLs (checksummed)
    image_size: int | None = Field(None, ge=8, le=128)  # resize to this square size; None keeps the native size
    channels: Literal[1, 3] | None = None  # convert to gray (1) or RGB (3); None keeps the native channels
    val_fraction: float = Field(0.1, gt=0.0, lt=1.0)  # of each class of the training split, held out for validation


class ImbalanceConfig(Strict):
    """How the training split is made imbalanced (or kept as it is) before anything trains on it."""

    profile: Literal["auto", "natural", "none", "reduce", "long-tail", "counts"] = "auto"
    # auto: "natural" when the training split is already imbalanced (largest / smallest class >= 1.5), else
    #   "reduce" (classes 0, 1, 2 to 10 %) when it is balanced with >= 4 classes; balanced with 2-3 classes: the
    #   demo stops (nothing to rebalance; choose a cut) and augment keeps it whole ("none");
    # natural: keep the split as it is and target the classes smaller than the largest;
    # none: keep it as it is and target every class (augmentation of balanced data)
    classes: list[int] = [0, 1, 2]  # "reduce": the classes cut down, as Gao's CIFAR-10 study does
    fraction: float = Field(0.1, gt=0.0, le=1.0)  # "reduce": the share of those classes that is kept
    rho: float = Field(100.0, ge=1.0)  # "long-tail": largest / smallest class size
    counts: list[int] | None = None  # "counts": exact images per class

    @model_validator(mode="after")
    def _counts_given(self) -> "ImbalanceConfig":
        if self.profile == "counts" and not self.counts:
            raise ValueError("profile 'counts' needs imbalance.counts, one number per class")
        return self


class GANConfig(Strict):
    architecture: str = "cdcgan"  # name in the GENERATORS and DISCRIMINATORS registries (`ganaug models`)
    conditional: bool = True  # class-conditional generator and discriminator
    generator_kwargs: dict[str, Any] = {}  # extra architecture options, passed to the generator's factory
    discriminator_kwargs: dict[str, Any] = {}  # e.g. {spectral_norm: true}, passed to the discriminator's factory
    z_dim: int = Field(100, ge=1)  # noise dimension
    g_width: int = Field(128, ge=8)  # channels of the generator's first (widest) layer, halved per upsampling (min 16)
    d_width: int = Field(128, ge=8)  # channels of the discriminator's last (widest) layer, halved towards the input
    loss: str = "non-saturating"  # minimax | non-saturating | hinge | least-squares | wasserstein (GAN_LOSSES)
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5)  # one-sided: D's target for real images is 1 - this
    gradient_penalty: float = Field(0.0, ge=0.0)  # WGAN-GP weight lambda (10 in Gulrajani et al.); 0 = off
    r1_gamma: float = Field(0.0, ge=0.0)  # R1 penalty weight gamma on real images (Mescheder et al.); 0 = off
    feature_matching: float = Field(0.0, ge=0.0)  # weight of the feature-matching term in G's loss; 0 = off
    aux_class_weight: float = Field(1.0, ge=0.0)  # weight of the class loss when D has a "cls" head (acgan)
    d_steps: int = Field(1, ge=1)  # discriminator steps per generator step (n_D:n_G, with g_steps)
    g_steps: int = Field(1, ge=1)  # generator steps after every d_steps discriminator steps
    ema_decay: float | None = Field(None, gt=0.0, lt=1.0)  # EMA of generator weights, e.g. 0.999; None = off
    diffaugment: list[Literal["color", "translation", "cutout"]] = []  # DiffAugment ops on every D input
    snapshot_epochs: list[int] = []  # also keep the generator of these epochs (003 compares 50 and 100)
    steps: int = Field(4500, ge=1)  # training length in generator updates (digits: 300 epochs; MNIST: 5)
    epochs: int | None = Field(None, ge=1)  # if set, the training length in epochs instead of steps
    batch_size: int = Field(64, ge=2)
    sampling: Literal["class-balanced", "uniform"] = "class-balanced"  # how real batches are drawn (see runtime.py)
    lr_g: float = Field(2e-4, gt=0)  # Adam learning rates, DCGAN's 2e-4
    lr_d: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)  # DCGAN's Adam betas
    checkpoint_every: int = Field(10, ge=1)  # epochs between checkpoints (the last epoch is always saved)
    precision: Precision = "bf16"  # bf16 autocast of G and D (2.2x on this CPU, see docs/benchmarks.md); fp16: GPU only
    channels_last: bool = True  # NHWC memory layout for convolutions (pairs with bf16 on CPU)

    @model_validator(mode="after")
    def _coherent(self) -> "GANConfig":
        from ganaug.gan.losses import GAN_LOSSES  # a leaf module (it imports only the registry), loaded on use

        if self.loss not in GAN_LOSSES:
            raise ValueError(f"gan.loss: unknown loss {self.loss!r}; valid names: {', '.join(GAN_LOSSES.names())}")
        if self.loss == "wasserstein" and self.gradient_penalty == 0:
            raise ValueError("loss 'wasserstein' needs gan.gradient_penalty > 0 (10 in Gulrajani et al. 2017)")
        if self.label_smoothing and self.loss not in ("minimax", "non-saturating", "least-squares"):
            raise ValueError(f"gan.label_smoothing needs a loss with a real target, not {self.loss!r}")
        return self


class ClassifierConfig(Strict):
    model: str = "small-cnn"  # name in the CLASSIFIERS registry
    width: int | None = Field(None, ge=4)  # first layer's channels (mlp: units), rest scaled alike; None: model's own
    input_size: int | None = Field(None, ge=8)  # resize inputs to this square size first (papers: 224); None: native
    steps: int = Field(600, ge=1)  # training length in optimizer updates (digits: about 30 epochs)
    epochs: int | None = Field(None, ge=1)  # if set, the training length in epochs instead of steps
    batch_size: int = Field(64, ge=2)
    lr: float = Field(1e-3, gt=0)  # Adam
    weight_decay: float = Field(0.0, ge=0)
    repeats: int = Field(3, ge=1)  # independent seeds per training set, for mean +- std and paired intervals
    precision: Precision = "bf16"  # autocast of the forward passes (fp16: GPU only, with loss scaling); bf16 with
    # channels_last: 2.6x fp32 at 28x28, 3.7x at 32x32x3, 1.1x at 8x8 on an Intel AMX CPU (docs/benchmarks.md)
    channels_last: bool = True  # NHWC memory layout of the network and its input batches (pairs with bf16)


class DemoConfig(Strict):
    """The main job: imbalance a dataset, train a conditional GAN on it, rebalance with synthetic images, compare."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig()
    gan: GANConfig = GANConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    judge_samples_per_class: int = Field(100, ge=1)  # generated images per class scored by the reference classifier
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    seed: int = Field(0, ge=0)
    out: str = "runs/demo"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True  # progress bars on the terminal
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard


class TrainGANConfig(Strict):
    """Train a GAN on a training split (``imbalance.profile: none`` keeps it whole) for generate / evaluate-gan."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig(profile="none")
    gan: GANConfig = GANConfig()
    seed: int = Field(0, ge=0)
    out: str = "runs/gan"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard


class ClassicAugConfig(Strict):
    """Classic augmentation (002's Exp2), drawn afresh for every training batch, real and synthetic images alike.

    003's "strengthened" images use the rotation and colour settings only.
    """

    flip: float = Field(0.5, ge=0.0, le=1.0)  # probability of a horizontal flip (0 where a flip changes the class)
    crop_padding: float = Field(0.125, ge=0.0, lt=0.5)  # pad by this share of the side (4 px at 32 px), crop back at random
    rotation: float = Field(15.0, ge=0.0, le=180.0)  # degrees, uniform in [-rotation, +rotation]; 0 = off
    brightness: float = Field(0.2, ge=0.0, le=1.0)  # colour jitter strengths (kornia ColorJitter); 0 = off
    contrast: float = Field(0.2, ge=0.0, le=1.0)
    saturation: float = Field(0.2, ge=0.0, le=1.0)  # RGB images only
    hue: float = Field(0.0, ge=0.0, le=0.5)  # RGB images only; 002 jitters brightness, contrast and saturation


class PostprocessConfig(Strict):
    """What happens to generated images before they join a training set (002, section 3.4.1)."""

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
    """002's Exp3: class-balanced sampling weights, raised each epoch for the classes the model gets wrong."""

    difficulty_boost: float = Field(2.0, ge=0.0)  # a class entirely misclassified on the validation split is drawn
    # (1 + this) times as often as under class balance; 0 = plain class-balanced sampling


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


class AugmentConfig(Strict):
    """``ganaug augment``: does synthetic (or classically augmented) data help a classifier, per strategy and ratio?

    A grid: every classifier x every strategy (x every ratio and generator, for strategies that use generated
    images), ``classifier.repeats`` seeds each, paired by seed with the ``compare_to`` arms.
    """

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig()
    gan: GANConfig = GANConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    classifiers: list[str] = []  # classifier names to run, each with `classifier`'s settings; []: classifier.model
    classifier_overrides: dict[str, dict[str, Any]] = {}  # per-classifier settings, e.g. {lenet5: {epochs: 300}}
    strategies: list[str] = ["exp1"]  # names in ganaug.augment.STRATEGIES (listed by `ganaug augment --help`)
    compare_to: list[str] = ["baseline", "exp2"]  # always run; every other arm is compared with each of them
    target_classes: list[int | str] | None = None  # classes that get synthetic images (index or name); None: those
    # the imbalance made smaller (all classes when it made none smaller)
    mixing: Literal["ratio", "balance", "add"] = "ratio"  # synthetic images per target class (ganaug/augment/mixing.py):
    # ratio: 002's GAN ratio; balance: up to the largest class; add: add_per_class each (003)
    ratios: list[float] = [0.5]  # "ratio": the share of a target class's training images that are synthetic, in [0, 1]
    # (1.0: all of them, as many as the largest class); one arm per value
    add_per_class: int = Field(0, ge=0)  # "add": synthetic images per target class (003: 5,000, 50,000 in all)
    generator: str | None = None  # a GAN checkpoint to use instead of training one (checked against the data first)
    gan_epochs: list[int] = []  # compare the generators of these epochs (003: [50, 100]); []: the last one
    classic: ClassicAugConfig = ClassicAugConfig()
    postprocess: PostprocessConfig = PostprocessConfig()
    sampling: WeightedSamplingConfig = WeightedSamplingConfig()
    train_per_class: int | None = Field(None, ge=2)  # keep at most this many images per class of the official
    # training split (seeded), before the validation split: for CPU-sized studies; None: all
    test_per_class: int | None = Field(None, ge=1)  # evaluate on at most this many test images per class; None: all
    audit_samples: int = Field(1000, ge=10)  # generated (and test) images per set in the memorisation audit (seeded)
    scale: str | None = None  # the config file's scale this run uses (--scale, else its scales.default); set for you
    scale_note: str = ""  # what that scale changes against the paper, in words (printed and in the report)
    variant: str | None = None  # apply variants[variant] over the scale (e.g. mnist, stl10); None: none
    variants: dict[str, Preset] = {}
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    seed: int = Field(0, ge=0)
    out: str = "runs/augment"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True  # progress bars on the terminal
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard

    @model_validator(mode="after")
    def _coherent(self) -> "AugmentConfig":
        from ganaug.augment.strategies import STRATEGIES  # here, not at the top: ganaug.augment imports this module

        if not self.strategies:
            raise ValueError("strategies: give at least one strategy, e.g. [exp1]")
        for key, names in (("strategies", self.strategies), ("compare_to", self.compare_to)):
            unknown = [n for n in names if n not in STRATEGIES]
            if unknown:
                raise ValueError(f"{key}: unknown strategy {unknown[0]!r}; valid names: {', '.join(STRATEGIES.names())}")
        for r in self.ratios:
            if not 0.0 <= r <= 1.0:
                raise ValueError(f"ratios: {r} is outside [0, 1]; the GAN ratio is the share of a target class's "
                                 "training images that are synthetic (0.2, 0.5, 1.0 in 002)")
        if self.mixing == "ratio" and not self.ratios:
            raise ValueError("ratios: mixing 'ratio' needs at least one ratio, e.g. [0.5]")
        if self.mixing == "add" and self.add_per_class == 0:
            raise ValueError("add_per_class: mixing 'add' needs add_per_class > 0 (003: 5000)")
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


class EvaluateGANConfig(Strict):
    """``ganaug evaluate-gan``: every generative metric of a trained GAN checkpoint against its dataset, in one report."""

    checkpoint: str  # a GAN checkpoint (NAME of NAME.json + NAME.safetensors), e.g. runs/gan/checkpoints/gan/last
    dataset: str = "digits"  # the dataset the GAN was trained on (names as in data.dataset)
    data_dir: str | None = None  # None: $GANAUG_DATA_DIR, else ./data
    download: bool = True  # fetch missing dataset files from the official URLs (checksummed)
    image_size: int | None = Field(None, ge=8, le=128)  # resize the dataset as it was for training; None: native size
    channels: Literal[1, 3] | None = None  # convert the dataset to gray / RGB as for training; None: native channels
    samples_per_class: int = Field(100, ge=10, le=5000)  # generated images per class (unconditional: the same total)
    reference_size: int | None = Field(None, ge=10)  # real training images in the FID/KID/PRDC reference, a seeded
    # random subset; None: as many as there are generated images (FID is biased by N: compare at equal sizes)
    seed: int = Field(0, ge=0)  # seed of the feature classifier, the generated samples and every random subset
    out: str = "runs/evaluate-gan"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True  # progress bars on the terminal
    feature_classifier: ClassifierConfig = ClassifierConfig()  # the dataset-specific feature extractor and judge,
    # trained on the real training split only; the CAS classifiers are trained with the same settings
    inception_weights: str | None = None  # FID Inception-v3 weights (pt_inception-2015-12-05-6726825d.pth or a
    # .safetensors made from it); None: no Inception metrics, nothing is downloaded
    truncation_psi: float = Field(1.0, gt=0.0, le=1.0)  # < 1: less diverse, more typical samples (style-lite only)
    use_ema: bool = True  # the checkpoint's EMA generator when it has one; False: the raw generator


class GANStudyConfig(Strict):
    """Task ``gan`` of ``ganaug run``: train a GAN (as ``train-gan``) and evaluate it (as ``evaluate-gan``) in one
    folder, so a grid compares architectures, losses and stabilisers on the same data and metrics."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig(profile="none")  # of the GAN's training split
    gan: GANConfig = GANConfig()
    samples_per_class: int = Field(100, ge=10, le=5000)  # generated images per class for the metrics
    feature_classifier: ClassifierConfig = ClassifierConfig()  # features and judge (see EvaluateGANConfig)
    seed: int = Field(0, ge=0)
    out: str = "runs/gan-study"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True


class SSLConfig(Strict):
    """``ganaug ssl``: semi-supervised classifiers (000's triple-gan-attn, semi-gan, semi-cnn, supervised floor).

    Every algorithm in ``algorithms`` is trained at every ``labeled`` setting, ``repeats`` seeds each, on the
    same splits, the same number of steps and the same batch sizes, and evaluated on the untouched test split.
    """

    data: DataConfig = DataConfig()
    algorithms: list[str] = ["triple-gan-attn"]  # names in ganaug.ssl.ALGORITHMS (`ganaug models`)
    labeled: list[float] = [0.1]  # each <= 1: that fraction of every class is labelled; > 1: that many labelled
    # images in total, split equally over the classes (100 on MNIST = 10 per class, the classic setting)
    options: dict[str, dict[str, Any]] = {}  # per algorithm, its own hyperparameters, e.g. {semi-gan: {lr: 3e-3}}
    steps: int = Field(3000, ge=1)  # training iterations (one labelled + one unlabelled batch each); 000: 100,000
    batch_size: int = Field(64, ge=2)  # labelled images per iteration (000: 64)
    unlabeled_batch_size: int = Field(64, ge=2)  # unlabelled images per iteration
    lr: float = Field(1e-3, gt=0)  # Adam learning rate of every network (000: 1e-3) unless an algorithm's options say
    width: int = Field(32, ge=4)  # the classifier's first layer (000, Table 2: 32)
    eval_every: int = Field(250, ge=1)  # iterations between validation-accuracy points (curves only, no selection)
    checkpoint_every: int = Field(1000, ge=1)  # iterations between checkpoints (an interrupted run resumes there)
    keep_checkpoints: bool = False  # keep each run's final networks; False: delete them once its metrics are saved
    repeats: int = Field(5, ge=1)  # seeds per (algorithm, labelled amount), for mean +- std (000: 5)
    precision: Precision = "fp32"  # autocast of the forward passes (fp16: GPU only, with loss scaling)
    generation_metrics: bool = True  # class consistency, FID/KID/IS (judge-classifier features) for GAN methods
    generated_per_class: int = Field(100, ge=10)  # generated images per class for those metrics
    judge: ClassifierConfig = ClassifierConfig(steps=1500)  # judge of generated images: trained on the whole
    # labelled training split, used only to score generators (never by the algorithms)
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    seed: int = Field(0, ge=0)
    out: str = "runs/ssl"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard

    @model_validator(mode="after")
    def _coherent(self) -> "SSLConfig":
        from ganaug.ssl import ALGORITHMS  # here, not at the top: ganaug.ssl imports this module

        for name in self.algorithms:
            if name not in ALGORITHMS:
                raise ValueError(f"algorithms: unknown algorithm {name!r}; valid names: {', '.join(ALGORITHMS.names())}")
        for name, options in self.options.items():
            if name not in ALGORITHMS:
                raise ValueError(f"options.{name}: unknown algorithm {name!r}; valid names: {', '.join(ALGORITHMS.names())}")
            try:
                ALGORITHMS.get(name).Options.model_validate(options)
            except ValidationError as err:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
                raise ValueError(f"options.{name}: {problems}") from None
        for value in self.labeled:
            if value <= 0 or (value > 1 and value != int(value)):
                raise ValueError(f"labeled: {value} is neither a fraction in (0, 1] nor a whole number of images > 1")
        return self


C = TypeVar("C", bound=BaseModel)


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["gan.epochs=5", "data.dataset=mnist"]`` -> nested dict; values are parsed as YAML scalars/lists."""
    tree: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        node = tree
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw) if raw != "" else None
    return tree


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``update`` wins."""
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def build_config(cls: type[C], yaml_path: str | Path | None = None, *layers: dict[str, Any], scale: str | None = None,
                 under: dict[str, Any] | None = None) -> C:
    """Defaults < ``under`` (``--quick``) < YAML file < its ``scales: {scale: {...}}`` entry < each of ``layers`` in
    order, validated into ``cls``.

    A study file can hold several sizes of the same study under ``scales`` (e.g. ``cpu`` for 2 cores,
    ``paper`` for the paper's schedule on a GPU); ``scale`` picks one, and ``scales.default`` names the one
    used when none is asked for.
    """
    values: dict[str, Any] = {}
    source = "command line"
    if yaml_path is not None:
        source = str(yaml_path)
        try:
            loaded = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"{yaml_path}: cannot read config: {err}") from err
        if not isinstance(loaded, dict):
            raise ConfigError(f"{yaml_path}: expected a mapping of keys to values at the top level")
        values = dict(loaded)
    scales = values.pop("scales", {}) or {}
    values = merge(under or {}, values)
    scale = scale or scales.get("default")
    if scale is not None:
        if scale not in scales or not isinstance(scales[scale], dict):
            names = [k for k in scales if k != "default"]
            raise ConfigError(f"{source}: no scale {scale!r}; the file defines {names or 'no scales'}")
        values = merge(values, scales[scale])
    for layer in layers:
        values = merge(values, layer)
    try:
        return cls.model_validate(values)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']} (got {e.get('input')!r})" for e in err.errors()
        )
        raise ConfigError(f"invalid config ({source}): {problems}") from None


def save_config(config: BaseModel, path: Path) -> None:
    """The resolved config, written to the run folder before anything trains."""
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def build_augment_config(yaml_path: str | Path | None = None, *layers: dict[str, Any], scale: str | None = None,
                         under: dict[str, Any] | None = None) -> AugmentConfig:
    """``build_config`` plus the study's dataset variant: defaults < ``under`` (``--quick``) < YAML < scales[scale]
    < variants[variant] < layers.

    The scale's name is recorded in the config (``scale``), so that the run says at what scale it ran.
    """
    name = scale or _default_scale(yaml_path)
    named = {"scale": name} if name else {}
    first = build_config(AugmentConfig, yaml_path, named, *layers, scale=scale, under=under)
    if first.scale != name:
        raise ConfigError(f"scale={first.scale!r}: a scale is chosen with --scale NAME (the config file's `scales:`), "
                          "not set as a value")
    if first.variant is None:
        return first
    return build_config(AugmentConfig, yaml_path, named, _nest(first.variants[first.variant].set), *layers, scale=scale,
                        under=under)


def _default_scale(yaml_path: str | Path | None) -> str | None:
    """The ``scales.default`` of a config file (None when there is none, or the file is unreadable: build_config says)."""
    try:
        loaded = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8")) if yaml_path is not None else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    scales = loaded.get("scales") if isinstance(loaded, dict) else None
    return scales.get("default") if isinstance(scales, dict) else None


def _nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """``{"classifier.steps": 10}`` -> ``{"classifier": {"steps": 10}}`` (later keys merge into earlier ones)."""
    tree: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        tree = merge(tree, _wrap(parents, {leaf: value}))
    return tree


def _wrap(parents: list[str], leaf: dict[str, Any]) -> dict[str, Any]:
    for part in reversed(parents):
        leaf = {part: leaf}
    return leaf
