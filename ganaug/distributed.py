"""Multi-process training on PyTorch's distributed engine (DistributedDataParallel), launched by ``torchrun``.

Under ``torchrun --nproc_per_node=N`` every process runs the same program; torchrun tells each its place
through the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``). Without torchrun the world is one
process and every function here is a no-op (``wrap`` returns the module itself, ``shard`` the whole batch),
so the one-process path is exactly the plain one.

How a batch is split: every rank draws the same *global* batch from identically seeded generators (the
trainers' index streams, the weighted sampler, noise) and keeps its share, ``batch[rank::world_size]``;
DDP averages the gradients. So N processes with B/N images each make the update one process makes with
the global batch B, up to the order of float sums, except where a batch statistic is taken per process:
BatchNorm (per-rank batch statistics; running statistics are averaged over the ranks at every
evaluation and checkpoint, see ``average_buffers``), losses that are not means over images (feature
matching), and randomness drawn inside modules (dropout, kornia augmentation), which every rank draws
for its own share. Batch sizes in configs stay global batch sizes.

Files: only rank 0 writes (``on_main``); the others wait at a barrier where they read what it wrote.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from ganaug.errors import ConfigError

T = TypeVar("T")

# Buffers (BatchNorm running statistics) are not broadcast from rank 0 before every forward pass (a collective per
# pass, several per GAN step, overwriting them between the passes of one step); they are averaged over the ranks at
# every evaluation and checkpoint instead (``average_buffers``). Newer torch names the argument forward_sync_buffers.
_NO_FORWARD_BUFFER_SYNC = {("forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(DDP).parameters
                            else "broadcast_buffers"): False}


def rank() -> int:
    """This process's rank, 0 to world_size - 1 (0 without torchrun)."""
    return int(os.environ.get("RANK", 0))


def world_size() -> int:
    """The number of processes (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", 1))


def local_rank() -> int:
    """This process's rank on its machine: the GPU it uses."""
    return int(os.environ.get("LOCAL_RANK", 0))


def is_distributed() -> bool:
    return world_size() > 1


def is_main() -> bool:
    """Rank 0: the process that writes files, prints results and shows progress bars."""
    return rank() == 0


def setup(device: torch.device) -> None:
    """Join torchrun's process group (once): NCCL for a CUDA device, gloo otherwise. A no-op in one process.

    Called explicitly by the entry point (the CLI's commands, a test's worker) once the device is known."""
    if not is_distributed() or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def shutdown() -> None:
    """Leave the process group (at the end of a command)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _group_ready() -> bool:
    """True when collectives are needed and possible; an error when the process group was never joined."""
    if not is_distributed():
        return False
    if not dist.is_initialized():
        raise RuntimeError(f"rank {rank()} of {world_size()}: call ganaug.distributed.setup(device) before "
                           "training, so that this process joins torchrun's group")
    return True


def _comm_device() -> torch.device:
    """Where collectives on small tensors run: the current GPU for NCCL, else the CPU."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def barrier() -> None:
    """Wait until every rank gets here."""
    if _group_ready():
        dist.barrier()


def on_main(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``fn(*args)`` on rank 0 only (a file write), then every rank waits for it; returns its result on rank 0."""
    result = fn(*args, **kwargs) if is_main() else None
    barrier()
    return result


def main_first(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args)`` on rank 0, then on the other ranks: e.g. a download that rank 0 makes and the others find done.
    Before the process group is joined, every rank runs it at once."""
    if not is_distributed() or not dist.is_initialized():
        return fn(*args, **kwargs)
    if not is_main():
        dist.barrier()
    result = fn(*args, **kwargs)
    if is_main():
        dist.barrier()
    return result


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over the ranks (a new tensor on its device; ``tensor`` itself in one process)."""
    if not _group_ready():
        return tensor
    out = tensor.detach().to(_comm_device(), copy=True)
    dist.all_reduce(out)
    return out.to(tensor.device)


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """Per key, the mean over the ranks (every rank passes the same keys): per-rank batch means -> global means."""
    if not is_distributed():
        return values
    total = all_reduce_sum(torch.tensor(list(values.values()), dtype=torch.float64))
    return dict(zip(values, (total / world_size()).tolist()))


def broadcast(tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
    """Rank ``src``'s ``tensor`` on every rank (same shape and dtype everywhere), e.g. predictions that must agree."""
    if not _group_ready():
        return tensor
    out = tensor.detach().to(_comm_device(), copy=True)
    dist.broadcast(out, src)
    return out.to(tensor.device)


def shard(batch: torch.Tensor, rank_: int | None = None, world: int | None = None) -> torch.Tensor:
    """This rank's share of a global batch: every ``world``-th item from position ``rank`` on."""
    rank_, world = rank() if rank_ is None else rank_, world_size() if world is None else world
    return batch if world == 1 else batch[rank_::world]


def sharded(draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
    """``draw(n)`` for this rank's ``n`` items of a global batch: draws for all ``n * world_size`` and keeps this
    rank's share, so that random numbers (noise, labels, augmentation) are those of a one-process run."""
    return shard(draw(n * world_size()))


def check_batch_size(key: str, batch_size: int) -> None:
    """A global batch size must split evenly over the processes."""
    world = world_size()
    if batch_size % world:
        lower = batch_size - batch_size % world
        raise ConfigError(f"{key}={batch_size} is the global batch size, split over the {world} processes of this "
                         f"torchrun, so it must be a multiple of {world} (e.g. {lower or world} or {lower + world})")


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` in DistributedDataParallel under torchrun (gradients averaged over the ranks in ``backward``);
    the module itself in one process. Keep the bare module for evaluation, EMA and checkpoints (``unwrap``).

    ``find_unused_parameters`` stays False: every parameter of a network gets a gradient in its own update;
    forward passes that use a network without updating it (D in the generator's step) run under ``no_sync``. A
    network that says otherwise (``unused_parameters = True``: progan's other levels) gets it True.
    """
    if not is_distributed():
        return module
    setup(device)
    ids = {"device_ids": [device.index if device.index is not None else torch.cuda.current_device()]} \
        if device.type == "cuda" else {}
    return DDP(module, **ids, **_NO_FORWARD_BUFFER_SYNC,
               find_unused_parameters=getattr(module, "unused_parameters", False))


def unwrap(module: nn.Module) -> nn.Module:
    """The bare network of a DDP wrapper (or ``module`` itself)."""
    return module.module if isinstance(module, DDP) else module


def no_sync(module: nn.Module):
    """A context in which forward passes of ``module`` do not prepare a gradient all-reduce: for passes whose
    backward updates another network. Its stray gradients stay local and are zeroed before its own update."""
    return module.no_sync() if isinstance(module, DDP) else nullcontext()


@contextmanager
def only_syncing(networks: dict[str, nn.Module], role: str) -> Iterator[None]:
    """Forward passes inside synchronise gradients for ``networks[role]`` only (the others under ``no_sync``)."""
    with ExitStack() as stack:
        for other, net in networks.items():
            if other != role:
                stack.enter_context(no_sync(net))
        yield


@torch.no_grad()
def average_buffers(*modules: nn.Module) -> None:
    """Average the floating-point buffers (BatchNorm running statistics) over the ranks, so that evaluation and
    checkpoints are the same on every rank. Integer buffers (counters) are equal on every rank already."""
    if not is_distributed():
        return
    for module in modules:
        for buf in module.buffers():
            if buf.is_floating_point():
                buf.copy_(all_reduce_sum(buf) / world_size())
