"""``semi-cnn``: the same CNN as ``supervised``, plus confident pseudo-labels on the unlabelled images.

Pseudo-labelling (Lee 2013) with a confidence threshold (as FixMatch's mask, without its strong
augmentation): each unlabelled image whose predicted class has probability >= ``threshold`` is
trained on as if labelled with that class; the term's weight ramps up from 0 once the network has
learned something from the labels (``start``, ``ramp``: fractions of training).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from ganaug.ssl.base import ALGORITHMS, Batch, NetworkOptions, accuracy
from ganaug.ssl.supervised import Supervised


def pseudo_label_loss(logits_u: torch.Tensor, threshold: float) -> tuple[torch.Tensor, float]:
    """Cross-entropy of unlabelled logits against their own confident argmax (detached); and the share used."""
    prob = logits_u.detach().float().softmax(1)
    confidence, pseudo = prob.max(1)
    mask = (confidence >= threshold).float()
    loss = (F.cross_entropy(logits_u.float(), pseudo, reduction="none") * mask).mean()
    return loss, float(mask.mean())


@ALGORITHMS.register("semi-cnn")
class SemiCNN(Supervised):
    """``supervised``'s network and optimiser; its step adds the pseudo-label term on the unlabelled batch."""

    uses_unlabeled = True

    class Options(NetworkOptions):
        threshold: float = Field(0.95, gt=0, le=1)  # pseudo-label confidence cut (FixMatch's 0.95)
        weight: float = Field(1.0, ge=0)  # weight of the pseudo-label term once ramped up
        start: float = Field(0.1, ge=0, lt=1)  # fraction of training before pseudo-labels are used
        ramp: float = Field(0.2, ge=0)  # fraction of training over which their weight rises to ``weight``

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        w = self.opt.weight * self.schedule(step, self.opt.start, self.opt.ramp)
        with self.autocast():
            logits = self.net(torch.cat([batch.x, batch.u]))
        logits_x, logits_u = logits[: len(batch.x)], logits[len(batch.x):]
        loss_x = F.cross_entropy(logits_x.float(), batch.y)
        loss_u, used = pseudo_label_loss(logits_u, self.opt.threshold)
        self.update("classifier", loss_x + w * loss_u)
        return {"loss": loss_x.item(), "loss_pseudo": loss_u.item(), "pseudo_used": used, "train_acc": accuracy(logits_x, batch.y)}
