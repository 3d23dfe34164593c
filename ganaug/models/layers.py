"""Layer factories and small layers shared by the GAN architectures.

The factories (``conv2d``, ``conv_transpose2d``, ``linear``, ``embedding``) take ``spectral_norm`` so a
model passes its flag through instead of branching on it (the StudioGAN way). Spectral normalisation
(Miyato et al. 2018) is ``torch.nn.utils.parametrizations.spectral_norm``: one power iteration per
forward pass in training mode, the stored estimate in eval mode.

``Conv2d`` and ``ConvTranspose2d`` are torch's layers with one guard: a strided convolution over a 1-pixel
map runs in fp32 under autocast. On Intel Xeon CPUs with AMX-BF16 (torch 2.13, oneDNN), the bf16 weight
gradient of exactly that case is garbage, often NaN or ~1e11 times too large (AMD EPYC computes it right);
the map is 1x1, so fp32 costs nothing. ``tests/models/test_layers.py`` checks it against fp32.

Also here: the normalisation factory ``norm2d`` (BatchNorm or virtual batch normalisation), the
``VirtualBatchNorm2d`` layer, the ``MinibatchStd`` layer and the ``MinibatchDiscrimination`` layer, with
``batch_features``, which appends the two batch-dependent maps a discriminator option asks for.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

NORMS = ("batch", "virtual-batch")


def _one_pixel_strided(x: torch.Tensor, stride: tuple[int, ...]) -> bool:
    """A strided convolution over a map that is 1 px along a strided axis, under autocast (see the module doc)."""
    return torch.is_autocast_enabled(x.device.type) and any(
        s > 1 and n == 1 for s, n in zip(stride, x.shape[-2:]))


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes a strided convolution of a 1-pixel map in fp32 (see the module doc)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _one_pixel_strided(x, self.stride):
            with torch.autocast(x.device.type, enabled=False):
                return super().forward(x.float())
        return super().forward(x)


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that computes a strided convolution of a 1-pixel map in fp32 (see the module doc)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if _one_pixel_strided(x, self.stride):
            with torch.autocast(x.device.type, enabled=False):
                return super().forward(x.float(), output_size)
        return super().forward(x, output_size)


def _maybe_sn(module: nn.Module, spectral_norm: bool) -> nn.Module:
    return _spectral_norm(module) if spectral_norm else module


def conv2d(c_in: int, c_out: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = True,
           spectral_norm: bool = False) -> nn.Module:
    return _maybe_sn(Conv2d(c_in, c_out, kernel_size, stride, padding, bias=bias), spectral_norm)


def conv_transpose2d(c_in: int, c_out: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = True,
                     spectral_norm: bool = False) -> nn.Module:
    return _maybe_sn(ConvTranspose2d(c_in, c_out, kernel_size, stride, padding, bias=bias), spectral_norm)


def linear(f_in: int, f_out: int, bias: bool = True, spectral_norm: bool = False) -> nn.Module:
    return _maybe_sn(nn.Linear(f_in, f_out, bias=bias), spectral_norm)


def embedding(num_embeddings: int, dim: int, spectral_norm: bool = False) -> nn.Module:
    return _maybe_sn(nn.Embedding(num_embeddings, dim), spectral_norm)


def trainable_weight(module: nn.Module) -> torch.Tensor:
    """The weight parameter an initialiser should write to (the unnormalised one under spectral norm)."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


def has_spectral_norm(module: nn.Module) -> bool:
    return parametrize.is_parametrized(module, "weight") and any(
        type(p).__name__ == "_SpectralNorm" for p in module.parametrizations.weight)


@torch.no_grad()
def settle_spectral_norm(model: nn.Module, iterations: int = 15) -> None:
    """Run power iterations on every spectrally normalised weight, e.g. after re-initialising it.

    Each access of ``module.weight`` in training mode runs one power iteration in place.
    """
    for m in model.modules():
        if has_spectral_norm(m) and m.training:
            for _ in range(iterations):
                m.weight  # noqa: B018  (the access is the power iteration)


def check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}, got {norm!r}")


def norm2d(norm: str, channels: int, reference_size: int = 0) -> nn.Module:
    """BatchNorm2d (``"batch"``) or VirtualBatchNorm2d (``"virtual-batch"``).

    For virtual batch norm the first ``reference_size`` rows of every input are the reference batch.
    """
    check_norm(norm)
    return nn.BatchNorm2d(channels) if norm == "batch" else VirtualBatchNorm2d(channels, reference_size)


class VirtualBatchNorm2d(nn.Module):
    """Virtual batch normalisation (Salimans et al. 2016, "Improved techniques for training GANs", sec. 3.4).

    The input holds a fixed reference batch in its first ``reference_size`` rows, followed by the
    examples. The reference rows are normalised with the reference batch's per-channel statistics;
    each example ``x`` with the statistics of the reference batch *plus x itself*, as the paper and
    its code (improved-gan ``VBN``) do: ``mean = mean_x / (R+1) + mean_ref * R / (R+1)``, the same for
    the mean square, ``var = mean_sq - mean**2``. So an example's output never depends on the other
    examples of its batch, in training and eval mode alike (there are no running statistics).
    A learned per-channel scale and shift follow, as in BatchNorm.
    """

    def __init__(self, channels: int, reference_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        if reference_size < 1:
            raise ValueError(f"virtual batch norm needs a reference batch of >= 1 example, got {reference_size}")
        self.reference_size, self.eps = reference_size, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.reference_size
        if x.shape[0] < r:
            raise ValueError(f"VirtualBatchNorm2d expects the {r} reference rows first, got a batch of {x.shape[0]}")
        # Statistics in fp32: under bf16, mean_sq - mean**2 cancels to noise when |mean| >> std.
        dtype, x = x.dtype, x.float()
        ref, ex = x[:r], x[r:]
        ref_mean = ref.mean(dim=(0, 2, 3), keepdim=True)
        ref_sq = ref.square().mean(dim=(0, 2, 3), keepdim=True)
        new = 1.0 / (r + 1.0)
        mean = new * ex.mean(dim=(2, 3), keepdim=True) + (1.0 - new) * ref_mean
        sq = new * ex.square().mean(dim=(2, 3), keepdim=True) + (1.0 - new) * ref_sq
        out = torch.cat([self._normalize(ref, ref_mean, ref_sq), self._normalize(ex, mean, sq)])
        return (out * self.weight[None, :, None, None] + self.bias[None, :, None, None]).to(dtype)

    def _normalize(self, x: torch.Tensor, mean: torch.Tensor, mean_sq: torch.Tensor) -> torch.Tensor:
        var = (mean_sq - mean.square()).clamp_min(0.0)
        return (x - mean) * torch.rsqrt(var + self.eps)

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, reference_size={self.reference_size}"


class MinibatchStd(nn.Module):
    """StyleGAN's minibatch standard deviation layer (Karras et al. 2018, ProGAN sec. 3; StyleGAN2-ADA code).

    Splits the batch into groups of ``group_size`` (sample i joins group ``i mod (N / group_size)``),
    takes the standard deviation of every feature over each group, averages it over channels and
    positions (per slice of ``channels // num_channels`` channels) and appends the result as
    ``num_channels`` constant feature maps. A batch not divisible by ``group_size`` uses the largest
    divisor of the batch size below it (a batch of one gives zero maps).
    """

    def __init__(self, group_size: int = 4, num_channels: int = 1) -> None:
        super().__init__()
        if group_size < 1 or num_channels < 1:
            raise ValueError(f"minibatch std needs group_size >= 1 and num_channels >= 1, "
                             f"got {group_size} and {num_channels}")
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:
            g -= 1
        f = self.num_channels
        if c % f:
            raise ValueError(f"minibatch std: {c} channels do not split into {f} groups")
        y = x.float().reshape(g, -1, f, c // f, h, w)  # the statistics in fp32, whatever x's dtype
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # (N/g, F, c/F, h, w)
        y = y.mean(dim=(2, 3, 4)).reshape(-1, f, 1, 1).repeat(g, 1, h, w).to(x.dtype)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


def batch_features(h: torch.Tensor, mbstd: nn.Module | None, mbd: nn.Module | None) -> torch.Tensor:
    """``h`` (N, C, H, W) with the maps of a discriminator's batch-dependent options appended: the minibatch
    standard deviation (1 map) and minibatch discrimination's o (one constant map per kernel, from the features
    averaged over positions), so that the layer after them reads both, as the paper's next layer does."""
    out = h if mbstd is None else mbstd(h)
    if mbd is not None:
        o = mbd(h.mean(dim=(2, 3)))
        out = torch.cat([out, o[:, :, None, None].expand(-1, -1, *h.shape[2:])], dim=1)
    return out


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", sec. 3.2).

    Unlike ``MinibatchStd`` (one statistic of the batch's spread), each sample gets its own measure of how close
    the other samples are to it, so D can see a batch of near-identical fakes: the features f(x_i) (A,) are
    multiplied by a learned tensor T (A x B x C) into M_i (B x C); c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1) and
    o(x_i)_b = sum over j != i of c_b(x_i, x_j), B numbers per sample (as the paper's code, improved-gan's
    ``MinibatchLayer``, the sample itself is left out: a batch of one gives zeros). Computed in fp32.
    It costs N^2 * B * C: at the paper code's B=100, C=5 and a batch of 64, a width-128 ``cdcgan`` D on 8x8 digits
    took 29-40 ms per forward and backward on one busy CPU thread, against 2.5-4.4 ms without it (two runs each):
    on small discriminators it dominates the step; ``mbd_kernels`` lowers it.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        if num_kernels < 1 or kernel_dim < 1:
            raise ValueError(f"minibatch discrimination needs mbd_kernels >= 1 and mbd_kernel_dim >= 1, got "
                             f"{num_kernels} and {kernel_dim}")
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.05)  # the paper code's scale

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """``f`` (N, A) -> o (N, num_kernels), in ``f``'s dtype."""
        m = (f.float() @ self.T.float()).view(-1, self.num_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        dist = (m.unsqueeze(2) - m.unsqueeze(1)).abs().sum(-1)  # (B, N, N): L1 distance of every pair, per kernel;
        # explicit, not torch.cdist, whose backward has no derivative (gradient penalties and R1 need one)
        o = torch.exp(-dist).sum(2) - 1.0  # exp(0) = 1 is the sample itself
        return o.t().to(f.dtype)

    def extra_repr(self) -> str:
        return f"{self.T.shape[0]}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"
