"""Per-architecture defaults (biggan: hinge loss, an EMA generator from a start step) and ``gan.ema_start``."""

import math

import torch
from torch import nn

from ganaug.checkpoint import Checkpoint
from ganaug.config import DemoConfig, GANConfig, TrainGANConfig, build_config, parse_overrides
from ganaug.data import ImageDataset, load_dataset
from ganaug.gan.stabilisers import EMA
from ganaug.gan.trainer import train_gan


def test_biggan_defaults_apply_to_keys_no_layer_gives():
    cfg = build_config(TrainGANConfig, None, parse_overrides(["gan.architecture=biggan"])).gan
    assert (cfg.loss, cfg.ema_decay, cfg.ema_start, cfg.d_width) == ("hinge", 0.999, 1000, 64)
    assert GANConfig().loss == "non-saturating" and GANConfig().ema_decay is None  # other architectures: unchanged
    demo = build_config(DemoConfig, None, parse_overrides(["gan.architecture=biggan"]), under={"gan": {"steps": 600}})
    assert demo.gan.loss == "hinge" and demo.gan.steps == 600


def test_a_given_key_keeps_its_value():
    cfg = build_config(TrainGANConfig, None, parse_overrides(
        ["gan.architecture=biggan", "gan.loss=non-saturating", "gan.ema_decay=null"])).gan
    assert cfg.loss == "non-saturating" and cfg.ema_decay is None and cfg.ema_start == 1000
    # The resolved config, saved and read back, is the same config.
    assert GANConfig.model_validate(cfg.model_dump(mode="json")) == cfg


def test_ema_copies_the_model_until_its_start():
    model = nn.Linear(2, 1, bias=False)
    nn.init.zeros_(model.weight)
    ema = EMA(model, decay=0.5, start=2)
    for value, expected in ((1.0, 1.0), (2.0, 2.0), (4.0, 3.0), (4.0, 3.5)):  # copies twice, then averages
        with torch.no_grad():
            model.weight.fill_(value)
        ema.update(model)
        assert torch.allclose(ema.model.weight, torch.full((1, 2), expected))


def test_biggan_trains_on_digits_and_its_ema_follows_g_before_ema_start(tmp_path):
    """A few hinge-loss steps at 8 px; the checkpoint's EMA generator equals the raw one before ema_start only."""
    full = load_dataset("digits").train
    digits = ImageDataset(full.images[:128], full.labels[:128], full.class_names)  # 4 steps of 32
    for start in (100, 0):
        cfg = GANConfig(architecture="biggan", g_width=16, d_width=16, z_dim=16, batch_size=32, steps=4,
                        ema_start=start, precision="fp32")
        result = train_gan(cfg, digits, seed=0, device=torch.device("cpu"), checkpoint_dir=tmp_path / str(start),
                           progress=False)
        assert all(math.isfinite(r["loss_d"]) and math.isfinite(r["loss_g"]) for r in result.history)
        ckpt = Checkpoint(tmp_path / str(start) / "last")
        raw, ema = ckpt.build("generator").state_dict(), ckpt.build("generator_ema").state_dict()
        assert all(torch.equal(raw[k], ema[k]) for k in raw) == (start == 100), start
