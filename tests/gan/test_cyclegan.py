"""CycleGAN's training loop: the history buffer, the losses, the schedule, learning, and an exact resume."""

import pytest
import torch

from ganaug.checkpoint import TrainingState
from ganaug.config import CycleGANConfig
from ganaug.data import load_dataset, to_float
from ganaug.gan.cyclegan import ImagePool, lr_factor, lsgan_loss, train_cyclegan

CPU = torch.device("cpu")
TINY = dict(width=4, blocks=1, d_width=4, batch_size=4, log_every=5, checkpoint_every=5)


@pytest.fixture(scope="module")
def threes_and_eights():
    train = load_dataset("digits").train
    x = to_float(train.images)
    return x[train.labels == 3][:40], x[train.labels == 8][:40]


def test_pool_fills_then_swaps_half_the_time_and_stays_capped():
    pool = ImagePool(4, torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool.images) == 4  # filling: shown as they are
    new = 100.0 + torch.arange(2000.0)
    shown = torch.cat([pool.query(v.view(1, 1, 1, 1)) for v in new]).flatten()
    assert len(pool.images) == 4
    swapped = shown != new  # an older image shown in place of the new one, which takes its place in the pool
    assert 0.45 < swapped.float().mean() < 0.55  # probability 1/2
    assert (shown[swapped] < new[swapped]).all()  # what is shown instead is always an older image
    assert torch.equal(ImagePool(0, torch.Generator()).query(first), first)  # size 0: no history


def test_lsgan_loss_and_the_learning_rate_schedule():
    logits = torch.tensor([0.0, 1.0, 2.0])
    assert lsgan_loss(logits, True).item() == pytest.approx((1 + 0 + 1) / 3)
    assert lsgan_loss(logits, False).item() == pytest.approx((0 + 1 + 4) / 3)
    assert [lr_factor(s, 100) for s in (0, 49, 50, 75, 100)] == [1.0, 1.0, 1.0, 0.5, 0.0]


def test_training_shrinks_the_cycle_loss(threes_and_eights):
    a, b = threes_and_eights
    history = train_cyclegan(CycleGANConfig(**{**TINY, "steps": 60, "log_every": 10}), a, b, 0, CPU,
                             progress=False).history
    assert [row["step"] for row in history] == [10, 20, 30, 40, 50, 60]
    assert history[-1]["loss_cycle"] < 0.85 * history[0]["loss_cycle"]


def test_resume_ends_where_an_unbroken_run_does(threes_and_eights, tmp_path, monkeypatch):
    a, b = threes_and_eights
    cfg = CycleGANConfig(**{**TINY, "steps": 15})
    whole = train_cyclegan(cfg, a, b, 0, CPU, tmp_path / "whole", progress=False)
    save = TrainingState.save

    def crash_after_step_10(self, path, meta):
        save(self, path, meta)
        if meta["step"] == 10:
            raise KeyboardInterrupt

    monkeypatch.setattr(TrainingState, "save", crash_after_step_10)
    with pytest.raises(KeyboardInterrupt):
        train_cyclegan(cfg, a, b, 0, CPU, tmp_path / "cut", progress=False)
    monkeypatch.setattr(TrainingState, "save", save)
    resumed = train_cyclegan(cfg, a, b, 0, CPU, tmp_path / "cut", progress=False)  # picks up at step 10
    for x, y in ((whole.G, resumed.G), (whole.F, resumed.F)):
        assert all(torch.equal(p, q) for p, q in zip(x.state_dict().values(), y.state_dict().values()))
    assert [r["loss_cycle"] for r in whole.history] == [r["loss_cycle"] for r in resumed.history]
