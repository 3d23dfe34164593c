"""The classifier trainer on digits: it learns far above chance, is deterministic, and resumes exactly."""

import math

import pytest
import torch
from torch import nn

from ganaug.checkpoint import Checkpoint
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import ClassifierConfig
from ganaug.data import load_dataset

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_learns_far_above_chance(digits):
    res = train_classifier(ClassifierConfig(steps=150, width=16), digits.train, 0, CPU, val=digits.test, progress=False)
    acc = (predict(res.model, digits.test.images, CPU) == digits.test.labels).float().mean().item()
    assert acc > 0.85  # chance is 0.10
    assert res.history[-1]["loss"] < 0.5 * res.history[0]["loss"]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_deterministic_and_resumable(digits, tmp_path, precision):
    """In fp32 and in bf16, a run resumed from its checkpoint ends with the very same weights."""
    cfg = ClassifierConfig(epochs=3, width=8, precision=precision)
    a = train_classifier(cfg, digits.train, 7, CPU, progress=False)
    b = train_classifier(cfg.model_copy(update={"epochs": 1}), digits.train, 7, CPU, checkpoint_dir=tmp_path,
                         progress=False)
    b = train_classifier(cfg, digits.train, 7, CPU, checkpoint_dir=tmp_path, progress=False)
    for (k, va), vb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(va, vb), k


def test_cosine_schedule_decays_the_rate_by_the_step_and_resumes_exactly(digits, tmp_path):
    """The rate of update k (from 0) is lr * (1 + cos(pi * k / total)) / 2, a function of the step alone: the saved
    optimizer shows it at the end of epoch 1 and of the last epoch, and a run killed in epoch 2 and resumed ends
    with the same weights as one that never stopped."""
    cfg = ClassifierConfig(epochs=3, width=8, precision="fp32", lr=2e-3, lr_schedule="cosine", checkpoint_every=1)
    per_epoch = len(digits.train) // cfg.batch_size
    rate = lambda k: 2e-3 * 0.5 * (1 + math.cos(math.pi * k / (3 * per_epoch)))  # noqa: E731
    saved_lr = lambda d: Checkpoint(d / "last").info["optimizers"]["classifier"]["param_groups"][0]["lr"]  # noqa: E731
    straight = train_classifier(cfg, digits.train, 5, CPU, checkpoint_dir=tmp_path / "a", progress=False)
    assert saved_lr(tmp_path / "a") == pytest.approx(rate(3 * per_epoch - 1)) and saved_lr(tmp_path / "a") < 2e-5
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, digits.train, 5, CPU, checkpoint_dir=tmp_path / "b", progress=False,
                         transform=StopAt(at=per_epoch + 3))
    assert saved_lr(tmp_path / "b") == pytest.approx(rate(per_epoch - 1))
    resumed = train_classifier(cfg, digits.train, 5, CPU, checkpoint_dir=tmp_path / "b", progress=False)
    for (k, va), vb in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(va, vb), k


class StopAt(nn.Module):
    """A batch transform that leaves the images alone and interrupts training at its ``at``-th call, as a kill would."""

    def __init__(self, at: int | None = None) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return x


def test_resume_after_a_crash_matches_uninterrupted_run(digits, tmp_path):
    """Killed in epoch 3 with checkpoints every 2 epochs, then resumed in a fresh trainer: the same weights and
    history, bit for bit, as a run that never stopped."""
    cfg = ClassifierConfig(epochs=4, width=8, precision="fp32", checkpoint_every=2)
    straight = train_classifier(cfg, digits.train, 3, CPU, val=digits.test, progress=False, transform=StopAt())
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, digits.train, 3, CPU, val=digits.test, checkpoint_dir=tmp_path, progress=False,
                         transform=StopAt(at=60))  # about 22 updates an epoch: in epoch 3
    assert Checkpoint(tmp_path / "last").meta["epoch"] == 2
    resumed = train_classifier(cfg, digits.train, 3, CPU, val=digits.test, checkpoint_dir=tmp_path, progress=False,
                               transform=StopAt())
    for (k, va), vb in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(va, vb), k
    drop = lambda rows: [{k: v for k, v in r.items() if k != "images_per_s"} for r in rows]  # noqa: E731
    assert drop(resumed.history) == drop(straight.history)


def test_bf16_failure_restores_the_epoch_and_continues_in_fp32(digits, inject_nan):
    """A NaN under bf16 in epoch 2 (about 25 updates an epoch): the epoch is redone in fp32 and the run matches
    the accuracy of a plain fp32 run."""
    state = inject_nan(at_step=30)
    res = train_classifier(ClassifierConfig(epochs=4, width=8, precision="bf16"), digits.train, 0, CPU,
                           val=digits.test, progress=False)
    assert state["injected"] == 1
    assert res.precision_fallback["at"] == "epoch 2" and res.precision_fallback["to"] == "fp32"
    assert all(torch.isfinite(p).all() for p in res.model.parameters())
    assert [r["epoch"] for r in res.history] == [1, 2, 3, 4] and res.history[-1]["val_acc"] > 0.8


def test_fp32_failure_stops_with_a_clear_message(digits, inject_nan):
    from ganaug.classifier.trainer import TrainingDivergedError

    inject_nan(at_step=30, bf16_only=False)
    with pytest.raises(TrainingDivergedError, match="non-finite loss at epoch 2 in fp32; lower classifier.lr"):
        train_classifier(ClassifierConfig(epochs=4, width=8, precision="fp32"), digits.train, 0, CPU, progress=False)
