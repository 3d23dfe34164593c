"""Every adversarial loss: known values, the direction of its gradients, and label smoothing."""

import math

import pytest
import torch

from ganaug.config import ConfigError, GANConfig, build_config
from ganaug.gan.losses import GAN_LOSSES

ZERO = torch.zeros(8)


@pytest.mark.parametrize(
    "name, d_at_zero, g_at_zero",
    [
        ("minimax", 2 * math.log(2), -math.log(2)),
        ("non-saturating", 2 * math.log(2), math.log(2)),
        ("hinge", 2.0, 0.0),
        ("least-squares", 0.5, 0.5),
        ("wasserstein", 0.0, 0.0),
    ],
)
def test_known_values_at_zero_logits(name, d_at_zero, g_at_zero):
    loss = GAN_LOSSES.create(name)
    assert loss.discriminator(ZERO, ZERO).item() == pytest.approx(d_at_zero)
    assert loss.generator(ZERO).item() == pytest.approx(g_at_zero)


@pytest.mark.parametrize("name", GAN_LOSSES.names())
def test_gradients_push_the_right_way(name):
    """D's loss falls as real logits rise and fake logits fall; G's loss falls as fake logits rise."""
    loss = GAN_LOSSES.create(name)
    real, fake = torch.full((4,), 0.5, requires_grad=True), torch.full((4,), 0.5, requires_grad=True)
    loss.discriminator(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake_g = torch.full((4,), 0.5, requires_grad=True)
    loss.generator(fake_g).backward()
    assert (fake_g.grad < 0).all()


def test_minimax_saturates_where_non_saturating_does_not():
    """When D confidently rejects fakes (logit -10), minimax gives G almost no gradient; non-saturating does."""
    grads = {}
    for name in ("minimax", "non-saturating"):
        logits = torch.full((4,), -10.0, requires_grad=True)
        GAN_LOSSES.create(name).generator(logits).backward()
        grads[name] = logits.grad.abs().mean().item()
    assert grads["minimax"] < 1e-3 < grads["non-saturating"]


def test_one_sided_label_smoothing_moves_the_optimum():
    """With real target 0.9 the discriminator's best real logit is logit(0.9), not +infinity."""
    loss = GAN_LOSSES.create("non-saturating", real_target=0.9)
    logits = torch.linspace(-5, 8, 2001)
    values = torch.stack([loss.discriminator(l.view(1), torch.full((1,), -20.0)) for l in logits])
    best = logits[values.argmin()].item()
    assert best == pytest.approx(math.log(0.9 / 0.1), abs=0.02)


def test_smoothing_rejected_where_it_means_nothing():
    with pytest.raises(ValueError, match="label_smoothing"):
        GAN_LOSSES.create("hinge", real_target=0.9)
    with pytest.raises(ConfigError, match="label_smoothing"):
        build_config(GANConfig, None, {"loss": "hinge", "label_smoothing": 0.1})


def test_wasserstein_requires_a_gradient_penalty():
    with pytest.raises(ConfigError, match="gradient_penalty"):
        build_config(GANConfig, None, {"loss": "wasserstein"})
