"""The classifier training loop (Adam, cross-entropy), and prediction. Deterministic for a seed on CPU.

Under torchrun the model is trained with DistributedDataParallel: every rank draws the same global batch
and trains on its share (see ``ganaug.distributed``); losses and accuracies are summed over the ranks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ganaug import distributed as dist
from ganaug import threads
from ganaug.checkpoint import TrainingState
from ganaug.config import ClassifierConfig
from ganaug.data.dataset import ImageDataset, to_float
from ganaug.models import CLASSIFIERS
from ganaug.runtime import (
    EpochProgress, PrecisionFallback, all_finite, autocast, batches, check_precision, grad_scaler, num_epochs,
    optimizer, resolve_precision, update,
)

if TYPE_CHECKING:
    from ganaug.augment.batch_mix import BatchMix
    from ganaug.classifier.losses import LossAdjustment
    from ganaug.runlog import RunLog


class EpochSampler(Protocol):
    """Draws each epoch's index batches and hears the validation predictions after each epoch (e.g. Gao's Exp3)."""

    weights: torch.Tensor  # the sampler's state, saved in checkpoints

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]: ...

    def update(self, val_labels: torch.Tensor, val_predictions: torch.Tensor) -> None: ...


@dataclass
class ClassifierResult:
    model: nn.Module
    spec: dict[str, Any]  # registry, name, kwargs: enough to rebuild the model
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: loss, train_acc, val_acc
    precision_fallback: dict[str, str] | None = None  # set when bf16 gave a non-finite loss and training went on in fp32


class TrainingDivergedError(RuntimeError):
    """A classifier's loss became NaN/inf in fp32 (bf16 falls back to fp32 first): the learning rate is too high."""


def build_classifier(cfg: ClassifierConfig, image_size: int, channels: int, num_classes: int) -> tuple[nn.Module, dict]:
    """The classifier and its checkpoint spec; ``width`` and ``input_size`` are passed only when set."""
    kwargs: dict[str, Any] = dict(image_size=image_size, channels=channels, num_classes=num_classes)
    if cfg.width is not None:
        kwargs["width"] = cfg.width
    if cfg.input_size is not None:
        kwargs["input_size"] = cfg.input_size
    return CLASSIFIERS.create(cfg.model, **kwargs), {"registry": "classifier", "name": cfg.model, "kwargs": kwargs}


def train_classifier(
    cfg: ClassifierConfig,
    train: ImageDataset,
    seed: int,
    device: torch.device,
    val: ImageDataset | None = None,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    title: str = "classifier",
    transform: nn.Module | None = None,
    sampler: EpochSampler | None = None,
    class_weights: torch.Tensor | None = None,
    log: RunLog | None = None,
    loss: LossAdjustment | None = None,
    mix: BatchMix | None = None,
) -> ClassifierResult:
    """Train on ``train``; report accuracy on ``val`` each epoch; resume from ``checkpoint_dir/last`` if present.

    Optional hooks (None: plain uniform batches and cross-entropy): ``transform`` is applied to every training
    batch (floats in [-1, 1] on the device, e.g. classic augmentation); ``sampler`` draws the batches instead of
    a shuffled pass and gets the validation predictions after each epoch; ``class_weights`` weigh the loss;
    ``loss`` turns the fp32 logits into the logits and class weights the cross-entropy takes (a long-tail loss of
    ``ganaug.classifier.losses``, told the update step); ``mix`` mixes each transformed batch with a permutation of
    itself (mixup, CutMix), the loss being lam * loss(labels) + (1 - lam) * loss(the partners' labels).
    ``log`` (TensorBoard) gets each epoch's history row.
    """
    check_precision("classifier.precision", cfg.precision, device)
    dist.check_batch_size("classifier.batch_size", cfg.batch_size)
    torch.manual_seed(seed)
    model, spec = build_classifier(cfg, train.image_size, train.channels, train.num_classes)
    memory = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory)
    opt = optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.momentum, cfg.weight_decay)
    precision = resolve_precision(cfg.precision, device)
    scaler = grad_scaler(device, precision)
    rng = torch.Generator().manual_seed(seed)
    epochs = num_epochs(cfg.epochs, cfg.steps, len(train), cfg.batch_size)
    history: list[dict[str, float]] = []
    start_epoch = 0
    precision_fallback: dict[str, str] | None = None
    sampler_state = {"sampler_weights": (sampler, "weights")} if sampler is not None else {}
    if hasattr(sampler, "history"):  # the difficulty sampler's per-class validation errors
        sampler_state["sampler_history"] = (sampler, "history")
    state = TrainingState({"classifier": (model, spec)}, {"classifier": opt}, device, {"classifier": scaler},
                          generators={"rng": rng}, attributes=sampler_state)

    last = checkpoint_dir / "last" if checkpoint_dir else None
    dist.barrier()  # every rank sees the same checkpoint (only rank 0 writes them)
    if last is not None and last.with_suffix(".json").exists():
        meta = state.load(last).meta
        history, start_epoch = meta["history"], meta["epoch"]
        precision = meta.get("precision", precision)  # a run that fell back to fp32 stays there
        precision_fallback = meta.get("precision_fallback")

    images, labels = to_float(train.images), train.labels
    weight = class_weights.to(device) if class_weights is not None else None
    trained = dist.wrap(model, device)  # DDP under torchrun, else the model itself

    per_epoch = max(1, len(train) // cfg.batch_size)  # updates per epoch, whichever sampler draws them
    total_steps = epochs * per_epoch

    def train_epoch(epoch: int) -> dict[str, float]:
        """One pass over the training batches; the epoch's mean loss and training accuracy."""
        model.train()
        sums = torch.zeros(3, dtype=torch.float64)  # loss x images, correct, images (this rank's share)
        drawn = (sampler.batches(cfg.batch_size, rng) if sampler is not None
                 else batches(len(train), cfg.batch_size, rng, drop_last=len(train) > cfg.batch_size))
        updates = 0
        for idx_global in drawn:
            step = epoch * per_epoch + updates  # the update's number in the whole training, for the DRW switch
            updates += 1
            idx = dist.shard(idx_global)
            x, y = images[idx].to(device), labels[idx].to(device)
            if transform is not None:
                x = transform(x)
            y_partner, lam = y, 1.0
            if mix is not None:
                x, y_partner, lam = mix(x, y)
            x = x.contiguous(memory_format=memory)
            with autocast(device, fallback.precision):
                logits = trained(x)

            def loss_on(targets: torch.Tensor) -> torch.Tensor:
                adjusted, w = loss(logits.float(), targets, step, total_steps) if loss else (logits.float(), weight)
                return batch_loss(adjusted, targets, w.to(device) if w is not None else None, labels[idx_global])

            value = loss_on(y) if lam == 1.0 else lam * loss_on(y) + (1 - lam) * loss_on(y_partner)
            if cfg.lr_schedule == "cosine":  # a function of the step alone: resumes exactly, nothing to checkpoint
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            update(opt, value, scaler)
            sums += torch.tensor([value.item() * len(idx_global) / dist.world_size(),
                                  (logits.argmax(1) == y).sum().item(), len(idx)], dtype=torch.float64)
        loss_sum, correct, seen = dist.all_reduce_sum(sums).tolist()
        return {"loss": loss_sum / seen, "train_acc": correct / seen, "seen": seen, "updates": updates}

    fallback = PrecisionFallback(precision, title, state.snapshot, state.restore)
    in_steps = cfg.epochs is None  # the bar counts what the options asked for: updates, or epochs
    with EpochProgress(title, epochs * per_epoch, start_epoch * per_epoch, epochs, start_epoch,
                       unit="step" if in_steps else "epoch", asked=cfg.steps if in_steps else None, enabled=progress,
                       resumed_from=str(last) if start_epoch else None, silent=not dist.is_main()) as bar:
        for epoch in range(start_epoch, epochs):
            threads.adapt()  # the CLI's choice of torch threads follows the free cores
            fallback.mark_good(f"the start of epoch {epoch + 1}")
            stats = train_epoch(epoch)
            if not all_finite(stats) and fallback.recover(f"epoch {epoch + 1}"):
                precision_fallback = fallback.event
                stats = train_epoch(epoch)
            if not all_finite(stats):
                raise TrainingDivergedError(f"{title}: non-finite loss at epoch {epoch + 1} in {fallback.precision}; "
                                            f"lower classifier.lr (now {cfg.lr})")
            seen, updates = stats.pop("seen"), stats.pop("updates")
            row = {"epoch": epoch + 1, **stats}
            dist.average_buffers(model)  # BatchNorm statistics: the same on every rank for evaluation and checkpoints
            if val is not None:
                val_predictions = dist.broadcast(predict(model, val.images, device))  # rank 0's, should ranks differ
                row["val_acc"] = float((val_predictions == val.labels).float().mean())
                if sampler is not None:
                    sampler.update(val.labels, val_predictions)
            row["images_per_s"] = bar.epoch_done(int(seen), updates, loss=row["loss"],
                                                 **({"val_acc": row["val_acc"]} if val else {}))
            history.append(row)
            if log is not None:
                log.scalars(row, epoch + 1)
            if last is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or epoch + 1 == epochs):
                dist.on_main(state.save, last, {
                    "epoch": epoch + 1, "history": history, "seed": seed, "config": cfg.model_dump(mode="json"),
                    "precision": fallback.precision, "precision_fallback": precision_fallback})
    return ClassifierResult(model.to(memory_format=torch.contiguous_format).eval(), spec, history, precision_fallback)


def batch_loss(logits: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None, y_global: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (class-weighted when ``weight`` is given) of the global batch whose labels are ``y_global``.

    Under torchrun, this rank's part of it, scaled so that DDP's mean over the ranks is the loss one process
    computes on the whole batch, also when the shares differ in size or class weights."""
    if not dist.is_distributed():
        return F.cross_entropy(logits, y, weight=weight)
    total = weight.cpu()[y_global].sum() if weight is not None else torch.tensor(float(len(y_global)))
    return F.cross_entropy(logits, y, weight=weight, reduction="sum") * (dist.world_size() / total.item())


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 512) -> torch.Tensor:
    """Logits for uint8 images (N, C, H, W) or float images in [-1, 1]."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        x = to_float(x) if x.dtype == torch.uint8 else x
        out.append(model(x.to(device)).float().cpu())
    return torch.cat(out) if out else torch.empty(0, 0)


def predict(model: nn.Module, images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Predicted class indices (int64)."""
    return predict_logits(model, images, device).argmax(1)
