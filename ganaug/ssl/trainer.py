"""The one semi-supervised training loop, shared by every algorithm. Deterministic for a seed on CPU.

Each iteration draws a labelled batch and an unlabelled batch (each from its own seeded sequence of
shuffled epochs, a pure function of the iteration), calls ``algorithm.train_step``, and every ``eval_every``
iterations records the logged scalars and the validation accuracy (for curves only: nothing is selected on
it). The unlabelled batch has ``algorithm.unlabeled_batch_size()`` images (FixMatch: mu x the labelled batch); for an
algorithm with ``views`` the trainer also draws their weak and strong views (``ganaug.ssl.views``); an algorithm's
EMA copy (``add_ema``) is checkpointed with its networks. For a GAN method the collapse monitor
(``ganaug.gan.monitor``) adds the generator's relative within-class diversity to each evaluation, with a warning line. The final networks are evaluated; there is no early stopping, so no label outside the labelled set is used.

Under torchrun every rank draws the same global batches and trains on its share (``ganaug.distributed``);
the logged scalars are averaged over the ranks, and only rank 0 writes checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganaug import distributed as dist
from ganaug import threads
from ganaug.checkpoint import TrainingState
from ganaug.classifier.trainer import TrainingDivergedError, predict
from ganaug.config import SSLConfig
from ganaug.data.dataset import ImageDataset, to_float
from ganaug.gan.monitor import CollapseMonitor
from ganaug.runtime import EpochProgress, PrecisionFallback, all_finite, check_precision
from ganaug.ssl.base import ALGORITHMS, Batch, Shape, SSLAlgorithm

if TYPE_CHECKING:
    from ganaug.runlog import RunLog


@dataclass
class SSLResult:
    algorithm: SSLAlgorithm
    history: list[dict[str, float]] = field(default_factory=list)  # every eval_every iterations: means of the logs
    precision_fallback: dict[str, str] | None = None  # set when bf16 gave a non-finite loss and training went on in fp32


class IndexStream:
    """Index batch of iteration ``it``: seeded reshuffled epochs of ``range(n)``, a pure function of (seed, it).

    So a resumed run draws exactly the batches an unbroken one would. With fewer images than a batch,
    an epoch is the images repeated to fill one batch.
    """

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = max(1, n // batch_size)
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.int64)

    def __call__(self, it: int) -> torch.Tensor:
        epoch, k = divmod(it, self.per_epoch)
        if epoch != self._epoch:
            rng = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(self.n, generator=rng)
            self._epoch, self._perm = epoch, perm.repeat(-(-self.batch_size // self.n))
        return self._perm[k * self.batch_size : (k + 1) * self.batch_size]


def train_ssl(
    cfg: SSLConfig,
    algorithm: str,
    labeled: ImageDataset,
    unlabeled: ImageDataset,
    seed: int,
    device: torch.device,
    val: ImageDataset | None = None,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    log: RunLog | None = None,
) -> SSLResult:
    """Train ``algorithm`` for ``cfg.steps`` iterations; resume from ``checkpoint_dir/last`` if present.

    ``log`` (TensorBoard) gets each evaluation's history row, and a sample grid when the algorithm has a generator."""
    cls = ALGORITHMS.get(algorithm)
    if cls.uses_unlabeled and len(unlabeled) == 0:
        raise ValueError(f"{algorithm} learns from unlabelled images, but there are none (every image is labelled)")
    check_precision("precision", cfg.precision, device)
    dist.check_batch_size("batch_size", cfg.batch_size)
    dist.check_batch_size("unlabeled_batch_size", cfg.unlabeled_batch_size)
    torch.manual_seed(seed)
    algo = cls(cfg, cfg.options.get(algorithm, {}), Shape(labeled.image_size, labeled.channels, labeled.num_classes), device)
    state = TrainingState(algo.networks, algo.optimizers, device, algo.scalers)  # batches need no state: IndexStream
    history: list[dict[str, float]] = []
    logs: list[dict[str, float]] = []  # the scalars of each iteration since the last evaluation
    start = 0

    last = checkpoint_dir / "last" if checkpoint_dir else None
    dist.barrier()  # every rank sees the same checkpoint (only rank 0 writes them)
    if last is not None and last.with_suffix(".json").exists():
        meta = state.load(last).meta
        history, logs, start = meta["history"], meta.get("logs", []), meta["step"]
        algo.precision = meta.get("precision", algo.precision)  # a run that fell back to fp32 stays there
        algo.precision_fallback = meta.get("precision_fallback")

    x_all, y_all = to_float(labeled.images), labeled.labels
    u_all = to_float(unlabeled.images) if cls.uses_unlabeled else None
    idx_x = IndexStream(len(labeled), cfg.batch_size, seed)
    idx_u = IndexStream(max(1, len(unlabeled)), algo.unlabeled_batch_size(), seed + 7919)
    nets = [net for net, _ in algo.networks.values()]
    G, D = algo.generator(), algo.networks.get("discriminator", (None,))[0]
    monitor = None  # a GAN method's within-class diversity at each evaluation, against the labelled images
    if G is not None and D is not None:
        monitor = CollapseMonitor(x_all, y_all, labeled.num_classes, getattr(G, "num_classes", 0) > 0,
                                  G.z_dim, cfg.collapse_samples, seed, device)  # every ganaug generator has z_dim

    fallback = PrecisionFallback(algo.precision, algorithm, state.snapshot, state.restore)
    good, good_logs = start, list(logs)  # the iteration the last good state was taken at, and its pending logs
    fallback.mark_good(f"iteration {start}")
    with EpochProgress(algorithm, cfg.steps, start, enabled=progress,
                       resumed_from=str(last) if start else None, silent=not dist.is_main()) as bar:
        it = start
        while it < cfg.steps:
            threads.adapt()  # the CLI's choice of torch threads follows the free cores (cheap: a clock read)
            i, j = dist.shard(idx_x(it)), dist.shard(idx_u(it))
            u = u_all[j].to(device) if u_all is not None else x_all[:0].to(device)
            algo.train()
            views = algo.views(u) if algo.views is not None else (None, None)  # weak and strong, drawn afresh
            logs.append(algo.train_step(Batch(x_all[i].to(device), y_all[i].to(device), u, *views), it))

            evaluate = (it + 1) % cfg.eval_every == 0 or it + 1 == cfg.steps
            save = last is not None and ((it + 1) % cfg.checkpoint_every == 0 or it + 1 == cfg.steps)
            if (evaluate or save) and not all(all_finite(r) for r in logs):
                if not fallback.recover(f"iteration {it + 1}"):
                    raise TrainingDivergedError(f"{algorithm}: non-finite loss by iteration {it + 1} in "
                                                f"{algo.precision}; lower its learning rate (options.{algorithm}.lr)")
                algo.precision, algo.precision_fallback = fallback.precision, fallback.event
                it, logs = good, list(good_logs)  # redo from the last good state, in fp32
                continue
            if evaluate or save:
                dist.average_buffers(*nets)  # BatchNorm statistics: the same on every rank
            if evaluate:
                keys = dict.fromkeys(k for r in logs for k in r)  # some phases do not run every iteration
                means = dist.mean_over_ranks({k: float(np.mean([r[k] for r in logs if k in r])) for k in keys})
                row = {"step": it + 1, **means}
                if monitor is not None:
                    row.update(monitor(G, D, f"iteration {it + 1}", cfg.collapse_warning, labeled.class_names))
                if val is not None:
                    row["val_acc"] = float((predict(algo.classifier(), val.images, device) == val.labels).float().mean())
                row["images_per_s"] = bar.epoch_done(len(logs) * cfg.batch_size, len(logs),
                                                     **{k: row[k] for k in ("loss", "val_acc") if k in row})
                history.append(row)
                if log is not None:
                    log.scalars(row, it + 1)
                    if algo.generator() is not None:
                        log.samples(algo.generator(), algo.opt.z_dim, it + 1)
                logs = []
            if save:
                dist.on_main(state.save, last, {"step": it + 1, "history": history, "logs": logs, "seed": seed,
                                                "algorithm": algorithm, "precision": algo.precision,
                                                "precision_fallback": algo.precision_fallback})
            if evaluate or save:
                good, good_logs = it + 1, list(logs)
                fallback.mark_good(f"iteration {good}")
            it += 1
    for net in nets:
        net.eval()
    return SSLResult(algo, history, algo.precision_fallback)
