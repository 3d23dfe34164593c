"""The classifier trainer's optional hooks: a batch transform, a sampler, class weights; one loop for all of them."""

import torch
from torch import nn

from ganaug.augment.sampling import DifficultyWeightedSampler
from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassifierConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S

CPU = torch.device("cpu")
CFG = ClassifierConfig(epochs=3, width=8, batch_size=32)


def data():
    d = load_dataset("digits")
    train, val = S.validation_split(d.train, 0.1, 0)
    return S.reduce_classes(train, [0, 1], 0.1, 0), val


class Recorder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return -x


class SpySampler(DifficultyWeightedSampler):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drawn: list[torch.Tensor] = []

    def batches(self, batch_size, generator):
        for idx in super().batches(batch_size, generator):
            self.drawn.append(idx)
            yield idx


def test_transform_sees_every_training_batch_and_changes_training():
    train, val = data()
    rec = Recorder()
    a = train_classifier(CFG, train, 0, CPU, progress=False, transform=rec)
    b = train_classifier(CFG, train, 0, CPU, progress=False)
    assert rec.calls == 3 * (len(train) // 32)
    assert not torch.equal(next(iter(a.model.parameters())), next(iter(b.model.parameters())))


def test_sampler_draws_the_batches_and_hears_the_validation_split_each_epoch():
    train, val = data()
    sampler = SpySampler(train.labels, train.num_classes, boost=2.0)
    res = train_classifier(CFG, train, 0, CPU, val=val, progress=False, sampler=sampler)
    drawn = torch.cat(sampler.drawn)
    assert len(sampler.drawn) == 3 * (len(train) // 32) and len(sampler.history) == 3
    shares = torch.bincount(train.labels[drawn], minlength=10).double() / len(drawn)
    natural = torch.bincount(train.labels, minlength=10).double() / len(train)
    assert shares[:2].sum() > 2 * natural[:2].sum()  # the cut classes are drawn far more often than they occur
    last_errors = torch.tensor(sampler.history[-1], dtype=torch.float64)
    assert torch.allclose(sampler.weights, sampler.base * (1 + 2.0 * last_errors[train.labels]))
    assert abs(res.history[-1]["val_acc"] - (1 - (last_errors * torch.bincount(val.labels)).sum() / len(val))) < 1e-6


def test_resume_with_sampler_and_class_weights_is_exact(tmp_path):
    train, val = data()
    weights = torch.linspace(0.5, 2.0, 10)
    full = train_classifier(CFG, train, 4, CPU, val=val, progress=False, class_weights=weights,
                            sampler=DifficultyWeightedSampler(train.labels, 10))
    part = ClassifierConfig(epochs=2, width=8, batch_size=32)
    train_classifier(part, train, 4, CPU, val=val, checkpoint_dir=tmp_path, progress=False, class_weights=weights,
                     sampler=DifficultyWeightedSampler(train.labels, 10))
    resumed = train_classifier(CFG, train, 4, CPU, val=val, checkpoint_dir=tmp_path, progress=False,
                               class_weights=weights, sampler=DifficultyWeightedSampler(train.labels, 10))
    for (k, va), vb in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(va, vb), k
    assert [r["val_acc"] for r in resumed.history] == [r["val_acc"] for r in full.history]


def test_a_resumed_sampler_keeps_its_weights_and_its_per_class_history(tmp_path):
    train, val = data()
    cfg = CFG.model_copy(update={"precision": "fp32", "channels_last": False, "checkpoint_every": 1})
    whole = DifficultyWeightedSampler(train.labels, train.num_classes, boost=2.0)
    train_classifier(cfg, train, 0, CPU, val=val, progress=False, sampler=whole)
    first = DifficultyWeightedSampler(train.labels, train.num_classes, boost=2.0)
    train_classifier(cfg.model_copy(update={"epochs": 1}), train, 0, CPU, val=val, progress=False, sampler=first,
                     checkpoint_dir=tmp_path)
    resumed = DifficultyWeightedSampler(train.labels, train.num_classes, boost=2.0)  # a fresh process's sampler
    train_classifier(cfg, train, 0, CPU, val=val, progress=False, sampler=resumed, checkpoint_dir=tmp_path)
    assert resumed.history == whole.history and len(whole.history) == 3
    assert torch.equal(resumed.weights, whole.weights)


class SpyLoss:
    """A loss hook that records what the trainer tells it and leaves the loss plain cross-entropy."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, torch.Tensor]] = []

    def __call__(self, logits, y, step, total_steps):
        assert logits.dtype == torch.float32
        self.calls.append((step, total_steps, y.clone()))
        return logits, None


def test_loss_hook_hears_every_update_step_of_the_whole_training(tmp_path):
    """Steps count 0 .. total - 1 over the epochs (the DRW switch reads them), also across a resume."""
    train = data()[0].subset(torch.arange(320))
    cfg = CFG.model_copy(update={"epochs": 2, "precision": "fp32", "channels_last": False})
    per_epoch, spy = len(train) // 32, SpyLoss()
    plain = train_classifier(cfg, train, 0, CPU, progress=False)
    hooked = train_classifier(cfg, train, 0, CPU, progress=False, loss=spy)
    assert [c[:2] for c in spy.calls] == [(s, 2 * per_epoch) for s in range(2 * per_epoch)]
    for a, b in zip(plain.model.state_dict().values(), hooked.model.state_dict().values()):
        assert torch.equal(a, b)  # an identity hook trains exactly as plain cross-entropy
    train_classifier(cfg.model_copy(update={"epochs": 1}), train, 0, CPU, progress=False, checkpoint_dir=tmp_path)
    resumed = SpyLoss()
    train_classifier(cfg, train, 0, CPU, progress=False, checkpoint_dir=tmp_path, loss=resumed)
    assert [c[:2] for c in resumed.calls] == [(s, 2 * per_epoch) for s in range(per_epoch, 2 * per_epoch)]


def test_mixed_batches_take_the_loss_on_both_labels():
    """With a mix, the hook is asked for the batch's labels and for the partners' (lam * one + (1 - lam) * other)."""
    train = data()[0].subset(torch.arange(320))
    spy, partners = SpyLoss(), []

    def reverse_mix(x, y):
        partners.append(y.flip(0))
        return 0.25 * x + 0.75 * x.flip(0), y.flip(0), 0.25

    train_classifier(CFG.model_copy(update={"epochs": 1}), train, 0, CPU, progress=False, loss=spy, mix=reverse_mix)
    assert len(spy.calls) == 2 * len(partners)
    for i, partner in enumerate(partners):
        assert torch.equal(spy.calls[2 * i + 1][2], partner) and torch.equal(spy.calls[2 * i][2], partner.flip(0))
