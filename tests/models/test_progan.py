"""progan: equalised learning rate, pixel norm, the schedule of phases, fade-ins that start where the previous level
ended, every size, and a run that resumes in the middle of a fade-in."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganaug.checkpoint import Checkpoint
from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.gan.trainer import budget_total, train_gan
from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.models.progan import EqualConv2d, EqualLinear, pixel_norm

CPU = torch.device("cpu")


def test_equalised_learning_rate_scales_the_weights_at_run_time():
    torch.manual_seed(0)
    conv, lin = EqualConv2d(3, 5, 3, padding=1), EqualLinear(7, 2)
    x = torch.randn(2, 3, 6, 6)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * math.sqrt(2 / 27), conv.bias, padding=1))
    assert torch.allclose(lin(torch.ones(1, 7)), (lin.weight * math.sqrt(2 / 7)).sum(1)[None])
    assert 0.8 < conv.weight.std() < 1.2  # stored weights ~ N(0, 1): every layer learns at the same speed


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    y = pixel_norm(torch.randn(2, 8, 3, 3) * 5)
    assert torch.allclose(y.square().mean(1), torch.ones(2, 3, 3), atol=1e-5)


def test_schedule_of_phases():
    G = GENERATORS.create("progan", image_size=32, channels=1, num_classes=0, width=16, phase_steps=10)  # 4..32 px
    assert [G.phase_at(s, 0) for s in (0, 9, 10, 15, 20, 29, 30, 50, 70, 1000)] == [
        (0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (1, 1.0), (2, 0.0), (3, 0.0), (3, 1.0), (3, 1.0)]
    auto = GENERATORS.create("progan", image_size=32, channels=1, width=16)  # the growth takes half the run
    assert auto.phase_at(699, 1400) == (3, 1.0) and auto.phase_at(599, 1400)[0] == 3 > auto.phase_at(599, 1400)[1]


@pytest.mark.parametrize("size", [8, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_level_gives_full_size_images_and_a_fade_in_starts_from_the_previous_level(size, channels):
    torch.manual_seed(0)
    G = GENERATORS.create("progan", image_size=size, channels=channels, num_classes=3, width=32)
    D = DISCRIMINATORS.create("progan", image_size=size, channels=channels, num_classes=3, width=32)
    z, y = torch.randn(4, 100), torch.tensor([0, 1, 2, 0])
    for level in range(G.levels):
        G.set_phase(level, 1.0)
        stable = G(z, y)
        assert stable.shape == (4, channels, size, size)
        out = D(stable, y)
        assert out["adv"].shape == (4,) and out["features"].shape[0] == 4
        if level:
            G.set_phase(level, 0.0)  # the fade-in's first image is the previous level's, upsampled
            G_prev = G(z, y)
            G.set_phase(level - 1, 1.0)
            assert torch.allclose(G_prev, G(z, y), atol=1e-6)
            D.set_phase(level, 0.0)  # and D judges it as the previous level does
            x = torch.randn(4, channels, size, size)
            a = D(x, y)["adv"]
            D.set_phase(level - 1, 1.0)
            assert torch.allclose(a, D(x, y)["adv"], atol=1e-5)


def test_discriminator_output_depends_on_the_rest_of_the_batch():
    D = DISCRIMINATORS.create("progan", image_size=8, channels=1, width=16)
    x = torch.randn(4, 1, 8, 8)
    other = torch.cat([x[:1], torch.randn(3, 1, 8, 8)])
    assert not torch.allclose(D(x)["adv"][0], D(other)["adv"][0])  # minibatch standard deviation


def test_resumes_in_the_middle_of_a_fade_in(tmp_path):
    """Checkpointed in the middle of the fade-in from 4 to 8 px, then resumed: the same networks and history as an
    unbroken run, and the phase is in the checkpoint."""
    data = load_dataset("digits").train
    cfg = GANConfig(architecture="progan", g_width=16, d_width=16, z_dim=16, batch_size=64, epochs=2, precision="fp32",
                    checkpoint_every=1, generator_kwargs={"phase_steps": 15})  # 22 updates an epoch
    straight = train_gan(cfg, data, 0, CPU, progress=False)
    train_gan(cfg.model_copy(update={"epochs": 1}), data, 0, CPU, tmp_path, progress=False)
    state = Checkpoint(tmp_path / "last").state_dict("generator")
    assert int(state["level"]) == 1 and 0 < float(state["alpha"]) < 1  # 21 updates done: mid fade-in
    resumed = train_gan(cfg, data, 0, CPU, tmp_path, progress=False)
    for a, b in ((straight.generator, resumed.generator), (straight.discriminator, resumed.discriminator)):
        for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(va, vb), k
    assert [r["loss_g"] for r in straight.history] == [r["loss_g"] for r in resumed.history]


def test_budget_total_spreads_the_phases_over_a_time_budget():
    """Under gan.time_budget_s the run's length in updates is estimated from its speed so far, epoch by epoch."""
    timed = GANConfig(architecture="progan", steps=10**6, time_budget_s=100.0)
    assert budget_total(timed, 0, [], 10**6) == 10**6  # nothing measured yet: what was asked (level 0 meanwhile)
    assert budget_total(timed, 200, [{"seconds": 10.0}, {"seconds": 10.0}], 10**6) == 200 + 10 * 80  # 10 a second
    assert budget_total(timed, 900, [{"seconds": 120.0}], 10**6) == 900  # spent: no more
    assert budget_total(GANConfig(steps=500), 200, [{"seconds": 10.0}], 500) == 500  # no budget: the steps asked


def test_a_time_budgeted_run_grows_to_the_full_size():
    """The bake-off's cells train for a time budget with steps far away: progan must still reach its last level."""
    data = load_dataset("digits").train  # 8 px: levels 4 and 8
    cfg = GANConfig(architecture="progan", g_width=8, d_width=8, z_dim=8, batch_size=64, steps=10**6,
                    time_budget_s=4.0, precision="fp32")
    result = train_gan(cfg, data, 0, CPU, progress=False)
    assert len(result.history) >= 3 and result.history[-1]["g_updates"] * len(result.history) < 10**6
    assert int(result.generator.level) == 1 and float(result.generator.alpha) == 1.0
