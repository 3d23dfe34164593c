"""The GAN study (task gan of `ganaug run`): training and evaluation in one folder, checked before training."""

import pytest

from ganaug.config import ConfigError, GANStudyConfig, build_config
from ganaug.experiments.gan_study import check_gan_study, parts


def test_parts_share_data_seed_and_folder(tmp_path):
    cfg = build_config(GANStudyConfig, None, {"data": {"dataset": "digits", "image_size": 16}, "seed": 3,
                                              "out": str(tmp_path), "samples_per_class": 20})
    train, evaluate = parts(cfg)
    assert train.out == str(tmp_path / "gan") and evaluate.out == str(tmp_path)
    assert evaluate.checkpoint == str(tmp_path / "gan" / "checkpoints" / "gan" / "last")
    assert (train.seed, evaluate.seed, evaluate.image_size, evaluate.samples_per_class) == (3, 3, 16, 20)
    assert train.imbalance.profile == "none"


def test_bad_architecture_fails_before_training(tmp_path):
    cfg = build_config(GANStudyConfig, None, {"gan": {"architecture": "no-such-gan"}, "out": str(tmp_path / "x")})
    with pytest.raises((ConfigError, KeyError), match="no-such-gan"):
        check_gan_study(cfg)
    assert not (tmp_path / "x").exists()
