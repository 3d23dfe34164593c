"""Training stabilisers that act in the loop (architecture options such as spectral norm live in the models).

Each is a small function or module the GAN trainer calls when its config switch is on:
gradient penalties (WGAN-GP, R1), WGAN's weight clipping, the LeCam and consistency (bCR) regularisers, feature matching, an exponential
moving average of the generator, and DiffAugment-style differentiable augmentation, which ``AugmentedD`` applies to
every image the discriminator sees (ADA's adaptive pipe is in ``ganaug.gan.ada``).

Their random numbers are drawn per image of the global batch (``rand``, ``randint``), so that under torchrun
each rank gets exactly the draws of its images in a one-process run.
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
from torch import nn

from ganaug import distributed as dist


def rand(n: int, device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform [0, 1) numbers of shape (n, 1, 1, 1) for this rank's ``n`` images, on ``device``.

    From ``generator`` (drawn on its own device, then moved) if given, else from torch's global generator."""
    where = generator.device if generator is not None else device
    return dist.sharded(lambda m: torch.rand(m, 1, 1, 1, device=where, generator=generator), n).to(device)


def randint(low: int, high: int, n: int, device: torch.device,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Integers in [low, high) of shape (n, 1, 1) for this rank's ``n`` images, on ``device`` (``generator``: as rand)."""
    where = generator.device if generator is not None else device
    return dist.sharded(lambda m: torch.randint(low, high, (m, 1, 1), device=where, generator=generator), n).to(device)


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): mean (||grad_x D(x)|| - 1)^2 at random interpolates of real and fake."""
    eps = rand(real.shape[0], real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, y)["adv"].sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(D: nn.Module, real: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): mean ||grad_x D(x)||^2 on real images; the trainer weighs it by gamma / 2."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, y)["adv"].sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


@torch.no_grad()
def clip_weights(D: nn.Module, c: float) -> None:
    """WGAN (Arjovsky et al. 2017): clamp every parameter of the critic to [-c, c] in place, after each of its
    updates, so that it stays in a compact set of K-Lipschitz functions. As the paper's code, all of them: conv and
    linear weights and biases, BatchNorm scales and shifts (under spectral norm, the unnormalised weight)."""
    for p in D.parameters():
        p.clamp_(-c, c)


def lecam(real: torch.Tensor, fake: torch.Tensor, ema_real: torch.Tensor, ema_fake: torch.Tensor) -> torch.Tensor:
    """LeCam (Tseng et al. 2021): mean relu(D(real) - ema_fake)^2 + mean relu(ema_real - D(fake))^2, on raw outputs.

    Zero while D scores real images below the recent mean fake score and fakes above the recent mean real score;
    it pulls D's outputs towards those means when it grows more certain, which bounds how far D can overfit."""
    return torch.relu(real - ema_fake).pow(2).mean() + torch.relu(ema_real - fake).pow(2).mean()


class LeCam:
    """The LeCam term with its moving averages of D's mean outputs on real and fake images (fp32, bias-corrected
    as Adam's moments are, so that the first steps are not pulled towards 0). A call first updates the averages with
    the batch (all ranks' images under torchrun), then returns the term against them; ``averages`` and ``steps`` are
    what a checkpoint must hold."""

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.averages = torch.zeros(2)  # biased moving averages of mean D(real), mean D(fake)
        self.steps = 0

    def __call__(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real, fake = real.float(), fake.float()
        with torch.no_grad():
            means = dist.all_reduce_sum(torch.stack([real.mean(), fake.mean()])) / dist.world_size()  # equal shares
            self.averages = self.averages.to(means.device).lerp(means, 1.0 - self.decay)
        self.steps += 1
        ema_real, ema_fake = self.averages / (1.0 - self.decay**self.steps)
        return lecam(real, fake, ema_real, ema_fake)


class PathLength:
    """StyleGAN2's path length regulariser (Karras et al. 2020): for ws = G.mapping_ws(z, y) and images
    G.synthesis(ws), the lengths a_i = || J_i^T r ||_2 with r ~ N(0, 1) / sqrt(H W) (one vector-Jacobian product, summed
    over the layers' ws and averaged over them, as the official code); the penalty is mean (a_i - a)^2, ``a`` the
    moving average of the lengths (``decay`` 0.01). Computed in fp32; ``mean`` is what a checkpoint must hold."""

    def __init__(self, decay: float = 0.01) -> None:
        self.decay, self.mean = decay, torch.zeros(())

    def lengths(self, G: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        ws = G.mapping_ws(z, y)
        if not ws.requires_grad:  # a mapping without parameters (tests): the lengths are still taken at ws
            ws.requires_grad_(True)
        images = G.synthesis(ws).float()
        r = torch.randn_like(images) / (images.shape[2] * images.shape[3]) ** 0.5
        (grad,) = torch.autograd.grad((images * r).sum(), ws, create_graph=True)
        return grad.float().square().sum(2).mean(1).sqrt()

    def __call__(self, G: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        lengths = self.lengths(G, z, y)
        with torch.no_grad():
            self.mean = self.mean.to(lengths.device).lerp(lengths.mean(), self.decay)
        return (lengths - self.mean).square().mean()


def consistency(D: nn.Module, x: torch.Tensor, out: torch.Tensor, augment: nn.Module,
                y: torch.Tensor | None) -> torch.Tensor:
    """Consistency (Zhao et al. 2020, bCR): mean over images of ||D(T(x)) - D(x)||^2, ``out`` being D(x)'s "adv"."""
    gap = D(augment(x), y)["adv"].float() - out.float()
    return gap.reshape(len(x), -1).pow(2).sum(1).mean()


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor,
                     reduction: Literal["sum", "mean"] = "sum") -> torch.Tensor:
    """Salimans et al. 2016: the squared distance between the batch means of D's features on real (detached) and
    generated images, in fp32; ``"sum"`` over the features (the GAN trainer's ``gan.feature_matching`` term) or
    their ``"mean"`` (the semi-supervised GAN's generator loss, independent of D's width)."""
    gap = (real_features.detach().float().mean(0) - fake_features.float().mean(0)).pow(2)
    return gap.sum() if reduction == "sum" else gap.mean()


class EMA:
    """Exponential moving average of the generator's weights (buffers such as BatchNorm statistics are copied).

    For the first ``start`` updates the copy just follows the model (BigGAN starts averaging late); ``updates``
    counts them, and the trainer sets it from its step count when it resumes.
    """

    def __init__(self, model: nn.Module, decay: float, start: int = 0) -> None:
        self.decay, self.start, self.updates = decay, start, 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 - self.decay if self.updates >= self.start else 1.0
        self.updates += 1
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p, weight)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)


class AugmentedD(nn.Module):
    """The discriminator ``net`` behind the augmentation ``pipe``: forward(x, y) = net(pipe(x), y).

    Every D call of the trainer goes through it (losses, penalties, bCR), so none can forget the pipe, and the
    penalties' input gradients are taken at the unaugmented image through the pipe, as ADA does for R1.
    Checkpoints hold ``net``'s weights, under their own names."""

    def __init__(self, net: nn.Module, pipe: nn.Module) -> None:
        super().__init__()
        self.net, self.pipe = net, pipe

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self.net(self.pipe(x), y)


class DiffAugment(nn.Module):
    """Differentiable augmentation (Zhao et al. 2020) for data-efficient GANs, applied to real and fake alike.

    ``policy`` names any of "color" (brightness, saturation, contrast), "translation" (shift by up to
    1/8 of the size, zero fill) and "cutout" (a zeroed square of half the size). Images are in [-1, 1].
    Random draws come from ``generator``, which the trainer owns, seeds and checkpoints (a CPU generator gives
    the same augmentations on every device).
    """

    OPS = ("color", "translation", "cutout")

    def __init__(self, policy: list[str], generator: torch.Generator) -> None:
        super().__init__()
        unknown = [p for p in policy if p not in self.OPS]
        if unknown:
            raise ValueError(f"unknown DiffAugment op(s) {unknown}; valid: {', '.join(self.OPS)}")
        self.policy, self.generator = list(policy), generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.policy:
            x = getattr(self, op)(x)
        return x

    def color(self, x: torch.Tensor) -> torch.Tensor:
        n, g = x.shape[0], self.generator
        x = x + (rand(n, x.device, g) - 0.5)  # brightness
        if x.shape[1] == 3:  # saturation
            mean = x.mean(dim=1, keepdim=True)
            x = (x - mean) * (rand(n, x.device, g) * 2) + mean
        mean = x.mean(dim=(1, 2, 3), keepdim=True)  # contrast
        return (x - mean) * (rand(n, x.device, g) + 0.5) + mean

    def translation(self, x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
        n, _, h, w = x.shape
        sh, sw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
        dy = randint(-sh, sh + 1, n, x.device, self.generator)
        dx = randint(-sw, sw + 1, n, x.device, self.generator)
        rows = torch.arange(h, device=x.device).view(1, h, 1) - dy  # source row of each output row
        cols = torch.arange(w, device=x.device).view(1, 1, w) - dx
        valid = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1)
        idx = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).flatten(1)  # (n, h*w)
        out = x.flatten(2).gather(2, idx.unsqueeze(1).expand(-1, x.shape[1], -1)).view_as(x)
        return out * valid

    def cutout(self, x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
        n, _, h, w = x.shape
        ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
        top = randint(0, h - ch + 1, n, x.device, self.generator)  # the square lies inside the image
        left = randint(0, w - cw + 1, n, x.device, self.generator)
        rows = torch.arange(h, device=x.device).view(1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w)
        inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
        return x * (~inside).unsqueeze(1).to(x.dtype)
