"""``fixmatch``: Sohn et al. 2020, "FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence".

Each iteration takes B labelled and mu x B unlabelled images. The classifier's prediction on a weak view (flip and
shift) of an unlabelled image is its pseudo-label when its confidence is at least ``threshold`` (0.95); the strong
view (RandAugment + Cutout, ``ganaug.ssl.views``) is trained to predict it: loss = CE(labelled) + lambda_u x mean over
the unlabelled batch of mask x CE(strong, pseudo-label). An EMA copy of the classifier (decay 0.999) is evaluated.

Differences from the paper, for a CPU scale and a fair contest: the shared Adam learning rate (``lr``) instead of
SGD-Nesterov 0.03 with cosine decay; the classifier is ``network`` (default ``cbn-cnn``, the network the
``supervised`` floor trains, so both sides share it; ``wrn-28-2`` is the paper's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganaug.ssl.base import ALGORITHMS, Batch, NetworkOptions, SSLAlgorithm, accuracy
from ganaug.ssl.views import WeakStrong


def confident_pseudo_labels(logits_weak: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The weak view's argmax (the pseudo-label) and the mask of those whose softmax probability >= ``threshold``."""
    confidence, pseudo = logits_weak.detach().float().softmax(1).max(1)
    return pseudo, (confidence >= threshold).float()


def masked_consistency(logits_strong: torch.Tensor, pseudo: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the whole unlabelled batch of mask x CE(strong logits, pseudo-label) (FixMatch's l_u)."""
    return (F.cross_entropy(logits_strong.float(), pseudo, reduction="none") * mask).mean()


class ConsistencyOptions(NetworkOptions):
    """What FixMatch and FreeMatch share."""

    mu: int = Field(7, ge=1)  # unlabelled images per labelled one in a batch (the papers: 7)
    lambda_u: float = Field(1.0, ge=0)  # weight of the unlabelled loss (the papers: 1)
    ema_decay: float = Field(0.999, ge=0, lt=1)  # of the evaluated EMA classifier (the papers: 0.999)
    flip: bool | None = None  # random horizontal flip in the views; None: for RGB images only (not digits)


@ALGORITHMS.register("fixmatch")
class FixMatch(SSLAlgorithm):
    uses_unlabeled = True

    class Options(ConsistencyOptions):
        threshold: float = Field(0.95, gt=0, le=1)  # confidence a pseudo-label needs (the paper: 0.95)

    def build(self) -> None:
        s, o = self.shape, self.opt
        self.net = self.add_classifier(o.network)  # as the supervised floor builds it
        self.optimizers["classifier"] = self.adam(self.net)
        self.ema = self.add_ema("classifier", o.ema_decay)
        self.views = WeakStrong(s.image_size, flip=s.channels == 3 if o.flip is None else o.flip)

    def unlabeled_batch_size(self) -> int:
        return self.opt.mu * self.cfg.batch_size

    def mask(self, logits_weak: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pseudo-labels and their mask: the fixed threshold here; FreeMatch's adapt."""
        return confident_pseudo_labels(logits_weak, self.opt.threshold)

    def extra_loss(self, logits_strong: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor | float, dict]:
        """A further unlabelled term and its logs (FreeMatch's fairness); none here."""
        return 0.0, {}

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        n, nu = len(batch.x), len(batch.u_weak)
        with self.autocast():
            logits = self.net(torch.cat([batch.x, batch.u_weak, batch.u_strong]))
        logits_x, logits_w, logits_s = logits[:n], logits[n:n + nu], logits[n + nu:]
        loss_x = F.cross_entropy(logits_x.float(), batch.y)
        pseudo, mask = self.mask(logits_w)
        loss_u = masked_consistency(logits_s, pseudo, mask)
        extra, logs = self.extra_loss(logits_s, mask)
        self.update("classifier", loss_x + self.opt.lambda_u * loss_u + extra)
        self.ema.update(self.network("classifier"))
        return {"loss": loss_x.item(), "loss_unlabeled": loss_u.item(), "mask": float(mask.mean()),
                "train_acc": accuracy(logits_x, batch.y), **logs}

    def classifier(self) -> nn.Module:
        return self.ema
