"""CycleGAN's training loop (Zhu et al. 2017): two generators G: A -> B and F: B -> A, two PatchGAN discriminators.

Each step, on a batch of A and a batch of B images:

- generators (one Adam over both): least-squares GAN loss (D(G(a)) -> 1, D(F(b)) -> 1), plus lambda x the cycle
  loss |F(G(a)) - a|_1 + |G(F(b)) - b|_1, plus identity_weight x lambda x |G(b) - b|_1 + |F(a) - a|_1 (which keeps
  the colours of a translation);
- discriminators (one Adam over both): 0.5 x [(D(real) - 1)^2 + D(fake)^2], the fakes drawn from a history of
  generated images (Shrivastava et al. 2017), so that D does not forget what G made a while ago.

Adam at ``lr`` (beta1 0.5) for the first half of the steps, then decayed linearly to 0. Losses in fp32 on the CPU.
Batches, the history's draws and the networks' starting weights are a function of the seed; a checkpoint holds
everything (the history's images included), so a resumed run ends where an unbroken one would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganaug.checkpoint import TrainingState
from ganaug.config import CycleGANConfig
from ganaug.models import TRANSLATORS
from ganaug.runtime import EpochProgress


class ImagePool:
    """A history of up to ``size`` generated images. ``query(batch)``: while the pool fills, each image is stored and
    shown; once full, each image is, with probability 1/2, swapped for a random stored one (which is shown instead)."""

    def __init__(self, size: int, generator: torch.Generator) -> None:
        self.size, self.generator = size, generator
        self.images: torch.Tensor | None = None  # (n <= size, C, H, W); a checkpoint holds it

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach():
            stored = 0 if self.images is None else len(self.images)
            if stored < self.size:
                self.images = image[None].clone() if self.images is None else torch.cat([self.images, image[None]])
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                k = int(torch.randint(stored, (), generator=self.generator))
                out.append(self.images[k].clone())
                self.images[k] = image
            else:
                out.append(image)
        return torch.stack(out)


def lsgan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017): mean (D(x) - 1)^2 for real targets, mean D(x)^2 for fake ones."""
    logits = logits.float()
    return ((logits - 1) ** 2).mean() if real else (logits**2).mean()


def lr_factor(step: int, steps: int) -> float:
    """1 for the first half of training, then linearly down to 0 at ``steps``."""
    half = steps / 2
    return 1.0 if step < half else max(0.0, (steps - step) / (steps - half))


@dataclass
class CycleGANResult:
    G: nn.Module  # A -> B
    F: nn.Module  # B -> A
    history: list[dict[str, float]] = field(default_factory=list)  # every log_every steps: the losses' means


def build_cyclegan(cfg: CycleGANConfig, image_size: int, channels: int) -> dict[str, tuple[nn.Module, dict]]:
    """The four networks by role, each with its rebuild spec (for checkpoints)."""
    specs = {"G": ("cyclegan", {"width": cfg.width, "blocks": cfg.blocks}), "F": ("cyclegan", {"width": cfg.width,
             "blocks": cfg.blocks}), "D_B": ("patchgan", {"width": cfg.d_width}), "D_A": ("patchgan", {"width": cfg.d_width})}
    out = {}
    for role, (name, kwargs) in specs.items():
        kwargs = {"image_size": image_size, "channels": channels, **kwargs}
        net = TRANSLATORS.create(name, **kwargs)
        for m in net.modules():  # the paper's init: N(0, 0.02) weights
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
        out[role] = (net, {"registry": "translator", "name": name, "kwargs": kwargs})
    return out


def train_cyclegan(cfg: CycleGANConfig, a: torch.Tensor, b: torch.Tensor, seed: int, device: torch.device,
                   checkpoint_dir: Path | None = None, progress: bool = True) -> CycleGANResult:
    """Train on the float images ``a`` and ``b`` in [-1, 1] (N, C, H, W, the same C, H, W); resume from
    ``checkpoint_dir/last`` when it exists."""
    torch.manual_seed(seed)
    nets = build_cyclegan(cfg, a.shape[-1], a.shape[1])
    for net, _ in nets.values():
        net.to(device)
    G, Fn, D_B, D_A = (nets[r][0] for r in ("G", "F", "D_B", "D_A"))
    betas = (cfg.beta1, 0.999)
    opt_g = torch.optim.Adam([*G.parameters(), *Fn.parameters()], lr=cfg.lr, betas=betas)
    opt_d = torch.optim.Adam([*D_B.parameters(), *D_A.parameters()], lr=cfg.lr, betas=betas)
    rng = {"batches": torch.Generator().manual_seed(seed + 1), "pool": torch.Generator().manual_seed(seed + 2)}
    pool_a, pool_b = ImagePool(cfg.pool_size, rng["pool"]), ImagePool(cfg.pool_size, rng["pool"])
    state = TrainingState(nets, {"generators": opt_g, "discriminators": opt_d}, device, generators=rng,
                          attributes={"pool_a": (pool_a, "images"), "pool_b": (pool_b, "images")})
    history: list[dict[str, float]] = []
    start = 0
    last = checkpoint_dir / "last" if checkpoint_dir else None
    if last is not None and last.with_suffix(".json").exists():
        meta = state.load(last).meta
        history, start, rows = meta["history"], meta["step"], meta["rows"]
    else:
        rows = []  # the losses of each step since the last history row
    lam = cfg.cycle_weight
    with EpochProgress("CycleGAN", cfg.steps, start, enabled=progress,
                       resumed_from=str(last) if start else None) as bar:
        for step in range(start, cfg.steps):
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * lr_factor(step, cfg.steps)
            real_a = a[torch.randint(len(a), (cfg.batch_size,), generator=rng["batches"])].to(device)
            real_b = b[torch.randint(len(b), (cfg.batch_size,), generator=rng["batches"])].to(device)
            for net in (G, Fn, D_B, D_A):
                net.train()

            fake_b, fake_a = G(real_a), Fn(real_b)  # generators
            gan = lsgan_loss(D_B(fake_b), True) + lsgan_loss(D_A(fake_a), True)
            cycle = F.l1_loss(Fn(fake_b).float(), real_a) + F.l1_loss(G(fake_a).float(), real_b)
            identity = F.l1_loss(G(real_b).float(), real_b) + F.l1_loss(Fn(real_a).float(), real_a)
            opt_g.zero_grad(set_to_none=True)
            (gan + lam * cycle + cfg.identity_weight * lam * identity).backward()
            opt_g.step()

            shown_b, shown_a = pool_b.query(fake_b), pool_a.query(fake_a)  # discriminators
            loss_d = 0.5 * (lsgan_loss(D_B(real_b), True) + lsgan_loss(D_B(shown_b), False)
                            + lsgan_loss(D_A(real_a), True) + lsgan_loss(D_A(shown_a), False))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()

            rows.append({"loss_g": gan.item(), "loss_cycle": cycle.item(), "loss_identity": identity.item(),
                         "loss_d": loss_d.item()})
            if not all(np.isfinite(v) for v in rows[-1].values()):
                raise FloatingPointError(f"CycleGAN: non-finite loss at step {step + 1} ({rows[-1]}); lower "
                                         "cyclegan.lr")
            done = step + 1
            if done % cfg.log_every == 0 or done == cfg.steps:
                row = {"step": done, **{k: float(np.mean([r[k] for r in rows])) for k in rows[0]}}
                row["images_per_s"] = bar.epoch_done(2 * len(rows) * cfg.batch_size, len(rows),
                                                     loss=row["loss_cycle"])
                history.append(row)
                rows = []
            if last is not None and (done % cfg.checkpoint_every == 0 or done == cfg.steps):
                state.save(last, {"step": done, "history": history, "rows": rows, "seed": seed})
    for net in (G, Fn, D_B, D_A):
        net.eval()
    return CycleGANResult(G, Fn, history)
