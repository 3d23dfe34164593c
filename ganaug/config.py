"""Validated configuration objects. Configuration flows one way: defaults < YAML < ``--set key=value`` -> these -> constructors.

Every default lives here, next to its meaning. Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    """A configuration problem the user can fix; the message names the key, the value and what was expected."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Strict):
    dataset: str = "digits"  # digits | mnist | fashion-mnist | cifar10 | svhn | stl10 | folder:PATH
    data_dir: str | None = None  # None: $GANAUG_DATA_DIR, else ./data
    download: bool = True  # fetch missing files from the official URLs (checksummed)
    image_size: int | None = Field(None, ge=8, le=128)  # resize to this square size; None keeps the native size
    channels: Literal[1, 3] | None = None  # convert to gray (1) or RGB (3); None keeps the native channels
    val_fraction: float = Field(0.1, gt=0.0, lt=1.0)  # of each class of the training split, held out for validation


class ImbalanceConfig(Strict):
    profile: Literal["none", "reduce", "long-tail", "counts"] = "reduce"
    classes: list[int] = [0, 1, 2]  # "reduce": the classes cut down, as 002 does
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
    precision: Literal["fp32", "bf16"] = "bf16"  # bf16 autocast of G and D (2.2x on this CPU, see docs/benchmarks.md)
    channels_last: bool = True  # NHWC memory layout for convolutions (pairs with bf16 on CPU)

    @model_validator(mode="after")
    def _coherent(self) -> "GANConfig":
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


class DemoConfig(Strict):
    """The main job: imbalance a dataset, train a conditional GAN on it, rebalance with synthetic images, compare."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig()
    gan: GANConfig = GANConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    judge_samples_per_class: int = Field(100, ge=1)  # generated images per class scored by the reference classifier
    seed: int = 0
    out: str = "runs/demo"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True  # progress bars on the terminal


class TrainGANConfig(Strict):
    """Train a GAN on a training split (``imbalance.profile: none`` keeps it whole) for generate / evaluate-gan."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig(profile="none")
    gan: GANConfig = GANConfig()
    seed: int = 0
    out: str = "runs/gan"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True


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
    seed: int = 0  # seed of the feature classifier, the generated samples and every random subset
    out: str = "runs/evaluate-gan"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True  # progress bars on the terminal
    feature_classifier: ClassifierConfig = ClassifierConfig()  # the dataset-specific feature extractor and judge,
    # trained on the real training split only; the CAS classifiers are trained with the same settings
    inception_weights: str | None = None  # FID Inception-v3 weights (pt_inception-2015-12-05-6726825d.pth or a
    # .safetensors made from it); None: no Inception metrics, nothing is downloaded
    truncation_psi: float = Field(1.0, gt=0.0, le=1.0)  # < 1: less diverse, more typical samples (style-lite only)
    use_ema: bool = True  # the checkpoint's EMA generator when it has one; False: the raw generator


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
    precision: Literal["fp32", "bf16"] = "fp32"  # bf16 autocast of the forward passes
    generation_metrics: bool = True  # class consistency, FID/KID/IS (judge-classifier features) for GAN methods
    generated_per_class: int = Field(100, ge=10)  # generated images per class for those metrics
    judge: ClassifierConfig = ClassifierConfig(steps=1500)  # judge of generated images: trained on the whole
    # labelled training split, used only to score generators (never by the algorithms)
    seed: int = 0
    out: str = "runs/ssl"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    progress: bool = True

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


def build_config(cls: type[C], yaml_path: str | Path | None = None, *layers: dict[str, Any], scale: str | None = None) -> C:
    """Defaults < YAML file < its ``scales: {scale: {...}}`` entry < each of ``layers`` in order, validated into ``cls``.

    A study file can hold several sizes of the same study under ``scales`` (e.g. ``cpu`` for 2 cores,
    ``paper`` for the paper's schedule on a GPU); ``scale`` picks one, and ``scales.default`` names the one
    used when none is asked for.
    """
    values: dict[str, Any] = {}
    source = "command line"
    if yaml_path is not None:
        source = str(yaml_path)
        try:
            loaded = yaml.safe_load(Path(yaml_path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"{yaml_path}: cannot read config: {err}") from err
        if not isinstance(loaded, dict):
            raise ConfigError(f"{yaml_path}: expected a mapping of keys to values at the top level")
        values = dict(loaded)
    scales = values.pop("scales", {}) or {}
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
