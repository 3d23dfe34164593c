"""Conditional DCGAN (Radford et al. 2015, as specified in the DCGAN study) that adapts to 8-96 px, gray or RGB.

Generator: 4x4-style transposed convs, the first stride 1 / pad 0 from a 1x1 input, then stride 2 /
pad 1, BatchNorm + ReLU on all but the last layer, Tanh at the end. The class label enters as a
learned embedding concatenated to the noise. Discriminator: the mirror image, strided 4x4 convs with
LeakyReLU(0.2), BatchNorm on all but the first, and a projection head (Miyato & Koyama 2018) for the
class. ``num_classes=0`` gives the unconditional DCGAN.

Options (factory kwargs, e.g. from ``gan.generator_kwargs`` / ``gan.discriminator_kwargs``):

- ``spectral_norm`` (G and D, default False): spectral normalisation on every conv, linear and
  embedding. With it on, the discriminator drops its BatchNorm layers, as SNGAN (Miyato et al. 2018)
  does: the Lipschitz control comes from the weights, and BatchNorm would both undo it and make a
  sample's score depend on its batch. The generator keeps BatchNorm (SAGAN uses both in G).
- ``minibatch_std`` (D, default False) and ``mbstd_group_size`` (default 4): StyleGAN's minibatch
  standard deviation feature map appended before the last layer (see ``layers.MinibatchStd``).
- ``minibatch_discrimination`` (D, default False), ``mbd_kernels`` (100) and ``mbd_kernel_dim`` (5): Salimans et
  al. 2016's minibatch discrimination on the last layer's features averaged over positions, its ``mbd_kernels``
  closeness-to-the-batch numbers appended as constant maps before the last layer (``layers.MinibatchDiscrimination``).
- ``norm`` (G, ``"batch"`` or ``"virtual-batch"``) and ``vbn_reference_size`` (default 32): virtual
  batch normalisation (Salimans et al. 2016). The generator keeps a fixed reference noise batch (and
  balanced reference labels) as buffers and runs it in front of every batch in the same forward
  pass; each VBN layer normalises with the reference statistics (see ``layers.VirtualBatchNorm2d``).
  A sample then never depends on the rest of its batch; the cost is ``vbn_reference_size`` extra
  samples per forward pass.

Every discriminator in ganaug returns a small dict: ``adv`` (real/fake logits, shape (B,)),
``features`` (the pooled features of its last hidden layer, (B, F), for feature matching) and, for
auxiliary-classifier discriminators, ``cls`` (class logits, (B, K)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import check_gan_args, conv_plan, layer_widths
from ganaug.models.registry import DISCRIMINATORS, GENERATORS

BlockFactory = Callable[[int], nn.Module]  # channels -> a shape-preserving block (e.g. self-attention)


def _check_blocks(extra: Mapping[int, BlockFactory], available: list[int], role: str) -> None:
    missing = sorted(set(extra) - set(available))
    if missing:
        raise ValueError(f"the {role} has no hidden layer at resolution(s) {missing}; available: {available}")


class DCGANGenerator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, z_dim: int = 100, width: int = 64,
                 embed_dim: int = 50, norm: str = "batch", vbn_reference_size: int = 32, spectral_norm: bool = False,
                 extra_blocks: Mapping[int, BlockFactory] | None = None) -> None:
        """``extra_blocks`` maps a hidden-layer resolution to a block inserted after that layer (SAGAN's attention)."""
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width, z_dim=z_dim, embed_dim=embed_dim)
        L.check_norm(norm)
        self.image_size, self.z_dim, self.num_classes, self.norm = image_size, z_dim, num_classes, norm
        base, n_up, self.work_size = conv_plan(image_size)
        self.embed = L.embedding(num_classes, embed_dim, spectral_norm) if num_classes else None
        ref = 0
        if norm == "virtual-batch":
            if vbn_reference_size < 1:
                raise ValueError(f"vbn_reference_size must be >= 1, got {vbn_reference_size}")
            ref = vbn_reference_size
            self.register_buffer("ref_z", torch.randn(ref, z_dim))  # fixed once, saved with the weights
            self.register_buffer("ref_y", torch.arange(ref) % max(num_classes, 1))  # balanced reference labels
        self.reference_size = ref
        extra = dict(extra_blocks or {})
        _check_blocks(extra, [base * 2**i for i in range(n_up)], "generator")
        in_ch = z_dim + (embed_dim if num_classes else 0)
        widths = layer_widths(width, n_up)  # e.g. 128, 64, 32: widest next to the noise
        layers: list[nn.Module] = []
        for i, w_out in enumerate(widths):
            conv = (L.conv_transpose2d(in_ch, w_out, base, 1, 0, bias=False, spectral_norm=spectral_norm) if i == 0
                    else L.conv_transpose2d(in_ch, w_out, 4, 2, 1, bias=False, spectral_norm=spectral_norm))
            layers += [conv, L.norm2d(norm, w_out, ref), nn.ReLU(True)]
            if base * 2**i in extra:
                layers.append(extra[base * 2**i](w_out))
            in_ch = w_out
        layers += [L.conv_transpose2d(widths[-1], channels, 4, 2, 1, spectral_norm=spectral_norm), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass labels y")
        r = self.reference_size
        if r:  # virtual batch norm: the reference batch runs in front of the examples
            z = torch.cat([self.ref_z.to(z.dtype), z])
            y = torch.cat([self.ref_y, y]) if self.num_classes else None
        h = z if self.embed is None else torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        x = self.net(h[:, :, None, None])[r:]
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bilinear", antialias=True, align_corners=False)
        return x


def dcgan_trunk(image_size: int, channels: int, width: int, spectral_norm: bool = False,
                extra_blocks: Mapping[int, BlockFactory] | None = None) -> tuple[nn.Sequential, list[int], int]:
    """The DCGAN discriminator's strided 4x4 convs: (trunk, widths, base); the trunk ends at base x base.

    BatchNorm on all but the first layer, dropped under spectral norm (see the module docstring).
    """
    base, n_down, work = conv_plan(image_size)
    extra = dict(extra_blocks or {})
    _check_blocks(extra, [work // 2**i for i in range(1, n_down + 1)], "discriminator")
    widths = layer_widths(width, n_down)[::-1]  # e.g. 32, 64, 128: widest next to the output
    layers: list[nn.Module] = []
    c_in = channels
    for i, w_out in enumerate(widths):
        first = i == 0
        norm = not first and not spectral_norm
        layers.append(L.conv2d(c_in, w_out, 4, 2, 1, bias=not norm, spectral_norm=spectral_norm))
        if norm:
            layers.append(nn.BatchNorm2d(w_out))
        layers.append(nn.LeakyReLU(0.2, True))
        if work // 2 ** (i + 1) in extra:
            layers.append(extra[work // 2 ** (i + 1)](w_out))
        c_in = w_out
    return nn.Sequential(*layers), widths, base


class DCGANDiscriminator(nn.Module):
    def __init__(self, image_size: int, channels: int, num_classes: int = 0, width: int = 64,
                 spectral_norm: bool = False, minibatch_std: bool = False, mbstd_group_size: int = 4,
                 minibatch_discrimination: bool = False, mbd_kernels: int = 100, mbd_kernel_dim: int = 5,
                 extra_blocks: Mapping[int, BlockFactory] | None = None) -> None:
        super().__init__()
        check_gan_args(image_size, channels, num_classes, width)
        self.image_size, self.num_classes = image_size, num_classes
        self.work_size = conv_plan(image_size)[2]
        self.features, widths, base = dcgan_trunk(image_size, channels, width, spectral_norm, extra_blocks)
        self.mbstd = L.MinibatchStd(mbstd_group_size) if minibatch_std else None
        self.mbd = (L.MinibatchDiscrimination(widths[-1], mbd_kernels, mbd_kernel_dim) if minibatch_discrimination
                    else None)
        extra = (1 if minibatch_std else 0) + (mbd_kernels if minibatch_discrimination else 0)
        self.out = L.conv2d(widths[-1] + extra, 1, base, spectral_norm=spectral_norm)
        self.embed = L.embedding(num_classes, widths[-1], spectral_norm) if num_classes else None
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"adv": real/fake logits (B,), "features": pooled last-layer features (B, F)}``."""
        if self.work_size != self.image_size:
            x = F.interpolate(x, size=self.work_size, mode="bilinear", align_corners=False)
        h = self.features(x)
        pooled = h.sum(dim=(2, 3))
        logits = self.out(L.batch_features(h, self.mbstd, self.mbd)).flatten()
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            logits = logits + (self.embed(y) * pooled).sum(dim=1)  # projection term
        return {"adv": logits, "features": pooled}


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02) and shift 0.

    Under spectral norm the unnormalised weight is initialised and the power iteration re-settled.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)):
                nn.init.normal_(L.trainable_weight(m), 0.0, 0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, L.VirtualBatchNorm2d)):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
    L.settle_spectral_norm(module)


def _unconditional(num_classes: int) -> None:
    if num_classes:
        raise ValueError("'dcgan' is the unconditional DCGAN of the DCGAN study; "
                         "for a class-conditional one use 'cdcgan' or 'acgan'")


@GENERATORS.register("dcgan")
def dcgan_generator(num_classes: int = 0, **kwargs) -> DCGANGenerator:
    _unconditional(num_classes)
    return DCGANGenerator(num_classes=0, **kwargs)


@DISCRIMINATORS.register("dcgan")
def dcgan_discriminator(num_classes: int = 0, **kwargs) -> DCGANDiscriminator:
    _unconditional(num_classes)
    return DCGANDiscriminator(num_classes=0, **kwargs)


@GENERATORS.register("cdcgan")
def cdcgan_generator(**kwargs) -> DCGANGenerator:
    """Conditional DCGAN generator: the class embedding is concatenated to the noise."""
    return DCGANGenerator(**kwargs)


@DISCRIMINATORS.register("cdcgan")
def cdcgan_discriminator(**kwargs) -> DCGANDiscriminator:
    """Conditional DCGAN discriminator with a projection head for the class."""
    return DCGANDiscriminator(**kwargs)
