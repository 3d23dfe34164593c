"""Stabilisers: each computes what its paper says, and each switch visibly acts in the trainer."""

import pytest
import torch
from torch import nn

from ganaug.checkpoint import Checkpoint
from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.gan.losses import GAN_LOSSES
from ganaug.gan.stabilisers import EMA, DiffAugment, feature_matching, gradient_penalty, r1_penalty
from ganaug.gan.trainer import train_gan

CPU = torch.device("cpu")


class LinearCritic(nn.Module):
    """D(x) = w . x: its input gradient is w everywhere, so the penalties have closed forms."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, y=None):
        return {"adv": (x.flatten(1) * self.w).sum(1), "features": x.flatten(1)}


def test_gradient_penalty_closed_form():
    w = torch.full((1 * 2 * 2,), 0.25)  # ||w|| = 0.5
    D = LinearCritic(w)
    gp = gradient_penalty(D, torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2), None)
    assert gp.item() == pytest.approx((0.5 - 1.0) ** 2)
    gp.backward()
    assert D.w.grad is not None  # the penalty trains the critic


def test_r1_closed_form():
    D = LinearCritic(torch.tensor([1.0, 2.0, 0.0, 2.0]))
    assert r1_penalty(D, torch.randn(3, 1, 2, 2), None).item() == pytest.approx(9.0)


def test_feature_matching_zero_for_equal_means_and_grad_only_to_fakes():
    real = torch.randn(6, 4)
    fake = real.flip(0).clone().requires_grad_(True)  # same batch mean
    assert feature_matching(real, fake).item() == pytest.approx(0.0, abs=1e-10)
    shifted = (real + 1.0).requires_grad_(True)
    assert feature_matching(real, shifted).item() == pytest.approx(4.0)
    assert feature_matching(real, shifted, reduction="mean").item() == pytest.approx(4.0 / real.shape[1])


def test_ema_is_a_moving_average():
    model = nn.Linear(2, 1, bias=False)
    nn.init.zeros_(model.weight)
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.5))
    ema.update(model)
    assert torch.allclose(ema.model.weight, torch.full((1, 2), 0.75))


def test_diffaugment_ops():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 8, 8) * 2 - 1
    g = torch.Generator().manual_seed(0)
    cut = DiffAugment(["cutout"], g)(x)
    assert ((cut == 0) & (x != 0)).flatten(1).sum(1).eq(3 * 4 * 4).all()  # a 4x4 square zeroed in every image
    moved = DiffAugment(["translation"], g)(x)
    assert moved.shape == x.shape and not torch.equal(moved, x)
    # A translation moves pixels without changing them: every nonzero output value exists in its input.
    for a, b in zip(moved, x):
        assert set(a[a != 0].tolist()) <= set(b.flatten().tolist())
    colour = DiffAugment(["color"], g)(x)
    assert not torch.allclose(colour, x)
    # Differentiable: gradients reach the generator's images.
    fake = x.clone().requires_grad_(True)
    DiffAugment(["color", "translation", "cutout"], g)(fake).sum().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="valid"):
        DiffAugment(["rotate"], g)


def test_diffaugment_draws_only_from_its_own_generator():
    """Its generator's seed and state alone decide the augmentations: the global generator is neither read nor moved."""
    x = torch.rand(16, 3, 8, 8) * 2 - 1
    policy = ["color", "translation", "cutout"]
    torch.manual_seed(1)
    a = DiffAugment(policy, torch.Generator().manual_seed(5))(x)
    after = torch.get_rng_state()
    torch.manual_seed(2)
    b = DiffAugment(policy, torch.Generator().manual_seed(5))(x)
    assert torch.equal(a, b)
    torch.manual_seed(1)
    assert torch.equal(torch.get_rng_state(), after)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").train


def tiny(**kw) -> GANConfig:
    return GANConfig(**{"g_width": 16, "d_width": 16, "z_dim": 16, "batch_size": 32, "epochs": 3, **kw})


@pytest.mark.parametrize(
    "options",
    [
        {"loss": "minimax"},
        {"loss": "hinge"},
        {"loss": "least-squares", "label_smoothing": 0.1},
        {"loss": "wasserstein", "gradient_penalty": 10.0},
        {"r1_gamma": 1.0},
        {"feature_matching": 1.0},
        {"diffaugment": ["color", "translation", "cutout"]},
        {"lr_g": 1e-4, "lr_d": 4e-4},
    ],
)
def test_options_train_without_nan(digits, options):
    result = train_gan(tiny(epochs=None, steps=200, **options), digits, seed=0, device=CPU, progress=False)
    assert sum(r["g_updates"] for r in result.history) >= 200
    assert all(torch.isfinite(torch.tensor([r["loss_d"], r["loss_g"]])).all() for r in result.history)


def test_step_ratio_is_obeyed(digits):
    row = train_gan(tiny(epochs=1, d_steps=2, g_steps=1), digits, 0, CPU, progress=False).history[0]
    assert row["g_updates"] == row["d_updates"] // 2
    row = train_gan(tiny(epochs=1, d_steps=1, g_steps=2), digits, 0, CPU, progress=False).history[0]
    assert row["g_updates"] == 2 * row["d_updates"]


def test_ema_generator_is_returned_and_checkpointed(digits, tmp_path):
    result = train_gan(tiny(ema_decay=0.9), digits, 0, CPU, checkpoint_dir=tmp_path, progress=False)
    ck = Checkpoint(tmp_path / "last")
    raw, ema = ck.state_dict("generator"), ck.state_dict("generator_ema")
    key = next(k for k in raw if k.endswith("weight"))
    assert not torch.equal(raw[key], ema[key])  # the average lags the raw weights
    assert torch.equal(result.generator.state_dict()[key], ema[key])


def test_switches_change_training(digits):
    """Each switch changes the updates it should act on (same seed, same data), and nothing else is random."""
    base = train_gan(tiny(epochs=1), digits, 0, CPU, progress=False)
    same = train_gan(tiny(epochs=1), digits, 0, CPU, progress=False)
    assert all(torch.equal(v, same.discriminator.state_dict()[k]) for k, v in base.discriminator.state_dict().items())
    for option, role in (({"r1_gamma": 10.0}, "discriminator"), ({"diffaugment": ["translation"]}, "discriminator"),
                         ({"label_smoothing": 0.2}, "discriminator"), ({"feature_matching": 1.0}, "generator")):
        other = getattr(train_gan(tiny(epochs=1, **option), digits, 0, CPU, progress=False), role).state_dict()
        reference = getattr(base, role).state_dict()
        assert any(not torch.equal(reference[k], other[k]) for k in reference), option


def test_snapshots_kept_at_chosen_epochs(digits, tmp_path):
    train_gan(tiny(epochs=3, snapshot_epochs=[1, 3]), digits, 0, CPU, checkpoint_dir=tmp_path, progress=False)
    assert Checkpoint(tmp_path / "epoch-0001").meta["epoch"] == 1
    assert Checkpoint(tmp_path / "epoch-0003").meta["epoch"] == 3
    assert not (tmp_path / "epoch-0002.json").exists()


def test_every_registered_loss_is_covered():
    assert set(GAN_LOSSES.names()) == {"minimax", "non-saturating", "hinge", "least-squares", "wasserstein"}
