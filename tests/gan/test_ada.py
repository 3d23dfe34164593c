"""Adaptive discriminator augmentation: the pipe applies each op with probability p, the controller moves p as
Karras et al. 2020 say, and in training p rises when D grows sure of a tiny training set."""

import dataclasses

import pytest
import torch

from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.gan.ada import AdaController, AdaptiveAugment
from ganaug.gan.stabilisers import AugmentedD
from ganaug.gan.trainer import train_gan

CPU = torch.device("cpu")


def pipe(policy, p=0.0, seed=0):
    return AdaptiveAugment(policy, torch.Generator().manual_seed(seed), p=p)


def test_p_zero_is_the_identity_and_p_one_always_augments():
    x = torch.rand(64, 3, 8, 8)
    assert torch.equal(pipe(["xflip", "rot90", "translation", "color", "cutout"], p=0.0)(x), x)
    cut = pipe(["cutout"], p=1.0)(x)
    assert (cut != x).flatten(1).any(1).all()  # every image lost its square


def test_each_op_applies_to_a_share_p_of_the_images():
    x = torch.rand(4000, 1, 4, 4) + 0.1  # no zero pixel: a cut-out image always differs
    changed = (pipe(["cutout"], p=0.3)(x) != x).flatten(1).any(1).float().mean().item()
    assert changed == pytest.approx(0.3, abs=0.03)  # 4000 draws: the standard error is 0.007


def test_flips_and_turns_only_rearrange_each_image():
    x = torch.rand(32, 2, 5, 5).requires_grad_(True)
    out = pipe(["xflip", "rot90"], p=1.0)(x)
    variants = lambda img: [img.rot90(k, dims=(1, 2)) for k in range(4)] + [  # noqa: E731
        img.flip(2).rot90(k, dims=(1, 2)) for k in range(4)]
    assert all(any(torch.equal(o, v) for v in variants(i)) for o, i in zip(out.detach(), x.detach()))
    assert sum(not torch.equal(o, i) for o, i in zip(out.detach(), x.detach())) > 16  # 7 in 8 images change
    out.sum().backward()  # differentiable: G learns through it
    assert torch.equal(x.grad, torch.ones_like(x))  # a permutation of pixels passes each gradient once


def test_controller_moves_p_by_the_stated_step_and_clips():
    ada = AdaController(pipe(["xflip"]), target=0.6, interval=4, kimg=1.0, batch_size=16)  # 16*4/1000 = 0.064
    sure, unsure = torch.ones(16), torch.tensor([1.0] * 8 + [-1.0] * 8)  # r = 1 and r = 0
    for _ in range(3):
        ada.update(sure)
    assert ada.pipe.p == 0.0  # not before the end of the interval
    ada.update(sure)
    assert ada.pipe.p == pytest.approx(0.064)
    for _ in range(4 * 20):
        ada.update(sure)
    assert ada.pipe.p == 1.0  # clipped
    for _ in range(4 * 100):
        ada.update(unsure)
    assert ada.pipe.p == 0.0  # r below the target: down to 0 and no lower
    ada.update(torch.ones(30))
    for _ in range(3):
        ada.update(-torch.ones(2))
    # r is the mean over the interval's 36 outputs, (30 - 6) / 36 > 0.6 (not the mean of the steps' means, -0.5)
    assert ada.pipe.p == pytest.approx(0.064) and ada.steps == 0 and ada.signs.tolist() == [0.0, 0.0]


class Memoriser(torch.nn.Module):
    """A D that knows its real images: +1 when an image is as stored (left half brighter), -1 when flipped."""

    def forward(self, x, y=None):
        w = x.shape[3] // 2
        return {"adv": (x[..., :w].sum((1, 2, 3)) - x[..., w:].sum((1, 2, 3))).sign()}


def test_feedback_holds_r_at_the_target():
    """Through D's pipe, xflip applied with probability p flips half of those images: r = 1 - p, so ADA settles
    at p = 1 - target = 0.4 (kept there by sign steps of 0.01)."""
    aug = pipe(["xflip"], seed=3)
    D = AugmentedD(Memoriser(), aug)
    ada = AdaController(aug, target=0.6, interval=4, kimg=6.4, batch_size=16)  # steps of 0.01
    real = torch.cat([torch.ones(16, 1, 4, 2), torch.zeros(16, 1, 4, 2)], dim=3)
    trace = []
    for _ in range(4 * 400):
        ada.update(D(real)["adv"])
        trace.append(ada.pipe.p)
    assert trace[4 * 60] > 0.3  # it rose while D was sure (r = 1 at p = 0)
    settled = torch.tensor(trace[-4 * 200:])
    assert settled.mean().item() == pytest.approx(0.4, abs=0.05) and settled.max() < 0.6


@pytest.fixture(scope="module")
def sixteen():
    data = load_dataset("digits").train
    return dataclasses.replace(data, images=data.images[:16], labels=data.labels[:16])


def test_p_rises_when_d_is_sure_of_a_tiny_training_set(sixteen):
    """On 16 real images D is soon sure of them (sign(D(real)) > 0 for most): p climbs, and is in the history."""
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, batch_size=16, epochs=None, steps=200, precision="fp32",
                    ada={"enabled": True, "target": 0.6, "kimg": 10})
    p = [row["ada_p"] for row in train_gan(cfg, sixteen, 0, CPU, progress=False).history]
    assert len(p) == 200 and p[0] < 0.01 and p[-1] > 0.2
    assert p[-1] > p[100] > p[50]
    off = train_gan(cfg.model_copy(update={"steps": 1, "ada": cfg.ada.model_copy(update={"enabled": False})}),
                    sixteen, 0, CPU, progress=False)
    assert "ada_p" not in off.history[0]


def test_p_stays_at_zero_while_d_is_not_sure_of_the_real_images():
    """ADA's other half: when D does not overfit (r = E[sign(D(real))] below the target, as on a large training set
    early on), p never leaves 0. With a D whose real outputs are as often negative as positive (r ~ 0) p ends at
    exactly 0, clipped; with r held at 0.5 < 0.6 it cannot rise either. (On the full 1,437 digits at the CPU scale a
    real D does become sure of them within 200 steps, so the training test above uses 16 images and this one
    controls r.)"""
    aug = pipe(["xflip"], seed=0)
    ada = AdaController(aug, target=0.6, interval=4, kimg=6.4, batch_size=16)
    signs = torch.Generator().manual_seed(0)
    for _ in range(4 * 100):
        ada.update(torch.randn(16, generator=signs))
    assert ada.pipe.p == 0.0
    for _ in range(4 * 100):
        ada.update(torch.tensor([1.0] * 12 + [-1.0] * 4))  # r = 0.5
    assert ada.pipe.p == 0.0
