"""A short GAN run on digits: it learns, is deterministic for a seed, and resumes exactly."""

import math

import pytest
import torch

from ganaug.checkpoint import Checkpoint
from ganaug.config import GANConfig
from ganaug.data import load_dataset, to_float
from ganaug.gan.trainer import GANDivergedError, check_divergence, train_gan
from ganaug.gan.sampling import generate

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").train


def small(**kw) -> GANConfig:
    return GANConfig(**{"g_width": 32, "d_width": 32, "z_dim": 32, **kw})


def test_generator_moves_towards_the_data(digits):
    """After training, generated images are much closer to the real pixel statistics than at initialisation."""
    real_mean = to_float(digits.images).mean(0)
    cfg = small(epochs=40)
    torch.manual_seed(0)
    from ganaug.gan.trainer import build_gan

    G0 = build_gan(cfg, 8, 1, 10)[0].eval()
    x0, _ = generate(G0, [30] * 10, cfg.z_dim, 0, CPU)
    result = train_gan(cfg, digits, seed=0, device=CPU, progress=False)
    x1, y1 = generate(result.generator, [30] * 10, cfg.z_dim, 0, CPU)
    before = (x0.mean(0) - real_mean).abs().mean()
    after = (x1.mean(0) - real_mean).abs().mean()
    assert after < 0.5 * before
    assert len(result.history) == 40 and all(torch.isfinite(torch.tensor(r["loss_d"])) for r in result.history)
    # Conditional: the per-class mean images differ the way the real ones do (0 is not 1).
    real0 = to_float(digits.images[digits.labels == 0]).mean(0)
    fake0, fake1 = x1[y1 == 0].mean(0), x1[y1 == 1].mean(0)
    assert (fake0 - real0).abs().mean() < (fake1 - real0).abs().mean()


def test_deterministic_for_a_seed(digits):
    cfg = small(epochs=2)
    a = train_gan(cfg, digits, seed=5, device=CPU, progress=False)
    b = train_gan(cfg, digits, seed=5, device=CPU, progress=False)
    for (k, va), vb in zip(a.generator.state_dict().items(), b.generator.state_dict().values()):
        assert torch.equal(va, vb), k


def tiny(**kw) -> GANConfig:
    """A few seconds of fp32 training with every piece of state a resume must restore: EMA and DiffAugment too."""
    return small(**{"g_width": 16, "d_width": 16, "z_dim": 16, "batch_size": 32, "precision": "fp32",
                    "ema_decay": 0.9, "diffaugment": ["color", "translation", "cutout"], "checkpoint_every": 1, **kw})


def assert_same_run(a, b):
    for net_a, net_b in ((a.generator, b.generator), (a.discriminator, b.discriminator)):
        for (k, va), vb in zip(net_a.state_dict().items(), net_b.state_dict().values()):
            assert torch.equal(va, vb), k
    drop = lambda rows: [{k: v for k, v in r.items() if k not in ("images_per_s", "seconds")} for r in rows]  # noqa: E731
    assert drop(a.history) == drop(b.history)


def test_resume_after_a_crash_matches_uninterrupted_run(digits, tmp_path, monkeypatch):
    """Killed in epoch 3 with checkpoints every 2 epochs, then resumed in a fresh trainer: the same networks (EMA
    included) and history, bit for bit, as a run that never stopped; ADA's p (moving: it is in the history) and
    LeCam's averages and bCR's draws included."""
    from ganaug.gan import trainer

    cfg = tiny(epochs=3, checkpoint_every=2, ada={"enabled": True, "kimg": 20}, lecam={"enabled": True},
               bcr={"enabled": True})
    straight = train_gan(cfg, digits, seed=1, device=CPU, progress=False)
    p = [row["ada_p"] for row in straight.history]
    assert 0 < p[0] and len(set(p)) == 3  # p changes within each epoch, so resuming must restore it
    step, calls = trainer.generator_step, []

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 100:  # 44 generator updates an epoch: in epoch 3
            raise KeyboardInterrupt
        return step(*args, **kwargs)

    monkeypatch.setattr(trainer, "generator_step", crash)
    with pytest.raises(KeyboardInterrupt):
        train_gan(cfg, digits, seed=1, device=CPU, checkpoint_dir=tmp_path, progress=False)
    assert Checkpoint(tmp_path / "last").meta["epoch"] == 2
    monkeypatch.setattr(trainer, "generator_step", step)
    resumed = train_gan(cfg, digits, seed=1, device=CPU, checkpoint_dir=tmp_path, progress=False)
    assert_same_run(straight, resumed)


def test_diffaugment_draws_the_same_augmentations_after_resume(digits, tmp_path, monkeypatch):
    """Every augmented image D sees after the checkpoint is the one the unbroken run showed it."""
    from ganaug.gan.stabilisers import DiffAugment

    seen: list[torch.Tensor] = []
    forward = DiffAugment.forward
    monkeypatch.setattr(DiffAugment, "forward", lambda self, x: seen.append(out := forward(self, x)) or out)
    cfg = tiny(epochs=2, ema_decay=None, diffaugment=["translation", "cutout"])
    train_gan(cfg, digits, seed=2, device=CPU, progress=False)
    unbroken, seen[:] = list(seen), []
    train_gan(cfg.model_copy(update={"epochs": 1}), digits, seed=2, device=CPU, checkpoint_dir=tmp_path, progress=False)
    first = len(seen)
    train_gan(cfg, digits, seed=2, device=CPU, checkpoint_dir=tmp_path, progress=False)
    assert len(seen) == len(unbroken) and 0 < first < len(seen)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(seen[first:], unbroken[first:]))


def test_checkpoint_rebuilds_generator_by_name(digits, tmp_path):
    res = train_gan(small(epochs=1), digits, seed=0, device=CPU, checkpoint_dir=tmp_path, progress=False)
    G = Checkpoint(tmp_path / "last").build("generator")
    a, _ = generate(res.generator, [2] * 10, 32, 3, CPU)
    b, _ = generate(G, [2] * 10, 32, 3, CPU)
    assert torch.equal(a, b)


def test_divergence_stops_with_a_clear_message(tmp_path):
    with pytest.raises(GANDivergedError, match="non-finite"):
        check_divergence({"loss_d": float("nan"), "loss_g": 1.0, "d_real": 0.5, "d_fake": 0.5}, 3, None)
    with pytest.raises(GANDivergedError, match="separates real and fake perfectly"):
        check_divergence({"loss_d": 0.0, "loss_g": 9.0, "d_real": 1.0, "d_fake": 0.0}, 3, None)


@pytest.mark.parametrize("architecture", ["cdcgan", "triple-gan-attn"])
def test_bf16_failure_restores_the_epoch_and_continues_in_fp32(digits, inject_nan, architecture):
    cfg = GANConfig(architecture=architecture, g_width=16, d_width=16, z_dim=16, batch_size=32, epochs=3,
                    precision="bf16")
    state = inject_nan(at_step=120)  # epoch 2 of 3 (44 D and 44 G updates an epoch on digits)
    result = train_gan(cfg, digits, seed=0, device=torch.device("cpu"), progress=False)
    assert state["injected"] == 1
    assert result.precision_fallback == {"at": "epoch 2", "restored": "the start of epoch 2", "from": "bf16",
                                         "to": "fp32"}
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert all(math.isfinite(r["loss_d"]) and math.isfinite(r["loss_g"]) for r in result.history)
    assert all(torch.isfinite(p).all() for net in (result.generator, result.discriminator) for p in net.parameters())
    # Epoch 2 was redone from its start: as many updates as any other epoch.
    assert result.history[1]["d_updates"] == result.history[0]["d_updates"]


def test_fp32_failure_still_stops(digits, inject_nan):
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, batch_size=32, epochs=3, precision="fp32")
    inject_nan(at_step=120, bf16_only=False)
    with pytest.raises(GANDivergedError, match="non-finite"):
        train_gan(cfg, digits, seed=0, device=torch.device("cpu"), progress=False)


def test_a_run_that_fell_back_resumes_in_fp32(digits, inject_nan, tmp_path):
    cfg = GANConfig(g_width=16, d_width=16, z_dim=16, batch_size=32, epochs=2, checkpoint_every=1, precision="bf16")
    inject_nan(at_step=10)
    first = train_gan(cfg, digits, seed=0, device=torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    assert first.precision_fallback["at"] == "epoch 1"
    assert Checkpoint(tmp_path / "last").meta["precision"] == "fp32"
    more = train_gan(cfg.model_copy(update={"epochs": 3}), digits, seed=0, device=torch.device("cpu"),
                     checkpoint_dir=tmp_path, progress=False)
    assert more.precision_fallback == first.precision_fallback and len(more.history) == 3


def test_a_time_budget_ends_training_at_the_step_that_spends_it_and_a_rerun_adds_nothing(digits, tmp_path):
    """gan.time_budget_s (equal wall-clock comparisons): training stops after the generator update in which the
    seconds reach the budget, mid-epoch and whatever epochs says (an architecture slower per epoch gets no more
    time); the checkpoint is written then, and a re-run trains no more."""
    cfg = small(epochs=50, time_budget_s=1e-6)
    data = digits.subset(torch.arange(256))
    first = train_gan(cfg, data, 0, torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    assert len(first.history) == 1 and first.history[0]["seconds"] > 0
    assert first.history[0]["g_updates"] == cfg.g_steps < len(data) // cfg.batch_size  # one update, not the epoch
    assert Checkpoint(tmp_path / "last").info["meta"]["epoch"] == 1
    again = train_gan(cfg, data, 0, torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    assert again.history == first.history
    spent = sum(r["seconds"] for r in first.history)
    longer = train_gan(small(epochs=3, time_budget_s=spent * 1e6), data, 0, torch.device("cpu"), progress=False)
    assert len(longer.history) == 3  # a budget not reached: epochs decide
