"""The interface every semi-supervised algorithm implements, as USB's ``AlgorithmBase``.

The shared trainer (``ganaug.ssl.trainer``) owns the data, the loop, evaluation and checkpoints; an
algorithm owns its networks, optimisers and one training step, with every ``backward()``/``step()``
explicit in its ``train_step`` (GANs have several optimisers, so no hook hides them). Adding an
algorithm is one module with one subclass and ``@ALGORITHMS.register("name")``; its hyperparameters
are its ``Options`` (a pydantic model, validated with the config, set as ``options: {name: {...}}``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ganaug.config import SSLConfig, Strict
from ganaug.registry import Registry

ALGORITHMS = Registry("semi-supervised algorithm")


@dataclass
class Shape:
    """What the networks are built for."""

    image_size: int
    channels: int
    num_classes: int


@dataclass
class Batch:
    """One iteration's data, float images in [-1, 1] on the device."""

    x: torch.Tensor  # labelled images (B, C, H, W)
    y: torch.Tensor  # their labels (B,)
    u: torch.Tensor  # unlabelled images (B_u, C, H, W); empty for algorithms that do not use them


class SSLAlgorithm(ABC):
    """One semi-supervised method: networks + optimisers + ``train_step``; the trainer calls the rest."""

    class Options(Strict):
        """The algorithm's own hyperparameters (none by default)."""

    uses_unlabeled: ClassVar[bool] = True  # False: the trainer passes an empty unlabelled batch
    is_gan: ClassVar[bool] = False  # True: has a generator, whose samples are scored after training

    def __init__(self, cfg: SSLConfig, options: dict[str, Any], shape: Shape, device: torch.device) -> None:
        self.cfg, self.opt, self.shape, self.device = cfg, self.Options.model_validate(options), shape, device
        self.networks: dict[str, tuple[nn.Module, dict]] = {}  # role -> (module, rebuild spec)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.build()

    @abstractmethod
    def build(self) -> None:
        """Create the networks (``self.add``) and their optimisers (``self.optimizers``)."""

    @abstractmethod
    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        """One iteration; returns the scalars to log (losses, batch accuracy)."""

    @abstractmethod
    def classifier(self) -> nn.Module:
        """The network whose ``forward(x)`` gives the class logits evaluated on the test split."""

    def generator(self) -> nn.Module | None:
        """The generator whose samples are scored, for GAN methods."""
        return None

    def add(self, role: str, registry: Registry | type[nn.Module], name: str, **kwargs: Any) -> nn.Module:
        """Build a network (a registered name, or a module class) on the device; remember how (for checkpoints)."""
        if isinstance(registry, Registry):
            net, kind = registry.create(name, **kwargs), registry.kind
        else:
            net, kind = registry(**kwargs), f"{registry.__module__}.{registry.__qualname__}"
        self.networks[role] = (net.to(self.device), {"registry": kind, "name": name, "kwargs": kwargs})
        return net

    def adam(self, module: nn.Module, lr: float | None = None, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
        return torch.optim.Adam(module.parameters(), lr=lr or self.cfg.lr, betas=betas)

    def train(self) -> None:
        for net, _ in self.networks.values():
            net.train()

    def autocast(self) -> torch.autocast:
        """bf16 autocast of forward passes when ``precision: bf16`` (weights and optimisers stay fp32)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

    def schedule(self, step: int, start: float = 0.0, ramp: float = 0.0) -> float:
        """0 before ``start`` (a fraction of training), then rising linearly to 1 over ``ramp``: for ramped loss weights."""
        t = step / self.cfg.steps
        if t < start:
            return 0.0
        return 1.0 if ramp <= 0 else min(1.0, (t - start) / ramp)


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """zero_grad, backward, step: the three lines every phase ends with."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(1) == y).float().mean())
