"""The collapse monitor: a generator that ignores its noise is flagged, one that varies like the data is not."""

import pytest
import torch
from torch import nn

from ganaug.config import GANConfig
from ganaug.data import load_dataset, to_float
from ganaug.gan import trainer
from ganaug.gan.monitor import ALL, CollapseMonitor, mean_pairwise_distance
from ganaug.gan.trainer import build_gan, train_gan

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").train


class Constant(nn.Module):
    """Ignores its noise: one learned image per class."""

    def __init__(self, num_classes: int = 10, size: int = 8) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.images = nn.Parameter(torch.randn(num_classes, 1, size, size))

    def forward(self, z, y=None):
        return torch.tanh(self.images[y]) + 0 * z.sum()  # z enters the graph, not the output


class RealLike(nn.Module):
    """Varies with its noise: returns real images of class y, picked by the noise."""

    def __init__(self, images, labels) -> None:
        super().__init__()
        self.num_classes, self.images, self.labels = 10, images, labels

    def forward(self, z, y):
        out = []
        for zi, yi in zip(z, y):
            pool = self.images[self.labels == yi]
            out.append(pool[int((zi[0].abs() * 1e4) % len(pool))])
        return torch.stack(out)


def monitor_for(data, per_class=16):
    return CollapseMonitor(to_float(data.images), data.labels, 10, True, 8, per_class, seed=0, device=CPU)


def test_mean_pairwise_distance():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]])  # distances 5, 8, 5
    assert mean_pairwise_distance(x) == pytest.approx(6.0)


def test_noise_ignoring_generator_warns_and_real_like_does_not(digits, capsys):
    D = build_gan(GANConfig(g_width=16, d_width=16, z_dim=8), 8, 1, 10)[1]
    monitor = monitor_for(digits)
    names = list(digits.class_names)
    collapsed = monitor(Constant(), D, "epoch 3", 0.3, names)
    assert collapsed["diversity"] == pytest.approx(0.0, abs=1e-6) and collapsed["diversity_min"] < 1e-6
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "collapse warning: epoch 3" in err and "gan.collapse_warning=0.3" in err
    monitor(Constant(), D, "epoch 4", 0.3, names)
    assert capsys.readouterr().err == ""  # the same classes still collapsed: said once, not at every check
    varied = monitor(RealLike(to_float(digits.images), digits.labels), D, "epoch 5", 0.3, names)
    assert 0.6 < varied["diversity_min"] and 0.8 < varied["diversity"] < 1.2  # drawn from the same distribution
    assert capsys.readouterr().err == ""
    monitor(Constant(), D, "epoch 5", 0.0, names)  # 0 turns the warning off
    assert capsys.readouterr().err == ""
    monitor(Constant(), D, "epoch 6", 0.3, names)  # collapsed again after a recovery: said again
    assert "collapse warning: epoch 6" in capsys.readouterr().err


def test_pixels_when_d_has_no_features(digits):
    class NoFeatures(nn.Module):
        def forward(self, x, y=None):
            return {"adv": x.flatten(1).mean(1)}

    images = to_float(digits.images)
    ratios = monitor_for(digits, per_class=5).relative_diversity(RealLike(images, digits.labels), NoFeatures())
    assert len(ratios) == 10 and all(0.2 < r < 5 for r in ratios.values())
    # By hand for class 0: the same fixed noise and real subset, in pixel space.
    z, y, real = monitor_for(digits, per_class=5).groups[0]
    fake = RealLike(images, digits.labels)(z, y)
    assert ratios[0] == pytest.approx(mean_pairwise_distance(fake) / mean_pairwise_distance(real), rel=1e-6)


def test_unconditional_is_one_group(digits):
    m = CollapseMonitor(to_float(digits.images), digits.labels, 10, False, 8, 4, seed=0, device=CPU)
    assert list(m.groups) == [ALL] and len(m.groups[ALL][0]) == 40


def test_trainer_logs_diversity_and_warns_when_g_ignores_noise(digits, monkeypatch, capsys):
    """In a real training run: the history has the diversity at checkpoint epochs, and the warning is logged."""
    real_build = trainer.build_gan

    def build(cfg, image_size, channels, num_classes):
        _, D, specs = real_build(cfg, image_size, channels, num_classes)
        return Constant(num_classes, image_size), D, specs

    monkeypatch.setattr(trainer, "build_gan", build)
    cfg = GANConfig(g_width=16, d_width=16, z_dim=8, batch_size=32, epochs=2, checkpoint_every=2, precision="fp32")
    result = train_gan(cfg, digits, seed=0, device=CPU, progress=False)
    assert "diversity" not in result.history[0] and result.history[1]["diversity"] < 1e-6
    assert "collapse warning: epoch 2" in capsys.readouterr().err
    monkeypatch.setattr(trainer, "build_gan", real_build)
    result = train_gan(cfg.model_copy(update={"epochs": 1}), digits, seed=0, device=CPU, progress=False)
    assert 0 < result.history[0]["diversity"]  # an ordinary DCGAN: measured (its level after 1 epoch varies)
