"""The GAN jobs' schemas: train-gan, evaluate-gan, and the gan task of ``ganaug run`` (both in one folder)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ganaug.config.core import ClassifierConfig, DataConfig, GANConfig, ImbalanceConfig, RunOptions


class TrainGANConfig(RunOptions):
    """Train a GAN on a training split (``imbalance.profile: none`` keeps it whole) for generate / evaluate-gan."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig(profile="none")
    gan: GANConfig = GANConfig()
    out: str = "runs/gan"
    tensorboard: bool = False  # also write TensorBoard event files (scalars, GAN sample grids) to <out>/tensorboard


class EvaluateGANConfig(RunOptions):
    """``ganaug evaluate-gan``: every generative metric of a trained GAN checkpoint against its dataset, in one report."""

    checkpoint: str | None = None  # a GAN checkpoint (NAME of NAME.json + NAME.safetensors), e.g.
    # runs/gan/checkpoints/gan/last; or, instead:
    images: str | None = None  # images made by any model (folder <class>/*.png or .npz), evaluated as a GAN's samples
    dataset: str = "digits"  # the dataset the GAN was trained on (names as in data.dataset)
    data_dir: str | None = None  # None: $GANAUG_DATA_DIR, else ./data
    download: bool = True  # fetch missing dataset files from the official URLs (checksummed)
    image_size: int | None = Field(None, ge=8, le=128)  # resize the dataset as it was for training; None: native size
    channels: Literal[1, 3] | None = None  # convert the dataset to gray / RGB as for training; None: native channels
    samples_per_class: int = Field(100, ge=10, le=5000)  # generated images per class (unconditional: the same total)
    reference_size: int | None = Field(None, ge=10)  # real training images in the FID/KID/PRDC reference, a seeded
    # random subset; None: as many as there are generated images (FID is biased by N: compare at equal sizes)
    out: str = "runs/evaluate-gan"
    feature_classifier: ClassifierConfig = ClassifierConfig()  # the dataset-specific feature extractor and judge,
    # trained on the real training split only; the CAS classifiers are trained with the same settings
    feature_classifier_augment: bool = False  # random flips and crops while the judge trains (not the CAS
    # classifiers): several points more test accuracy on natural images; keep off where a flip changes the class
    feature_classifier_dir: str | None = None  # a folder shared by runs for one judge, trained once (seed 0) by the
    # first run that needs it, reused by the others; None: the run's own out/feature-classifier
    inception_weights: str | None = None  # FID Inception-v3 weights (pt_inception-2015-12-05-6726825d.pth or a
    # .safetensors made from it); None: no Inception metrics, nothing is downloaded
    truncation_psi: float = Field(1.0, gt=0.0, le=1.0)  # < 1: less diverse, more typical samples (style-lite, biggan)
    use_ema: bool = True  # the checkpoint's EMA generator when it has one; False: the raw generator

    @model_validator(mode="after")
    def _one_source(self) -> "EvaluateGANConfig":
        if (self.checkpoint is None) == (self.images is None):
            raise ValueError("give either checkpoint (a GAN checkpoint) or images (a folder or .npz of images)")
        return self


class GANStudyConfig(RunOptions):
    """Task ``gan`` of ``ganaug run``: train a GAN (as ``train-gan``) and evaluate it (as ``evaluate-gan``) in one
    folder, so a grid compares architectures, losses and stabilisers on the same data and metrics."""

    data: DataConfig = DataConfig()
    imbalance: ImbalanceConfig = ImbalanceConfig(profile="none")  # of the GAN's training split
    gan: GANConfig = GANConfig()
    samples_per_class: int = Field(100, ge=10, le=5000)  # generated images per class for the metrics
    feature_classifier: ClassifierConfig = ClassifierConfig()  # features and judge (see EvaluateGANConfig)
    feature_classifier_augment: bool = False  # see EvaluateGANConfig
    feature_classifier_dir: str | None = None  # one judge for every cell of a grid (see EvaluateGANConfig)
    out: str = "runs/gan-study"
