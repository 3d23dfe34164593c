"""An exponential moving average of a network's weights, evaluated in its place (FixMatch, FreeMatch, USB).

After each optimiser step, every parameter e <- d e + (1 - d) p with d = min(decay, (1 + n) / (10 + n)), n the
updates so far (the warm-up of TensorFlow's ExponentialMovingAverage ``num_updates``, used by Mean Teacher): early on
d is small, so the average follows the model instead of remembering its random start. Buffers (BatchNorm's running
statistics) are copied. The count is a buffer, so checkpoints resume the average exactly.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_decay(decay: float, updates: int) -> float:
    """The decay of update number ``updates`` (0-based): min(decay, (1 + n) / (10 + n))."""
    return min(decay, (1 + updates) / (10 + updates))


class ModelEMA(nn.Module):
    """A frozen copy of ``model`` whose weights average the model's; ``forward`` is the copy's."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        self.module = copy.deepcopy(model).requires_grad_(False)
        self.decay = decay
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def update(self, model: nn.Module) -> float:
        """Move the average towards ``model``; returns the decay used."""
        d = ema_decay(self.decay, int(self.updates))
        for e, p in zip(self.module.parameters(), model.parameters()):
            e.mul_(d).add_(p.detach(), alpha=1 - d)
        for e, b in zip(self.module.buffers(), model.buffers()):
            e.copy_(b)
        self.updates += 1
        return d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    @property
    def features(self) -> nn.Module:
        return self.module.features

    @property
    def head(self) -> nn.Module:
        return self.module.head
