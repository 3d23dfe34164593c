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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ganaug import distributed as dist
from ganaug.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is not there is an error.

    Under torchrun, CUDA means this process's GPU (``cuda:LOCAL_RANK``), and the process joins the process
    group here (NCCL for CUDA, gloo otherwise), since the backend follows the device.
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
        dist.setup(device)
    return device


PRECISION_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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
                 echo: Callable[[str], None] = print) -> None:
        self.precision, self.title = precision, title
        self._get, self._set, self._echo = get_state, set_state, echo
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


def num_epochs(epochs: int | None, steps: int, n: int, batch_size: int) -> int:
    """``epochs`` if given, else the fewest whole epochs that make at least ``steps`` updates over ``n`` images."""
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


def clock(seconds: float) -> str:
    """0:01:05 for 65 s."""
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class EpochProgress:
    """A trainer's progress in the unit of its options (steps, or epochs when epochs were asked for).

    On a terminal, a rich bar with the latest losses, images/s and ETA. When the output is a file or a pipe, one
    plain line per epoch (never cut at 80 columns). With ``enabled=False`` (``--no-progress``), one line when the
    trainer starts and one when it ends, so a long run is never silent. ``silent``: nothing (torchrun's other
    ranks). Lines go to stderr, so stdout keeps the commands' results (``report: PATH``).
    """

    def __init__(self, title: str, total: int, start: int = 0, enabled: bool = True, unit: str = "epoch",
                 note: str = "", resumed_from: str | None = None, silent: bool = False, stream=None) -> None:
        self.title, self.total, self.done, self.unit = title, total, start, unit
        self.stream = stream or sys.stderr
        self.mode = "silent" if silent else "phases" if not enabled else "bar" if self.stream.isatty() else "lines"
        self.start_time = self._tic = time.perf_counter()
        self._start = start
        if self.mode != "silent":
            if resumed_from is not None and start:
                self._say(f"{title}: resuming at {unit} {start:,} of {total:,} from {resumed_from}")
            if self.mode == "phases" or note:
                self._say(f"{title}: training {total - start:,} {unit}s" + (f" ({note})" if note else ""))
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            disable=self.mode != "bar", console=Console(file=self.stream) if self.mode == "bar" else None,
        )
        self._task = self._progress.add_task(f"{title} ({unit}s)", total=total, completed=start, status="")

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def __enter__(self) -> "EpochProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)
        if self.mode == "phases" and exc[0] is None:
            self._say(f"{self.title}: done, {self.done - self._start:,} {self.unit}s in "
                      f"{clock(time.perf_counter() - self.start_time)}")

    def epoch_done(self, images: int, advance: int = 1, **scalars: float) -> float:
        """Advance ``advance`` units (steps or epochs); returns the images per second since the last call."""
        now = time.perf_counter()
        rate = images / max(now - self._tic, 1e-9)
        self._tic = now
        self.done += advance
        status = "  ".join(f"{k} {v:.3f}" for k, v in scalars.items()) + f"  {rate:,.0f} img/s"
        self._progress.update(self._task, advance=advance, status=status)
        if self.mode == "lines":
            elapsed = now - self.start_time
            eta = elapsed / max(self.done - self._start, 1) * (self.total - self.done)
            self._say(f"{self.title}  {self.unit} {self.done:,}/{self.total:,}  {status}  elapsed {clock(elapsed)}  "
                      f"eta {clock(eta)}")
        return rate
