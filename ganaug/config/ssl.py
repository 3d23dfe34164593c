"""The semi-supervised job's schema (``ganaug ssl``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ganaug.config.core import ClassifierConfig, DataConfig, Precision, RunOptions


class SSLConfig(RunOptions):
    """``ganaug ssl``: semi-supervised classifiers (triple-gan-attn, semi-gan, bad-gan, fixmatch, freematch, semi-cnn and
    the supervised floor).

    Every algorithm in ``algorithms`` is trained at every ``labeled`` setting, ``repeats`` seeds each, on the
    same splits, the same number of steps and the same batch sizes, and evaluated on the untouched test split.
    """

    data: DataConfig = DataConfig()
    algorithms: list[str] = ["triple-gan-attn"]  # names in ganaug.ssl.ALGORITHMS (`ganaug models`)
    labeled: list[float] = [0.1]  # each <= 1: that fraction of every class is labelled; > 1: that many labelled
    # images in total, split equally over the classes (100 on MNIST = 10 per class, the classic setting)
    options: dict[str, dict[str, Any]] = {}  # per algorithm, its own hyperparameters, e.g. {semi-gan: {lr: 3e-3}}
    steps: int = Field(3000, ge=1)  # training iterations (one labelled + one unlabelled batch each); Hu et al.: 100,000
    batch_size: int = Field(64, ge=2)  # labelled images per iteration (Hu et al.: 64)
    unlabeled_batch_size: int = Field(64, ge=2)  # unlabelled images per iteration (fixmatch/freematch: mu x batch_size)
    lr: float = Field(1e-3, gt=0)  # Adam learning rate of every network (Hu et al.: 1e-3) unless the options say
    width: int = Field(32, ge=4)  # the classifier's first layer (Hu et al., Table 2: 32)
    eval_every: int = Field(250, ge=1)  # iterations between validation-accuracy points (curves only, no selection)
    checkpoint_every: int = Field(1000, ge=1)  # iterations between checkpoints (an interrupted run resumes there)
    keep_checkpoints: bool = False  # keep each run's final networks; False: delete them once its metrics are saved
    repeats: int = Field(5, ge=1)  # seeds per (algorithm, labelled amount), for mean +- std (Hu et al.: 5)
    precision: Precision = "fp32"  # autocast of the forward passes (fp16: GPU only, with loss scaling)
    generation_metrics: bool = True  # class consistency, FID/KID/IS (judge-classifier features) for GAN methods
    generated_per_class: int = Field(100, ge=10)  # generated images per class for those metrics
    judge: ClassifierConfig = ClassifierConfig(steps=1500)  # judge of generated images: trained on the whole
    # labelled training split, used only to score generators (never by the algorithms)
    collapse_samples: int = Field(16, ge=2)  # per class: fixed-noise samples (and as many labelled images) of the
    # collapse monitor, which logs a GAN method's relative within-class diversity at every evaluation (gan/monitor.py)
    collapse_warning: float = Field(0.3, ge=0.0, le=1.0)  # warn in the log when a class's generated images are less
    # diverse than this fraction of its real images' (0: never warn)
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    out: str = "runs/ssl"
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard

    @model_validator(mode="after")
    def _coherent(self) -> "SSLConfig":  # algorithm names and options: ganaug.names.check_names
        for value in self.labeled:
            if value <= 0 or (value > 1 and value != int(value)):
                raise ValueError(f"labeled: {value} is neither a fraction in (0, 1] nor a whole number of images > 1")
        return self
