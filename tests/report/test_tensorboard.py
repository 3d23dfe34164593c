"""``--tensorboard``: each trainer's history rows and the GANs' sample grids, read back as TensorBoard reads them."""

import importlib.util
import io
import json

import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganaug.config import ConfigError, GANConfig
from ganaug.data import load_dataset
from ganaug.gan.trainer import train_gan
from ganaug.runlog import TensorBoard

GAN_TAGS = {"loss_d", "loss_g", "d_real", "d_fake", "d_updates", "g_updates", "images_per_s", "seconds",
            "diversity", "diversity_min"}  # the collapse monitor's, at checkpoint epochs


def events(folder) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})  # 0: keep every event
    acc.Reload()
    return acc


def test_demo_logs_every_trainer_with_its_history(demo_run):
    out, _ = demo_run
    m = json.loads((out / "metrics.json").read_text())
    runs = sorted(p.name for p in (out / "tensorboard").iterdir())
    assert runs == sorted(["gan", *(f"classifier-{arm}-{r}" for arm in ("baseline", "augmented", "reference")
                                    for r in range(2))])

    gan, history = events(out / "tensorboard" / "gan"), m["gan"]["history"]
    assert set(gan.Tags()["scalars"]) == GAN_TAGS
    loss_d = gan.Scalars("loss_d")
    assert [e.step for e in loss_d] == [r["epoch"] for r in history]
    assert [e.value for e in loss_d] == pytest.approx([r["loss_d"] for r in history], rel=1e-6)
    monitored = [r for r in history if "diversity" in r]
    assert [e.step for e in gan.Scalars("diversity")] == [r["epoch"] for r in monitored] and monitored
    assert [e.value for e in gan.Scalars("diversity_min")] == pytest.approx([r["diversity_min"] for r in monitored])

    clf, history = events(out / "tensorboard" / "classifier-baseline-0"), m["classifier_histories"]["baseline"]
    assert set(clf.Tags()["scalars"]) == {"loss", "train_acc", "val_acc", "images_per_s"}
    assert [e.value for e in clf.Scalars("val_acc")] == pytest.approx([r["val_acc"] for r in history], rel=1e-6)
    assert clf.Tags()["images"] == []


def test_gan_sample_grids_at_checkpoint_epochs(demo_run):
    out, _ = demo_run
    epochs = len(json.loads((out / "metrics.json").read_text())["gan"]["history"])
    grids = events(out / "tensorboard" / "gan").Images("samples")
    assert [g.step for g in grids] == [*range(10, epochs, 10), epochs]  # gan.checkpoint_every = 10, and the last
    picture = Image.open(io.BytesIO(grids[-1].encoded_image_string))
    assert picture.size == (8 * 8, 10 * 8)  # 8 samples a row, one row per digit class, 8x8 px each
    assert len(picture.convert("L").getcolors(256)) > 10  # an image, not a flat field


def test_ssl_logs_each_evaluation_and_the_generator(ssl_run):
    acc = events(ssl_run / "tensorboard" / "triple-gan-attn" / "10pct" / "repeat-0")
    assert {"loss", "val_acc", "images_per_s"} <= set(acc.Tags()["scalars"])
    assert [e.step for e in acc.Scalars("val_acc")] == [10, 20]  # eval_every=10 of 20 steps
    assert [g.step for g in acc.Images("samples")] == [10, 20]
    assert "loss" in events(ssl_run / "tensorboard" / "judge").Tags()["scalars"]


def test_logging_does_not_change_training(tmp_path):
    """Sample grids use their own noise and restore the random state: the same seed trains the same GAN."""
    data = load_dataset("digits").train
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, epochs=3, checkpoint_every=1)
    plain = train_gan(cfg, data, 0, torch.device("cpu"), progress=False)
    tb = TensorBoard(tmp_path / "tb")
    logged = train_gan(cfg, data, 0, torch.device("cpu"), progress=False, log=tb.run("gan"))
    tb.close()
    assert [g.step for g in events(tmp_path / "tb" / "gan").Images("samples")] == [1, 2, 3]
    strip = ("images_per_s", "seconds")
    assert [{k: v for k, v in r.items() if k not in strip} for r in logged.history] == \
           [{k: v for k, v in r.items() if k not in strip} for r in plain.history]
    for a, b in zip(plain.generator.state_dict().values(), logged.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_off_by_default_and_a_missing_package_is_a_config_error(tmp_path, monkeypatch):
    assert TensorBoard(tmp_path, enabled=False).run("gan") is None
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'ganaug\[tensorboard\]'"):
        TensorBoard(tmp_path, enabled=True)
