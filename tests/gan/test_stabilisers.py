"""Stabilisers: each computes what its paper says, and each switch visibly acts in the trainer."""

import pytest
import torch
from torch import nn

from ganaug.checkpoint import Checkpoint
from ganaug.config import ConfigError, GANConfig
from ganaug.data import load_dataset
from ganaug.gan.losses import GAN_LOSSES
from ganaug.gan.stabilisers import (
    EMA, AugmentedD, DiffAugment, LeCam, consistency, feature_matching, gradient_penalty, lecam, r1_penalty,
)
from ganaug.gan.trainer import build_gan, train_gan

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


class Scale(nn.Module):
    """A stand-in augmentation pipe: x -> factor * x."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


def test_penalties_see_what_d_sees():
    """Through AugmentedD the penalties' gradients are taken at the unaugmented image, through the pipe: a pipe that
    blanks every image leaves D no input gradient (R1 = 0, WGAN-GP = (0 - 1)^2); one that doubles them doubles it."""
    w = torch.tensor([1.0, 2.0, 0.0, 2.0])  # ||w||^2 = 9
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    assert r1_penalty(AugmentedD(LinearCritic(w), Scale(0.0)), real, None).item() == 0.0
    assert gradient_penalty(AugmentedD(LinearCritic(w), Scale(0.0)), real, fake, None).item() == pytest.approx(1.0)
    assert r1_penalty(AugmentedD(LinearCritic(w), Scale(2.0)), real, None).item() == pytest.approx(4 * 9.0)
    assert gradient_penalty(AugmentedD(LinearCritic(w), Scale(2.0)), real, fake, None).item() == pytest.approx(
        (2 * 3.0 - 1) ** 2)


def test_lecam_formula():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.0, 3.0])
    # relu(real - 0.5) = [1.5, 0] -> 1.125; relu(1 - fake) = [1, 0] -> 0.5
    assert lecam(real, fake, torch.tensor(1.0), torch.tensor(0.5)).item() == pytest.approx(1.625)
    # Real outputs at or below the mean fake output, fake ones at or above the mean real one: nothing to correct.
    assert lecam(torch.tensor([-1.0, 0.5]), torch.tensor([1.0, 4.0]), torch.tensor(1.0), torch.tensor(0.5)) == 0.0


def test_lecam_moving_averages():
    """Bias-corrected EMAs with decay 0.99 of D's mean outputs, updated before the term is taken against them."""
    reg = LeCam(decay=0.99)
    real, fake = torch.tensor([1.0, 3.0], requires_grad=True), torch.tensor([-2.0, 0.0])
    first = reg(real, fake)  # the averages are the first batch's means: 2 and -1
    assert first.item() == pytest.approx(((1 + 1) ** 2 + (3 + 1) ** 2) / 2 + ((2 + 2) ** 2 + (2 - 0) ** 2) / 2)
    first.backward()
    assert real.grad.tolist() == pytest.approx([2 * 2 / 2, 2 * 4 / 2])  # the averages carry no gradient
    reg(torch.tensor([5.0]), torch.tensor([1.0]))
    expected = (0.99 * 0.01 * torch.tensor([2.0, -1.0]) + 0.01 * torch.tensor([5.0, 1.0])) / (1 - 0.99**2)
    assert (reg.averages / (1 - 0.99**reg.steps)).tolist() == pytest.approx(expected.tolist())
    assert reg.steps == 2


def test_consistency_formula_and_zero_for_the_identity():
    w = torch.tensor([1.0, 2.0, 0.0, 2.0])
    D, x = LinearCritic(w), torch.randn(5, 1, 2, 2)
    out = D(x)["adv"]
    assert consistency(D, x, out, nn.Identity(), None).item() == 0.0
    # T doubles the image: D(T(x)) - D(x) = w . x
    assert consistency(D, x, out, Scale(2.0), None).item() == pytest.approx(out.pow(2).mean().item(), rel=1e-6)


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
        {"loss": "wasserstein", "weight_clip": 0.01, "lr_d": 5e-5, "lr_g": 5e-5},
        {"r1_gamma": 1.0},
        {"discriminator_kwargs": {"minibatch_discrimination": True}, "gradient_penalty": 10.0},
        {"feature_matching": 1.0},
        {"diffaugment": ["color", "translation", "cutout"]},
        {"loss": "hinge", "ada": {"enabled": True}, "lecam": {"enabled": True}, "bcr": {"enabled": True}},
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
                         ({"label_smoothing": 0.2}, "discriminator"), ({"feature_matching": 1.0}, "generator"),
                         ({"ada": {"enabled": True, "kimg": 1}}, "discriminator"),
                         ({"lecam": {"enabled": True}}, "discriminator"), ({"bcr": {"enabled": True}}, "discriminator")):
        other = getattr(train_gan(tiny(epochs=1, **option), digits, 0, CPU, progress=False), role).state_dict()
        reference = getattr(base, role).state_dict()
        assert any(not torch.equal(reference[k], other[k]) for k in reference), option


def test_every_d_call_goes_through_the_pipe_and_checkpoints_hold_the_bare_d(digits, tmp_path, monkeypatch):
    """With every stabiliser that calls D on (losses, R1, bCR, feature matching), D's network only ever trains behind
    its augmentation pipe (the collapse monitor's eval-mode features are taken on bare images, on purpose); the
    checkpoint and the result hold the bare network's weights under their own names."""
    from ganaug.gan import trainer

    calls = {"pipe": 0, "net": 0}
    forward = AugmentedD.forward

    def counted_forward(self, x, y=None):
        calls["pipe"] += 1
        return forward(self, x, y)

    def counted_build(*args):
        G, D, specs = build_gan(*args)
        D.register_forward_hook(lambda m, *_: calls.__setitem__("net", calls["net"] + m.training))  # not the monitor
        return G, D, specs

    monkeypatch.setattr(AugmentedD, "forward", counted_forward)
    monkeypatch.setattr(trainer, "build_gan", counted_build)
    cfg = tiny(epochs=1, r1_gamma=1.0, feature_matching=1.0, diffaugment=["translation"], ada={"enabled": True},
               lecam={"enabled": True}, bcr={"enabled": True})
    result = train_gan(cfg, digits, 0, CPU, checkpoint_dir=tmp_path, progress=False)
    assert calls["net"] == calls["pipe"] > 0
    bare = build_gan(cfg, digits.image_size, digits.channels, digits.num_classes)[1].state_dict().keys()
    assert Checkpoint(tmp_path / "last").state_dict("discriminator").keys() == bare
    assert result.discriminator.state_dict().keys() == bare


def test_snapshots_kept_at_chosen_epochs(digits, tmp_path):
    train_gan(tiny(epochs=3, snapshot_epochs=[1, 3]), digits, 0, CPU, checkpoint_dir=tmp_path, progress=False)
    assert Checkpoint(tmp_path / "epoch-0001").meta["epoch"] == 1
    assert Checkpoint(tmp_path / "epoch-0003").meta["epoch"] == 3
    assert not (tmp_path / "epoch-0002.json").exists()


def test_every_registered_loss_is_covered():
    assert set(GAN_LOSSES.names()) == {"minimax", "non-saturating", "hinge", "least-squares", "wasserstein"}


class LinearStyles(torch.nn.Module):
    """A toy generator with per-layer styles: images = (sum of the layers' ws) @ A, so J^T r = A r for every layer."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.A = torch.nn.Parameter(scale * torch.randn(4, 16, generator=torch.Generator().manual_seed(0)))

    def mapping_ws(self, z, y):
        return z[:, None].repeat(1, 3, 1)

    def synthesis(self, ws):
        return (ws.sum(1) @ self.A).reshape(-1, 1, 4, 4)


def test_path_length_penalty_follows_its_definition():
    """Lengths ||A r|| (r ~ N(0, 1/(H W))); twice the Jacobian, twice the lengths; the mean moves by decay; the
    penalty is mean (length - mean)^2."""
    from ganaug.gan.stabilisers import PathLength

    z = torch.randn(5, 4)
    pl = PathLength(decay=0.01)
    torch.manual_seed(1)
    one = pl.lengths(LinearStyles(), z, None)
    torch.manual_seed(1)
    r = torch.randn(5, 1, 4, 4) / 4.0
    expected = (r.flatten(1) @ LinearStyles().A.detach().T).norm(dim=1)
    torch.testing.assert_close(one.detach(), expected)
    torch.manual_seed(1)
    torch.testing.assert_close(pl.lengths(LinearStyles(2.0), z, None).detach(), 2 * expected)
    torch.manual_seed(1)
    penalty = pl(LinearStyles(), z, None)
    mean = 0.01 * expected.mean()
    torch.testing.assert_close(pl.mean, mean)
    torch.testing.assert_close(penalty.detach(), ((expected - mean) ** 2).mean())


def test_lazy_r1_runs_every_kth_discriminator_step_weighted_by_k(monkeypatch):
    """gan.r1_every=4: R1 on D updates 0, 4, 8, ... only (22 updates of digits at batch 64: 6 of them)."""
    import ganaug.gan.trainer as trainer

    calls = []
    real_r1 = trainer.r1_penalty
    monkeypatch.setattr(trainer, "r1_penalty", lambda *a: calls.append(1) or real_r1(*a))
    data = load_dataset("digits").train
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, batch_size=64, epochs=1, r1_gamma=1.0, r1_every=4,
                    precision="fp32")
    train_gan(cfg, data, 0, torch.device("cpu"), progress=False)
    assert len(calls) == 6
    with pytest.raises(ConfigError, match="gan.path_length=2.0 needs a generator with per-layer styles"):
        train_gan(cfg.model_copy(update={"path_length": 2.0}), data, 0, torch.device("cpu"), progress=False)


def test_weight_clipping_after_every_d_step(digits, monkeypatch):
    """WGAN's clipping: after each D step every D parameter (BatchNorm's too) is in [-c, c]; with c this small the
    unclipped run leaves some outside."""
    from ganaug.gan import trainer
    from ganaug.gan.stabilisers import clip_weights

    step, seen = trainer.discriminator_step, []

    def checked(p, real, y):
        out = step(p, real, y)
        seen.append(max(w.abs().max().item() for w in p.D.net.parameters()))
        return out

    monkeypatch.setattr(trainer, "discriminator_step", checked)
    train_gan(tiny(epochs=1, loss="wasserstein", weight_clip=0.01), digits, 0, CPU, progress=False)
    assert len(seen) > 10 and max(seen) <= 0.01 and min(seen) == pytest.approx(0.01)
    seen.clear()
    train_gan(tiny(epochs=1, loss="wasserstein", gradient_penalty=10.0), digits, 0, CPU, progress=False)
    assert min(seen) > 0.05  # N(0, 0.02) initial weights: some beyond 0.05
    w = torch.nn.Linear(3, 3)
    with torch.no_grad():
        w.weight.copy_(torch.tensor([[-2.0, 0.005, 1.0]] * 3))
    clip_weights(w, 0.01)
    assert w.weight[0].tolist() == pytest.approx([-0.01, 0.005, 0.01])


def test_weight_clip_needs_the_wasserstein_loss():
    from ganaug.config import build_config
    from ganaug.errors import ConfigError

    with pytest.raises(ConfigError, match=r"gan.weight_clip=0.01 clips the critic of the Wasserstein loss") as err:
        build_config(GANConfig, None, {"loss": "hinge", "weight_clip": 0.01})
    assert "\n" not in str(err.value) and "'hinge'" in str(err.value)
    assert build_config(GANConfig, None, {"loss": "wasserstein", "weight_clip": 0.01}).gradient_penalty == 0
