"""What every trainer needs from its surroundings: a device, mixed precision, seeded randomness, mini-batches, a progress bar."""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ganaug import distributed as dist
from ganaug.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is not there is an error.

    Under torchrun, CUDA means this process's GPU (``cuda:LOCAL_RANK``). No side effect: the entry point joins
    torchrun's process group with ``distributed.setup(device)`` (NCCL for CUDA, gloo otherwise).
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch.cuda.is_available() is False; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but is not available; use --device cpu")
    device = torch.device(name)
    if dist.is_distributed():
        if device.type == "cuda":
            if dist.local_rank() >= torch.cuda.device_count():
                raise ConfigError(f"torchrun started more processes per node than there are GPUs "
                                   f"({torch.cuda.device_count()}); use --nproc_per_node {torch.cuda.device_count()}")
            device = torch.device("cuda", dist.local_rank())
        elif device.type == "mps":
            raise ConfigError("torchrun with device 'mps' is not supported (no collective backend); use --device cpu")
    return device


PRECISION_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX). Without them torch emulates bf16, and
    training in it was 10x slower than fp32 on an AMD EPYC without AVX512-BF16 (docs/benchmarks.md)."""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if any(probe is not None for probe in probes):
        return any(probe() for probe in probes if probe is not None)
    try:  # an older torch: the kernel's flags (Linux)
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto``: bf16 where the device computes in it natively (a CUDA GPU that supports it, a CPU with AVX512-BF16
    or AMX), else fp32; the other choices unchanged. What a trainer autocasts to, and what its checkpoint records."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def check_precision(key: str, precision: str, device: torch.device) -> None:
    """fp16 needs a GPU (its loss scaling is a GPU feature); refuse it on the CPU, naming the key."""
    if precision == "fp16" and device.type == "cpu":
        raise ConfigError(f"{key}='fp16' needs a GPU (CUDA or MPS), but this run is on the CPU; use {key}=bf16 "
                          "(autocast to bfloat16, which the CPU supports and which needs no loss scaling) or fp32")


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """Autocast of forward passes to bf16 or fp16 (weights and optimiser states stay fp32); off for fp32."""
    return torch.autocast(device.type, dtype=PRECISION_DTYPES.get(precision, torch.bfloat16), enabled=precision != "fp32")


def all_finite(values: Any) -> bool:
    """Whether every number in a dict / list of numbers (or a tensor) is finite."""
    if isinstance(values, dict):
        values = list(values.values())
    if torch.is_tensor(values):
        return bool(torch.isfinite(values).all())
    return all(math.isfinite(v) for v in values if isinstance(v, (int, float)))


class PrecisionFallback:
    """bf16 that never lets a CPU's kernels end a run: on a non-finite loss, go back to the last good state and
    continue in fp32.

    bf16 kernels differ between CPUs (oneDNN on Intel AMX vs AMD EPYC): a network that trains in bf16 on one
    may produce NaN on the other. The trainer calls ``mark_good(where)`` at points where its state is known to
    be finite (an in-memory copy of ``get_state()``), and ``recover(where)`` when a loss is not finite: under
    bf16 this restores the copy with ``set_state``, switches ``precision`` to fp32 for the rest of the run, prints
    one line and records ``event`` (for the history, the checkpoint and the report), and returns True (redo
    from there). In fp32 / fp16, or a second time, it returns False and the trainer fails as before.
    """

    def __init__(self, precision: str, title: str, get_state: Callable[[], dict], set_state: Callable[[dict], None],
                 echo: Callable[[str], None] | None = None) -> None:
        self.precision, self.title = precision, title
        self._get, self._set, self._echo = get_state, set_state, echo or say
        self._good: dict | None = None
        self._good_at = ""
        self.event: dict[str, str] | None = None  # {"at", "restored", "from", "to"} once it has fallen back

    def mark_good(self, where: str) -> None:
        if self.precision == "bf16":
            self._good, self._good_at = copy.deepcopy(self._get()), where

    def recover(self, where: str) -> bool:
        if self.precision != "bf16" or self._good is None:
            return False
        self._set(self._good)
        self.precision = "fp32"
        self.event = {"at": where, "restored": self._good_at, "from": "bf16", "to": "fp32"}
        self._echo(f"{self.title}: non-finite loss in bf16 at {where} (this CPU's bf16 kernels); restored the state "
                   f"of {self._good_at} and continuing in fp32")
        return True


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for fp16, whose small range would flush small gradients to zero; a pass-through otherwise."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, scaler: torch.amp.GradScaler | None = None) -> None:
    """zero_grad, backward, step (through ``scaler`` for fp16: the loss scaled, the step skipped on inf/NaN)."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None or not scaler.is_enabled():
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def scaler_states(scalers: dict[str, torch.amp.GradScaler]) -> dict[str, dict]:
    """The loss scales, for checkpoints (empty for fp32 / bf16)."""
    return {role: s.state_dict() for role, s in scalers.items() if s.is_enabled()}


def load_scaler_states(scalers: dict[str, torch.amp.GradScaler], states: dict[str, dict]) -> None:
    for role, state in states.items():
        if role in scalers and scalers[role].is_enabled():
            scalers[role].load_state_dict(state)


def adam(params, lr: float, betas: tuple[float, float] = (0.9, 0.999), weight_decay: float = 0.0
         ) -> torch.optim.Adam:
    """Adam with torch's fused kernel (one kernel for all parameters; about 3x faster steps on a CPU than the
    per-tensor loop), where the parameters' device has one (CPU, CUDA); the same update rule either way."""
    params = list(params)
    device = params[0].device.type if params else "cpu"
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay,
                            fused=device in ("cpu", "cuda") or None)


def optimizer(name: str, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """A classifier's optimizer by name: ``adam`` (fused, above) or ``sgd`` (with ``momentum``; fused on CPU/CUDA)."""
    if name == "adam":
        return adam(params, lr=lr, weight_decay=weight_decay)
    params = list(params)
    device = params[0].device.type if params else "cpu"
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                           fused=device in ("cpu", "cuda") or None)


def num_epochs(epochs: int | None, steps: int, n: int, batch_size: int) -> int:
    """``epochs`` if given, else the fewest whole epochs that make at least ``steps`` updates over ``n`` images.

    Whole epochs, so that every checkpoint (written at an epoch's end) is a point an unbroken run passes through."""
    if epochs is not None:
        return epochs
    return max(1, math.ceil(steps / max(1, n // batch_size)))


def batches(n: int, batch_size: int, generator: torch.Generator, drop_last: bool) -> Iterator[torch.Tensor]:
    """Index batches over a seeded permutation of ``range(n)``."""
    perm = torch.randperm(n, generator=generator)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield perm[start : start + batch_size]


def class_balanced_batches(labels: torch.Tensor, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``len(labels) // batch_size`` batches drawn with replacement so that every class is equally likely.

    For a conditional GAN on imbalanced data: sampled in proportion to their counts, the rare classes
    are too rare in the discriminator's batches for the generator to learn their label (on MNIST with
    classes 0-2 cut to 10 %, the generator drew other digits for them).
    """
    counts = torch.bincount(labels).clamp(min=1).float()
    weights = (1.0 / counts)[labels]
    steps = max(1, len(labels) // batch_size)
    drawn = torch.multinomial(weights, steps * batch_size, replacement=True, generator=generator)
    yield from drawn.view(steps, batch_size)


def say(line: str) -> None:
    """A trainer's message to the person watching: one line on stderr, from rank 0 only.

    stderr, like the progress lines, so that stdout keeps only the results that scripts read (``report: PATH``)."""
    if dist.is_main():
        print(line, file=sys.stderr, flush=True)


def clock(seconds: float) -> str:
    """0:01:05 for 65 s."""
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class EpochProgress:
    """A trainer's progress in the unit of its options: updates ("steps"), or epochs when epochs were asked for.

    On a terminal, a rich bar with the latest losses, images/s and ETA. When the output is a file or a pipe, a
    line when the trainer starts, one per epoch (per evaluation for SSL) with the epoch and step counts, and one
    when it ends, never cut to a width; at most one epoch line every ``line_every_s`` seconds (the last always),
    since a digits epoch lasts a tenth of a second. With ``enabled=False`` (``--no-progress``), only the start and
    end lines, so a long run is never silent. ``silent``: nothing (torchrun's other ranks). Lines go to stderr,
    so stdout keeps the commands' results (``report: PATH``).

    ``steps``: the run's length in updates; ``epochs``: its length in epochs (None: no epochs, as in SSL); the
    ``start_*`` counts are where a resumed run starts, ``resumed_from`` the checkpoint it resumed from;
    ``asked``: the steps the options asked for, shown when whole epochs round them up; ``budget``: a time limit
    that may end training first, in words (e.g. ``300 s (gan.time_budget_s)``), said in the start line.
    """

    line_every_s = 2.0

    def __init__(self, title: str, steps: int, start_step: int = 0, epochs: int | None = None, start_epoch: int = 0,
                 unit: str = "step", asked: int | None = None, enabled: bool = True,
                 resumed_from: str | None = None, silent: bool = False, stream=None,
                 budget: str | None = None) -> None:
        self.title, self.steps, self.step, self.epochs, self.epoch = title, steps, start_step, epochs, start_epoch
        self.unit, self.asked, self._start_step = unit, asked, start_step
        self.stream = stream or sys.stderr
        self.mode = "silent" if silent else "phases" if not enabled else "bar" if self.stream.isatty() else "lines"
        self.start_time = self._tic = time.perf_counter()
        self._line_at, self._images = -math.inf, 0
        if resumed_from is not None and start_step:
            at = f" (epoch {start_epoch:,})" if epochs is not None else ""
            self._say(f"{title}: resuming from step {start_step:,}{at} of {resumed_from}")
        if self.mode in ("phases", "lines"):
            todo = ("nothing to train," if start_step >= steps else
                    "training on" if start_step and budget else
                    f"training {steps - start_step:,} more steps, to" if start_step else "training")
            limit = f" for {budget}, at most" if budget and start_step < steps else ""
            self._say(f"{title}: {todo}{limit} {self.length()}")
        by_epoch = unit == "epoch" and epochs is not None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=20),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} " + ("epochs" if by_epoch else "steps")),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            disable=self.mode != "bar", console=Console(file=self.stream) if self.mode == "bar" else None,
        )
        self._task = self._progress.add_task(title, total=epochs if by_epoch else steps,
                                             completed=start_epoch if by_epoch else start_step, status="")

    def _say(self, line: str) -> None:
        if self.mode != "silent":
            print(line, file=self.stream, flush=True)

    def length(self, steps: int | None = None) -> str:
        """``44 steps (2 whole epochs; 30 asked)``, ``12 epochs (264 steps)`` or ``3,000 steps``."""
        steps = self.steps if steps is None else steps
        if self.epochs is None:
            return f"{steps:,} steps"
        epochs = f"{self.epochs:,} epoch{'s' if self.epochs != 1 else ''}"
        if self.unit == "epoch":
            return f"{epochs} ({steps:,} steps)"
        asked = f"; {self.asked:,} asked" if self.asked is not None and self.asked != steps else ""
        return f"{steps:,} steps ({self.epochs:,} whole {epochs.split()[1]}{asked})"

    def __enter__(self) -> "EpochProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)
        if exc[0] is None and self.step > self._start_step:
            seconds = time.perf_counter() - self.start_time
            took = f"{seconds:.1f} s" if seconds < 10 else clock(seconds)
            self._say(f"{self.title}: done, {self.length(self.step)} in {took}, "
                      f"{self._images / max(seconds, 1e-9):,.0f} img/s")

    def epoch_done(self, images: int, updates: int, **scalars: float) -> float:
        """Count an epoch (or, without epochs, an evaluation interval) of ``updates`` updates over ``images`` images.

        Returns the images per second since the last call."""
        now = time.perf_counter()
        rate = images / max(now - self._tic, 1e-9)
        self._tic, self._images, self.step = now, self._images + images, self.step + updates
        if self.epochs is not None:
            self.epoch += 1
        status = "  ".join(f"{k} {v:.3f}" for k, v in scalars.items()) + f"  {rate:,.0f} img/s"
        by_epoch = self.unit == "epoch" and self.epochs is not None
        self._progress.update(self._task, advance=1 if by_epoch else updates, status=status)
        if self.mode == "lines" and (now - self._line_at >= self.line_every_s or self.step >= self.steps):
            self._line_at, elapsed = now, now - self.start_time
            eta = elapsed / max(self.step - self._start_step, 1) * max(self.steps - self.step, 0)
            epoch = f"epoch {self.epoch:,}/{self.epochs:,}  " if self.epochs is not None else ""
            self._say(f"{self.title}  {epoch}step {self.step:,}/{self.steps:,}  {status}  elapsed {clock(elapsed)}  "
                      f"eta {clock(eta)}")
        return rate
