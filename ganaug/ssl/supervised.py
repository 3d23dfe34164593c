"""``supervised``: the floor. Hu et al.'s classifier CNN (plain BatchNorm) trained on the labelled images only."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ganaug.ssl.base import ALGORITHMS, Batch, NetworkOptions, SSLAlgorithm, accuracy


@ALGORITHMS.register("supervised")
class Supervised(SSLAlgorithm):
    uses_unlabeled = False
    Options = NetworkOptions

    def build(self) -> None:
        self.net = self.add_classifier(self.opt.network)
        self.optimizers["classifier"] = self.adam(self.net)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        with self.autocast():
            logits = self.net(batch.x)
            loss = F.cross_entropy(logits.float(), batch.y)
        self.update("classifier", loss)
        return {"loss": loss.item(), "train_acc": accuracy(logits, batch.y)}

    def classifier(self) -> nn.Module:
        return self.network("classifier")
