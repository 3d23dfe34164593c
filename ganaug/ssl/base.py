"""The interface every semi-supervised algorithm implements, as USB's ``AlgorithmBase``.

The shared trainer (``ganaug.ssl.trainer``) owns the data, the loop, evaluation and checkpoints; an
algorithm owns its networks, optimisers and one training step, with every ``backward()``/``step()``
explicit in its ``train_step`` (GANs have several optimisers, so no hook hides them). Adding an
algorithm is one module with one subclass and ``@ALGORITHMS.register("name")``; its hyperparameters
are its ``Options`` (a pydantic model, validated with the config, set as ``options: {name: {...}}``).

Under torchrun (``ganaug.distributed``) the same code trains with DistributedDataParallel, given three
habits: train through the handles ``add`` returns (and evaluate ``self.network(role)``); draw random
numbers for a batch with ``self.draw`` (each rank keeps its images' share of the global draw); and, with
several networks, wrap each update's forward passes in ``self.phase(role)``, so that only that network's
gradients are averaged over the ranks (others may be used partially, e.g. D's features for G's loss).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ganaug import distributed as dist
from ganaug import runtime
from pydantic import ValidationError, field_validator

from ganaug.config import SSLConfig, Strict
from ganaug.errors import ConfigError
from ganaug.models import CLASSIFIERS
from ganaug.registry import Registry
from ganaug.ssl.ema import ModelEMA

ALGORITHMS = Registry("semi-supervised algorithm")


def check_algorithms(algorithms: list[str], options: dict[str, dict[str, Any]]) -> None:
    """A ConfigError naming the key, unless every name is a registered algorithm and every ``options`` entry is
    valid for its algorithm (``options.NAME`` holds that algorithm's ``Options``)."""
    valid = ", ".join(ALGORITHMS.names())
    for name in algorithms:
        if name not in ALGORITHMS:
            raise ConfigError(f"algorithms: unknown algorithm {name!r}; valid names: {valid}")
    for name, values in options.items():
        if name not in ALGORITHMS:
            raise ConfigError(f"options.{name}: unknown algorithm {name!r}; valid names: {valid}")
        try:
            ALGORITHMS.get(name).Options.model_validate(values)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}={e['input']!r}: {e['msg']}" if e["loc"] else e["msg"]
                                 for e in err.errors())
            raise ConfigError(f"options.{name}: {problems}") from None


class NetworkOptions(Strict):
    """The classifier a single-network method trains: the floor, pseudo-labels, FixMatch and FreeMatch share it so
    that a contest compares methods, not networks."""

    network: str = "cbn-cnn"  # a classifier name (`ganaug models`): Hu et al.'s CNN; wrn-28-2 is USB's/FixMatch's

    @field_validator("network")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {v!r}; valid names: {', '.join(CLASSIFIERS.names())}")
        return v


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
    u_weak: torch.Tensor | None = None  # weak and strong views of ``u`` (``ganaug.ssl.views``), for algorithms
    u_strong: torch.Tensor | None = None  # whose ``views`` is set (FixMatch, FreeMatch); None otherwise


class SSLAlgorithm(ABC):
    """One semi-supervised method: networks + optimisers + ``train_step``; the trainer calls the rest."""

    class Options(Strict):
        """The algorithm's own hyperparameters (none by default)."""

    uses_unlabeled: ClassVar[bool] = True  # False: the trainer passes an empty unlabelled batch
    is_gan: ClassVar[bool] = False  # True: has a generator, whose samples are scored after training
    views: nn.Module | None = None  # set in build (a views.WeakStrong): the trainer fills Batch.u_weak / u_strong

    def unlabeled_batch_size(self) -> int:
        """Unlabelled images per iteration: ``unlabeled_batch_size``; FixMatch-style methods: mu x ``batch_size``."""
        return self.cfg.unlabeled_batch_size

    def add_ema(self, role: str, decay: float) -> ModelEMA:
        """An EMA copy of ``role``'s network under the role ``ema`` (checkpointed with the others), to evaluate."""
        ema = ModelEMA(self.network(role), decay).to(self.device)
        self.networks["ema"] = (ema, {"registry": "ganaug.ssl.ema.ModelEMA", "name": role, "kwargs": {"decay": decay}})
        return ema

    def __init__(self, cfg: SSLConfig, options: dict[str, Any], shape: Shape, device: torch.device) -> None:
        self.cfg, self.opt, self.shape, self.device = cfg, self.Options.model_validate(options), shape, device
        self.precision = runtime.resolve_precision(cfg.precision, device)  # autocast now; fp32 after a bf16 fallback
        self.precision_fallback: dict[str, str] | None = None  # runtime.PrecisionFallback.event, once it happened
        self.networks: dict[str, tuple[nn.Module, dict]] = {}  # role -> (bare module, rebuild spec)
        self.trained: dict[str, nn.Module] = {}  # role -> the handle to train with (DDP under torchrun)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.build()
        self.scalers = {role: runtime.grad_scaler(device, self.precision) for role in self.optimizers}  # fp16 scaling

    @abstractmethod
    def build(self) -> None:
        """Create the networks (``self.add``) and their optimisers (``self.optimizers``)."""

    @abstractmethod
    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        """One iteration; returns the scalars to log (losses, batch accuracy)."""

    @abstractmethod
    def classifier(self) -> nn.Module:
        """The bare network (``self.network(role)``) whose ``forward(x)`` gives the class logits on the test split."""

    def generator(self) -> nn.Module | None:
        """The bare generator whose samples are scored, for GAN methods."""
        return None

    def add(self, role: str, registry: Registry | type[nn.Module], name: str, **kwargs: Any) -> nn.Module:
        """Build a network (a registered name, or a module class) on the device; remember how (for checkpoints).

        Returns the handle to train it with: the network itself, or its DDP wrapper under torchrun.
        """
        if isinstance(registry, Registry):
            net, kind = registry.create(name, **kwargs), registry.kind
        else:
            net, kind = registry(**kwargs), f"{registry.__module__}.{registry.__qualname__}"
        self.networks[role] = (net.to(self.device), {"registry": kind, "name": name, "kwargs": kwargs})
        self.trained[role] = dist.wrap(net, self.device)
        return self.trained[role]

    def add_classifier(self, network: str) -> nn.Module:
        """The role "classifier": ``network`` built for the data (Hu et al.'s CNN with plain BatchNorm at ``width``)."""
        s = self.shape
        kwargs: dict[str, Any] = dict(image_size=s.image_size, channels=s.channels, num_classes=s.num_classes)
        if network == "cbn-cnn":
            kwargs.update(width=self.cfg.width, condition="none")
        return self.add("classifier", CLASSIFIERS, network, **kwargs)

    def network(self, role: str) -> nn.Module:
        """The bare network of ``role``: for evaluation and sampling (never a DDP wrapper)."""
        return self.networks[role][0]

    def phase(self, role: str) -> AbstractContextManager:
        """Forward passes inside feed the update of ``role``'s network only: under torchrun, the other networks'
        gradients are not averaged for them (their stray gradients are zeroed before their own update)."""
        return dist.only_syncing(self.trained, role)

    def draw(self, sample: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
        """``sample(n)`` (noise, labels) for this rank's ``n`` images; the same numbers as one process draws."""
        return dist.sharded(sample, n)

    def update(self, role: str, loss: torch.Tensor) -> None:
        """zero_grad, backward, step of ``role``'s optimizer (with loss scaling under fp16)."""
        runtime.update(self.optimizers[role], loss, self.scalers[role])

    def adam(self, module: nn.Module, lr: float | None = None, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
        return runtime.adam(module.parameters(), lr=lr or self.cfg.lr, betas=betas)

    def train(self) -> None:
        for net, _ in self.networks.values():
            net.train()

    def autocast(self) -> torch.autocast:
        """bf16 / fp16 autocast of forward passes as ``precision`` says (weights and optimisers stay fp32)."""
        return runtime.autocast(self.device, self.precision)

    def schedule(self, step: int, start: float = 0.0, ramp: float = 0.0) -> float:
        """0 before ``start`` (a fraction of training), then rising linearly to 1 over ``ramp``: for ramped loss weights."""
        t = step / self.cfg.steps
        if t < start:
            return 0.0
        return 1.0 if ramp <= 0 else min(1.0, (t - start) / ramp)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(1) == y).float().mean())
