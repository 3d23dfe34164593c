"""The GAN training loop: ``d_steps`` discriminator steps, then ``g_steps`` generator steps, over real batches.

Every option of GANConfig acts through one of the small functions below (the loss, ``regularisers``, the
augmentation pipe that D is wrapped in, EMA); the loop itself stays the same. Deterministic for a seed on CPU:
weights are initialised after ``torch.manual_seed(seed)``, batches and noise come from one ``torch.Generator`` and
each augmentation's draws from its own, and every checkpoint holds all random states and the stabilisers' state
(ADA's p, LeCam's averages: ``TrainingState``), so a run resumed from its last checkpoint ends bit for bit where an
uninterrupted one would.

Under torchrun, G and D are trained with DistributedDataParallel: every rank draws the same global batch
and noise and keeps its share (``ganaug.distributed``); a network's gradients are averaged only in its
own update (in the generator's step, D runs under ``no_sync``); losses are averaged over the ranks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from ganaug import distributed as dist
from ganaug import threads
from ganaug.checkpoint import TrainingState
from ganaug.config import ConfigError, GANConfig
from ganaug.data.dataset import ImageDataset, to_float
from ganaug.gan.losses import GAN_LOSSES, GANLoss
from ganaug.gan.ada import AdaController, AdaptiveAugment
from ganaug.gan.monitor import CollapseMonitor
from ganaug.gan.stabilisers import (
    EMA, AugmentedD, DiffAugment, LeCam, PathLength, clip_weights, consistency, feature_matching, gradient_penalty,
    r1_penalty,
)
from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.runtime import (
    EpochProgress, PrecisionFallback, adam, all_finite, autocast, batches, check_precision, class_balanced_batches,
    grad_scaler, num_epochs, resolve_precision, update,
)

if TYPE_CHECKING:
    from ganaug.runlog import RunLog


class GANDivergedError(RuntimeError):
    """Training produced NaN/inf losses or a discriminator that no longer learns; the last good checkpoint is kept."""


@dataclass
class GANResult:
    generator: nn.Module  # the EMA generator when gan.ema_decay is set
    discriminator: nn.Module
    specs: dict[str, dict[str, Any]]  # how to rebuild each model: registry, name, kwargs
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch
    precision_fallback: dict[str, str] | None = None  # set when bf16 gave a non-finite loss and training went on in fp32


@dataclass
class Parts:
    """What the step functions need, built once from the config."""

    cfg: GANConfig
    G: nn.Module  # the networks to train with: DDP wrappers under torchrun (dist.unwrap gives the bare ones)
    D: AugmentedD  # every D call goes through the augmentation pipe (ADA, DiffAugment); D.net: the network
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    loss: GANLoss
    rng: torch.Generator  # batches and noise
    device: torch.device
    class_names: list[str]
    scalers: dict[str, torch.amp.GradScaler]  # fp16 loss scaling per optimizer (pass-throughs otherwise)
    precision: str = "fp32"  # the autocast precision now: cfg.precision, or fp32 after a bf16 fallback
    precision_fallback: dict[str, str] | None = None  # PrecisionFallback.event, once it has happened
    ada: AdaController | None = None  # moves the pipe's p (gan.ada)
    lecam: LeCam | None = None  # gan.lecam
    bcr_augment: nn.Module | None = None  # gan.bcr's T
    path_length: PathLength | None = None  # gan.path_length (StyleGAN2)
    d_done: int = 0  # discriminator / generator updates so far (lazy R1 and path length: every k-th one)
    g_done: int = 0
    g_total: int = 0  # generator updates the run asks for (progan's schedule of phases)


def budget_total(cfg: GANConfig, g_done: int, history: list[dict[str, float]], asked: int) -> int:
    """The generator updates the run will make: ``asked``, or under ``gan.time_budget_s`` those done plus what the
    rest of the budget allows at the speed so far (re-estimated every epoch from the history's seconds, which are
    the same on every rank), so that progan's phases span a time-budgeted run as they span one of fixed length."""
    spent = seconds_trained(history)
    if cfg.time_budget_s is None or not history or spent <= 0:
        return asked
    return min(asked, g_done + int(g_done / spent * max(0.0, cfg.time_budget_s - spent)))


def build_gan(cfg: GANConfig, image_size: int, channels: int, num_classes: int) -> tuple[nn.Module, nn.Module, dict]:
    """Generator and discriminator of ``cfg.architecture`` for this data, and their rebuild specs."""
    classes = num_classes if cfg.conditional else 0
    g_kwargs = dict(image_size=image_size, channels=channels, num_classes=classes, z_dim=cfg.z_dim, width=cfg.g_width,
                    **cfg.generator_kwargs)
    d_kwargs = dict(image_size=image_size, channels=channels, num_classes=classes, width=cfg.d_width,
                    **cfg.discriminator_kwargs)
    models = []
    for role, registry, kwargs in (("generator", GENERATORS, g_kwargs), ("discriminator", DISCRIMINATORS, d_kwargs)):
        try:
            models.append(registry.create(cfg.architecture, **kwargs))
        except (TypeError, ValueError, KeyError) as err:
            raise ConfigError(f"gan.architecture={cfg.architecture!r}: cannot build the {role} with {kwargs}: {err}") from err
    specs = {
        "generator": {"registry": "generator", "name": cfg.architecture, "kwargs": g_kwargs},
        "discriminator": {"registry": "discriminator", "name": cfg.architecture, "kwargs": d_kwargs},
    }
    return models[0], models[1], specs


def train_gan(
    cfg: GANConfig,
    data: ImageDataset,
    seed: int,
    device: torch.device,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    log: RunLog | None = None,
) -> GANResult:
    """Train on ``data`` (the training split only); resume from ``checkpoint_dir/last`` if it exists.

    ``log`` (TensorBoard) gets each epoch's history row, and a sample grid at every checkpoint epoch."""
    check_precision("gan.precision", cfg.precision, device)
    precision = resolve_precision(cfg.precision, device)
    dist.check_batch_size("gan.batch_size", cfg.batch_size)
    torch.manual_seed(seed)
    G, D, specs = build_gan(cfg, data.image_size, data.channels, data.num_classes)
    # A model may opt out of NHWC with a class attribute ``channels_last = False`` (none does now).
    fits = getattr(G, "channels_last", True) and getattr(D, "channels_last", True)
    memory = torch.channels_last if cfg.channels_last and fits else torch.contiguous_format
    G, D = G.to(device, memory_format=memory), D.to(device, memory_format=memory)
    generators = {name: torch.Generator().manual_seed(seed + offset)  # each augmentation's draws, apart from
                  for name, offset in (("diffaugment_rng", 7919), ("ada_rng", 7927), ("bcr_rng", 7933))}  # the rest
    pipe, ada = augmentation_pipe(cfg, generators)
    p = Parts(
        cfg, G, AugmentedD(D, pipe),
        opt_g=adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas),  # two time-scale: lr_g != lr_d
        opt_d=adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas),
        loss=GAN_LOSSES.create(cfg.loss, real_target=1.0 - cfg.label_smoothing),
        rng=torch.Generator().manual_seed(seed),
        device=device,
        class_names=list(data.class_names),
        scalers={"generator": grad_scaler(device, precision), "discriminator": grad_scaler(device, precision)},
        precision=precision,
        ada=ada,
        lecam=LeCam(cfg.lecam.decay) if cfg.lecam.enabled else None,
        bcr_augment=AdaptiveAugment(["xflip", "translation"], generators["bcr_rng"], p=1.0) if cfg.bcr.enabled else None,
    )
    ema = EMA(G, cfg.ema_decay, cfg.ema_start) if cfg.ema_decay else None
    models = {"generator": (G, specs["generator"]), "discriminator": (D, specs["discriminator"])}
    if ema is not None:
        models["generator_ema"] = (ema.model, specs["generator"])
    attributes = {"ada_p": (ada.pipe, "p"), "ada_signs": (ada, "signs"), "ada_steps": (ada, "steps")} if ada else {}
    if cfg.path_length:
        if not hasattr(G, "mapping_ws"):
            raise ConfigError(f"gan.path_length={cfg.path_length} needs a generator with per-layer styles "
                              f"(stylegan2), not {cfg.architecture!r}; set gan.path_length=0")
        if dist.is_distributed():
            raise ConfigError("gan.path_length is not supported under torchrun yet; set gan.path_length=0")
        p.path_length = PathLength()
        attributes["path_length_mean"] = (p.path_length, "mean")
    if cfg.path_length or cfg.r1_every > 1 or hasattr(G, "phase_at"):  # lazy regularisers and progressive growing
        # count the updates across epochs and resumes
        attributes.update(d_done=(p, "d_done"), g_done=(p, "g_done"))
    if p.lecam is not None:
        attributes.update(lecam_averages=(p.lecam, "averages"), lecam_steps=(p.lecam, "steps"))
    state = TrainingState(models, {"generator": p.opt_g, "discriminator": p.opt_d}, device, p.scalers,
                          generators={"rng": p.rng, **generators}, attributes=attributes)
    epochs = num_epochs(cfg.epochs, cfg.steps, len(data), cfg.batch_size)
    history: list[dict[str, float]] = []
    start_epoch = 0

    last = checkpoint_dir / "last" if checkpoint_dir else None
    dist.barrier()  # every rank sees the same checkpoint (only rank 0 writes them)
    if last is not None and last.with_suffix(".json").exists():
        meta = state.load(last).meta
        history, start_epoch = meta["history"], meta["epoch"]
        p.precision = meta.get("precision", p.precision)  # a run that fell back to fp32 stays there
        p.precision_fallback = meta.get("precision_fallback")
    p.G, p.D.net = dist.wrap(G, device), dist.wrap(D, device)  # after resuming: DDP starts from rank 0's weights

    fallback = PrecisionFallback(p.precision, "GAN", state.snapshot, state.restore)
    images, labels = to_float(data.images), data.labels
    monitor = CollapseMonitor(images, labels, data.num_classes, cfg.conditional, cfg.z_dim, cfg.collapse_samples,
                              seed, device)
    per_epoch = (max(1, len(data) // cfg.batch_size) // cfg.d_steps) * cfg.g_steps  # generator updates
    p.g_total = epochs * per_epoch
    in_steps = cfg.epochs is None  # the bar counts what the options asked for: generator updates, or epochs
    with EpochProgress("GAN", epochs * per_epoch, start_epoch * per_epoch, epochs, start_epoch,
                       unit="step" if in_steps else "epoch", asked=cfg.steps if in_steps else None, enabled=progress,
                       resumed_from=str(last) if start_epoch else None, silent=not dist.is_main(),
                       budget=f"{cfg.time_budget_s:,.0f} s (gan.time_budget_s)" if cfg.time_budget_s else None) as bar:
        for epoch in range(start_epoch, epochs):
            if budget_spent(cfg, history):
                break
            tic = time.perf_counter()
            threads.adapt()  # the CLI's choice of torch threads follows the free cores
            fallback.mark_good(f"the start of epoch {epoch + 1}")
            if ema is not None:
                ema.updates = epoch * per_epoch  # generator updates so far, for gan.ema_start (also after a resume)
            p.g_total = budget_total(cfg, p.g_done, history, epochs * per_epoch)
            deadline = budget_deadline(cfg, history, tic)
            row = train_epoch(p, ema, images, labels, memory, deadline)
            if not all_finite(row) and fallback.recover(f"epoch {epoch + 1}"):
                p.precision, p.precision_fallback = fallback.precision, fallback.event
                if ema is not None:
                    ema.updates = epoch * per_epoch
                row = train_epoch(p, ema, images, labels, memory, budget_deadline(cfg, history, time.perf_counter()))
            check_divergence(row, epoch, last, p.loss.probabilistic)
            row["images_per_s"] = bar.epoch_done(row["d_updates"] * cfg.batch_size, row["g_updates"],
                                                 loss_d=row["loss_d"], loss_g=row["loss_g"])
            seconds = dist.all_reduce_sum(torch.tensor([time.perf_counter() - tic])) / dist.world_size()
            row["epoch"], row["seconds"] = epoch + 1, float(seconds)  # the same on every rank: they stop together
            history.append(row)
            final = epoch + 1 == epochs or budget_spent(cfg, history)
            if (epoch + 1) % cfg.checkpoint_every == 0 or final:  # collapse monitor: diversity, a warning line
                row.update(monitor(ema.model if ema else G, D, f"epoch {epoch + 1}", cfg.collapse_warning, p.class_names))
            if log is not None:
                log.scalars(row, epoch + 1)
                if (epoch + 1) % cfg.checkpoint_every == 0 or final:
                    log.samples(ema.model if ema else G, cfg.z_dim, epoch + 1)
            meta = {"epoch": epoch + 1, "history": history, "seed": seed, "config": cfg.model_dump(mode="json"),
                    "precision": p.precision, "precision_fallback": p.precision_fallback, "class_names": p.class_names}
            if last is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or final):
                dist.on_main(state.save, last, meta)
            if checkpoint_dir is not None and epoch + 1 in cfg.snapshot_epochs:
                dist.on_main(state.save, checkpoint_dir / f"epoch-{epoch + 1:04d}", meta)
    # Back to the default layout, so that sampling from the result equals sampling from its checkpoint.
    G_out = (ema.model if ema else G).to(memory_format=torch.contiguous_format).eval()
    return GANResult(G_out, D.to(memory_format=torch.contiguous_format).eval(), specs, history, p.precision_fallback)


def budget_spent(cfg: GANConfig, history: list[dict[str, float]]) -> bool:
    """Has training (every epoch so far, resumed calls included) used up ``gan.time_budget_s``?"""
    return cfg.time_budget_s is not None and seconds_trained(history) >= cfg.time_budget_s


def budget_deadline(cfg: GANConfig, history: list[dict[str, float]], now: float) -> float | None:
    """The ``time.perf_counter()`` at which this epoch stops early because ``gan.time_budget_s`` is spent (None: no
    budget). Under torchrun the ranks cannot agree on a clock without a collective per step, so there the budget is
    checked only at the end of each epoch, and an epoch longer than the budget runs to its end."""
    if cfg.time_budget_s is None or dist.is_distributed():
        return None
    return now + cfg.time_budget_s - seconds_trained(history)


def seconds_trained(history: list[dict[str, float]]) -> float:
    """Training seconds of every epoch so far (resumed calls included), as the history records them."""
    return sum(r.get("seconds", 0.0) for r in history)


def train_epoch(p: Parts, ema: EMA | None, images: torch.Tensor, labels: torch.Tensor,
                memory: torch.memory_format, deadline: float | None = None) -> dict[str, float]:
    """One pass over the real batches: ``d_steps`` D updates, then ``g_steps`` G updates; the epoch's mean losses.
    It ends early, after a generator update, once ``time.perf_counter()`` passes ``deadline`` (the time budget)."""
    cfg = p.cfg
    dist.unwrap(p.G).train(), dist.unwrap(p.D.net).train()
    sums = torch.zeros(4, device=p.device)  # loss_d, loss_g, D(real), D(fake): summed on-tensor, read once per epoch
    d_count = g_count = 0
    for idx_global in real_batches(cfg, labels, p.rng):
        if hasattr(dist.unwrap(p.G), "phase_at"):  # progressive growing (progan): both networks in this update's phase
            phase = dist.unwrap(p.G).phase_at(p.g_done, p.g_total)
            dist.unwrap(p.G).set_phase(*phase), dist.unwrap(p.D.net).set_phase(*phase)
        idx = dist.shard(idx_global)
        real = images[idx].to(p.device).contiguous(memory_format=memory)
        y = labels[idx].to(p.device) if cfg.conditional else None
        stats, fake = discriminator_step(p, real, y)
        sums[[0, 2, 3]] += stats
        d_count += 1
        if d_count % cfg.d_steps == 0:
            for k in range(cfg.g_steps):  # the first G step reuses the D step's fakes, as DCGAN does
                sums[1] += generator_step(p, real, y, fake if k == 0 else None)
                g_count += 1
                if ema is not None:
                    ema.update(dist.unwrap(p.G))
            if deadline is not None and time.perf_counter() >= deadline:
                break
    means = (dist.all_reduce_sum(sums) / dist.world_size()).tolist()  # means over the ranks' shares
    dist.average_buffers(dist.unwrap(p.G), dist.unwrap(p.D.net), *([ema.model] if ema else []))  # BatchNorm stats
    return {"loss_d": means[0] / max(d_count, 1), "loss_g": means[1] / max(g_count, 1),
            "d_real": means[2] / max(d_count, 1), "d_fake": means[3] / max(d_count, 1),
            "d_updates": d_count, "g_updates": g_count, **({"ada_p": p.ada.pipe.p} if p.ada else {})}


def discriminator_step(p: Parts, real: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One discriminator update; returns (loss, mean D(real), mean D(fake)) detached, and the fakes (with G's graph)."""
    cfg = p.cfg
    with autocast(p.device, p.precision):
        fake_with_graph = p.G(noise(p, len(real)), y)  # fake labels follow the real batch's class mix
        fake = fake_with_graph.detach()
        out_real, out_fake = p.D(real, y), p.D(fake, y)
        loss = p.loss.discriminator(out_real["adv"].float(), out_fake["adv"].float())
        if "cls" in out_real:  # auxiliary classifier (acgan): classify real and generated images
            loss = loss + cfg.aux_class_weight * (
                F.cross_entropy(out_real["cls"].float(), y) + F.cross_entropy(out_fake["cls"].float(), y))
    loss = loss + regularisers(p, real, fake, y, out_real["adv"], out_fake["adv"])
    update(p.opt_d, loss, p.scalers["discriminator"])
    p.d_done += 1
    if cfg.weight_clip is not None:
        clip_weights(dist.unwrap(p.D.net), cfg.weight_clip)
    if p.ada is not None:
        p.ada.update(out_real["adv"])
    scores = [logit_score(out["adv"], p.loss) for out in (out_real, out_fake)]
    return torch.stack([loss.detach(), *scores]), fake_with_graph


def regularisers(p: Parts, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None,
                 out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """The sum of D's enabled regularisers, given its outputs ("adv") on this step's real and fake images: WGAN-GP,
    R1 (both at the unaugmented images, through the pipe, in fp32), LeCam and bCR (0 when none is on)."""
    cfg, terms = p.cfg, [torch.zeros((), device=p.device)]
    if cfg.gradient_penalty:
        terms.append(cfg.gradient_penalty * gradient_penalty(p.D, real, fake, y))
    if cfg.r1_gamma and p.d_done % cfg.r1_every == 0:  # lazy (StyleGAN2): every r1_every-th step, weighted by it
        terms.append(cfg.r1_gamma / 2 * cfg.r1_every * r1_penalty(p.D, real, y))
    if p.lecam is not None:
        terms.append(cfg.lecam.weight * p.lecam(out_real, out_fake))
    if p.bcr_augment is not None:
        with autocast(p.device, p.precision):
            terms.append(cfg.bcr.real * consistency(p.D, real, out_real, p.bcr_augment, y)
                         + cfg.bcr.fake * consistency(p.D, fake, out_fake, p.bcr_augment, y))
    return sum(terms[1:], terms[0])


def augmentation_pipe(cfg: GANConfig, generators: dict[str, torch.Generator]) -> tuple[nn.Module, AdaController | None]:
    """What D sees every image through: ADA's adaptive ops (gan.ada), then DiffAugment's (gan.diffaugment), and
    ADA's controller of p."""
    pipe, ada = nn.Sequential(), None
    if cfg.ada.enabled:
        pipe.append(AdaptiveAugment(cfg.ada.ops, generators["ada_rng"]))
        ada = AdaController(pipe[0], cfg.ada.target, cfg.ada.interval, cfg.ada.kimg, cfg.batch_size)
    if cfg.diffaugment:
        pipe.append(DiffAugment(cfg.diffaugment, generators["diffaugment_rng"]))
    return pipe, ada


def generator_step(
    p: Parts, real: torch.Tensor, y: torch.Tensor | None, fake: torch.Tensor | None = None
) -> torch.Tensor:
    """One generator update against the current discriminator (on ``fake`` if given); returns the detached loss.

    D is only used here (its stray gradients are zeroed before its own update): under torchrun it runs under
    ``no_sync``, so that only G's gradients are averaged over the ranks.
    """
    cfg = p.cfg
    with autocast(p.device, p.precision), dist.no_sync(p.D.net):
        fake = p.G(noise(p, len(real)), y) if fake is None else fake
        out_fake = p.D(fake, y)
        loss = p.loss.generator(out_fake["adv"].float())
        if "cls" in out_fake:
            loss = loss + cfg.aux_class_weight * F.cross_entropy(out_fake["cls"].float(), y)
        if cfg.feature_matching:
            with torch.no_grad():
                real_features = p.D(real, y)["features"]
            loss = loss + cfg.feature_matching * feature_matching(real_features.float(), out_fake["features"].float())
    if p.path_length is not None and p.g_done % cfg.path_length_every == 0:  # lazy, on half the batch, in fp32
        half = max(1, len(real) // 2)
        penalty = p.path_length(dist.unwrap(p.G), noise(p, half), None if y is None else y[:half])
        loss = loss + cfg.path_length * cfg.path_length_every * penalty
    update(p.opt_g, loss, p.scalers["generator"])
    p.g_done += 1
    return loss.detach()


def noise(p: Parts, n: int) -> torch.Tensor:
    """Noise for this rank's ``n`` images (drawn for the whole global batch, so the same as in one process)."""
    return dist.sharded(lambda m: torch.randn(m, p.cfg.z_dim, generator=p.rng), n).to(p.device)


def logit_score(logits: torch.Tensor, loss: GANLoss) -> torch.Tensor:
    """Mean D(x) as a probability for probabilistic losses, else the mean raw critic score."""
    return (torch.sigmoid(logits) if loss.probabilistic else logits).detach().mean()


def real_batches(cfg: GANConfig, labels: torch.Tensor, rng: torch.Generator):
    """Index batches of real images for one epoch, drawn as ``cfg.sampling`` says."""
    if cfg.sampling == "class-balanced":
        return class_balanced_batches(labels, cfg.batch_size, rng)
    return batches(len(labels), cfg.batch_size, rng, drop_last=True)


def check_divergence(row: dict[str, float], epoch: int, last: Path | None, probabilistic: bool = True) -> None:
    """Stop on NaN/inf losses, or (probabilistic losses) a discriminator that separates real and fake perfectly."""
    kept = f"; the last good checkpoint is {last}" if last is not None and last.with_suffix(".json").exists() else ""
    if not all(math.isfinite(v) for v in row.values()):
        raise GANDivergedError(f"epoch {epoch + 1}: non-finite GAN loss {row}{kept}. Lower the learning rates.")
    if probabilistic and row["d_real"] > 0.999 and row["d_fake"] < 0.001:
        raise GANDivergedError(
            f"epoch {epoch + 1}: the discriminator separates real and fake perfectly (D(real)={row['d_real']:.4f}, "
            f"D(fake)={row['d_fake']:.4f}); the generator gets no gradient{kept}."
        )
