"""Train a GAN and evaluate it in one run folder: the unit of a GAN grid (``ganaug run`` task ``gan``).

``gan/`` holds the training run (as ``ganaug train-gan``), the folder itself the evaluation (as ``ganaug
evaluate-gan``: metrics.json, report.html). Both resume: a finished training is not repeated.
"""

from __future__ import annotations

from pathlib import Path

from ganaug.config import EvaluateGANConfig, GANStudyConfig, TrainGANConfig
from ganaug.experiments.evaluate_gan import evaluate_gan
from ganaug.experiments.run import load_data
from ganaug.experiments.train_gan import run_train_gan
from ganaug.gan.trainer import build_gan


def parts(cfg: GANStudyConfig) -> tuple[TrainGANConfig, EvaluateGANConfig]:
    """The train-gan and evaluate-gan configs of the study."""
    out = Path(cfg.out)
    train = TrainGANConfig(data=cfg.data, imbalance=cfg.imbalance, gan=cfg.gan, seed=cfg.seed, out=str(out / "gan"),
                           device=cfg.device, progress=cfg.progress)
    d = cfg.data
    evaluate = EvaluateGANConfig(checkpoint=str(out / "gan" / "checkpoints" / "gan" / "last"), dataset=d.dataset,
                                 data_dir=d.data_dir, download=d.download, image_size=d.image_size, channels=d.channels,
                                 samples_per_class=cfg.samples_per_class, seed=cfg.seed, out=str(out),
                                 device=cfg.device, progress=cfg.progress, feature_classifier=cfg.feature_classifier,
                                 feature_classifier_augment=cfg.feature_classifier_augment,
                                 feature_classifier_dir=cfg.feature_classifier_dir)
    return train, evaluate


def check_gan_study(cfg: GANStudyConfig) -> None:
    """The data loads and the GAN builds, before anything trains."""
    data = load_data(cfg.data)
    build_gan(cfg.gan, data.train.image_size, data.train.channels, data.train.num_classes)


def run_gan_study(cfg: GANStudyConfig, command: str = "ganaug run") -> Path:
    """Train (or resume) the GAN, then evaluate it; returns the evaluation's report.html."""
    train, evaluate = parts(cfg)
    run_train_gan(train)
    return evaluate_gan(evaluate)
