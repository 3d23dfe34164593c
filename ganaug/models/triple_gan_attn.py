"""The three networks of Hu et al.'s semi-supervised GAN (Table 2): an attention encoder-decoder generator, a
discriminator with a classification head, and a classifier with conditional batch normalisation.

Generator: noise and label embedding are projected to a small full-size map; an encoder of four 5x5
stride-2 convolutions (32, 64, 128, 256 channels) maps it to a latent map; a decoder of four 5x5
stride-2 transposed convolutions (128, 64, 32, C) maps it back. Before every decoder layer a
multi-head cross-attention block takes its queries from the decoder features and its keys and values
from the encoder features of the same resolution, and adds its output back (residual). Because each
decoder layer's input has as many channels as the encoder output it mirrors (256, 128, 64, 32), the
pairing is exact. Output sizes follow the encoder's, so any size from 8 px works (28 px: 28-14-7-4-2).

Discriminator: five 5x5 stride-2 convolutions (32 ... 512) and two fully connected layers for real/fake;
a classification head of two fully connected layers shares the convolutional features. Table 2 also
lists 2x2 pooling; with stride-2 convolutions that would shrink 32 px below one pixel after three
layers, so the strided convolutions do the downsampling alone.

Classifier: four 5x5 stride-1 convolutions (32, 64, 128, 256), each followed by conditional batch
normalisation, ReLU and 2x2 max-pooling, then two fully connected layers. See :class:`CBNClassifier`
for what conditions it when the label is unknown.

``width`` is the widest layer for the generator (256 in Table 2) and discriminator (512), as for every
ganaug GAN (``gan.g_width``/``gan.d_width``), and the first layer for the classifier (32), as for every
ganaug classifier.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import layers as L
from ganaug.models.common import conv_plan
from ganaug.models.registry import CLASSIFIERS, DISCRIMINATORS, GENERATORS

ENCODER = (32, 64, 128, 256)
DISCRIMINATOR = (32, 64, 128, 256, 512)
CLASSIFIER = (32, 64, 128, 256)
CBNCondition = Literal["two-pass", "soft", "mean", "none"]


def down_sizes(size: int, n: int) -> list[int]:
    """Spatial sizes after each of ``n`` 5x5 stride-2 pad-2 convolutions: ceil(s / 2) each time."""
    sizes = [size]
    for _ in range(n):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def scaled_to_widest(channels: tuple[int, ...], widest: int) -> list[int]:
    """Table 2's channels scaled so the widest layer has ``widest`` channels (the paper: its last entry)."""
    return [max(4, c * widest // max(channels)) for c in channels]


class CrossAttention2d(nn.Module):
    """Multi-head attention with queries from ``x`` and keys/values from ``context``, added back to ``x``.

    softmax(QK^T / sqrt(d_k)) V over the spatial positions (Hu et al., Eq. 1); the heads are concatenated and
    linearly projected to ``x``'s channels (``nn.MultiheadAttention``). The residual scale ``gamma``
    starts at 0 so the block starts as the identity (as SAGAN's self-attention).
    """

    def __init__(self, channels: int, context_channels: int, heads: int = 4) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads must be >= 1, got {heads}")
        heads = min(heads, channels)
        while channels % heads:
            heads -= 1
        self.attention = nn.MultiheadAttention(channels, heads, kdim=context_channels, vdim=context_channels,
                                               batch_first=True)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = x.flatten(2).transpose(1, 2)  # (B, HW, C)
        kv = context.flatten(2).transpose(1, 2)
        with torch.autocast(x.device.type, enabled=False):  # in bf16 the softmax overflowed to NaN weights
            out, _ = self.attention(q.float(), kv.float(), kv.float(), need_weights=False)
        return x + self.gamma * out.transpose(1, 2).reshape(b, c, h, w).to(x.dtype)


class AttentionEncoderDecoderGenerator(nn.Module):
    """Hu et al.'s generator; ``forward(z, y)`` -> images in [-1, 1]. ``num_classes=0``: unconditional."""

    def __init__(self, image_size: int, channels: int, num_classes: int, z_dim: int = 100, width: int = 256,
                 heads: int = 4, map_channels: int = 4) -> None:
        super().__init__()
        conv_plan(image_size)  # the size range every ganaug GAN accepts
        self.num_classes, self.z_dim, self.image_size = num_classes, z_dim, image_size
        enc = scaled_to_widest(ENCODER, width)
        self.sizes = down_sizes(image_size, len(enc))
        self.embed = nn.Embedding(num_classes, z_dim) if num_classes else None
        self.map_channels = map_channels
        self.project = nn.Sequential(nn.Linear(z_dim * (2 if num_classes else 1), map_channels * image_size**2),
                                     nn.ReLU(True))
        self.encoder = nn.ModuleList()
        c_in = map_channels
        for c in enc:
            self.encoder.append(nn.Sequential(L.Conv2d(c_in, c, 5, 2, 2), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, True)))
            c_in = c
        dec_out = [*enc[-2::-1], channels]  # 128, 64, 32, C
        self.attention = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for i, c in enumerate(dec_out):
            skip = enc[-1 - i]  # the encoder output at this decoder layer's input resolution
            self.attention.append(CrossAttention2d(c_in, skip, heads))
            size_in, size_out = self.sizes[-1 - i], self.sizes[-2 - i]
            up = L.ConvTranspose2d(c_in, c, 5, 2, 2, output_padding=size_out - (2 * size_in - 1))
            last = i == len(dec_out) - 1
            self.decoder.append(up if last else nn.Sequential(up, nn.BatchNorm2d(c), nn.ReLU(True)))
            c_in = c

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if y is None:
                raise ValueError("this generator is class-conditional: pass labels y")
            z = torch.cat([z, self.embed(y)], 1)
        h = self.project(z).view(len(z), self.map_channels, self.image_size, self.image_size)
        skips = []
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        for attend, layer, skip in zip(self.attention, self.decoder, reversed(skips)):
            h = layer(attend(h, skip))
        return torch.tanh(h)


class ClassHeadDiscriminator(nn.Module):
    """Hu et al.'s discriminator: five strided 5x5 convs, then real/fake (2 FC) and class (2 FC) heads on
    shared features.

    Returns ``{"adv": (B,), "cls": (B, K), "features": (B, F)}`` (no ``cls`` when ``num_classes=0``).
    ``spectral_norm`` normalises every layer and drops the BatchNorm layers, as for the other ganaug GANs.
    """

    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 512, hidden: int = 256,
                 dropout: float = 0.3, spectral_norm: bool = False) -> None:
        super().__init__()
        conv_plan(image_size)
        self.num_classes = num_classes
        sn = spectral_norm
        layers: list[nn.Module] = []
        c_in = channels
        for i, c in enumerate(scaled_to_widest(DISCRIMINATOR, width)):
            norm = [nn.BatchNorm2d(c)] if i and not sn else []
            layers += [L.conv2d(c_in, c, 5, 2, 2, spectral_norm=sn), *norm, nn.LeakyReLU(0.2, True)]
            c_in = c
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout))
        flat = c_in * down_sizes(image_size, len(DISCRIMINATOR))[-1] ** 2

        def head(out: int) -> nn.Sequential:
            return nn.Sequential(L.linear(flat, hidden, spectral_norm=sn), nn.LeakyReLU(0.2, True),
                                 L.linear(hidden, out, spectral_norm=sn))

        self.adv = head(1)
        self.cls = head(num_classes) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        f = self.body(x)
        out = {"adv": self.adv(f).squeeze(1), "features": f}
        if self.cls is not None:
            out["cls"] = self.cls(f)
        return out


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift depend on the class: gamma(y), beta(y) (Hu et al., Eq. 2).

    The label goes through an embedding and two linear layers to give (gamma, beta). The condition is a
    distribution over classes ``p`` (B, K): a one-hot row is a label, the uniform row the class average
    of gamma and beta, and a softmax row a soft prediction; gamma = p @ gamma(all classes).
    """

    def __init__(self, channels: int, num_classes: int, embed_dim: int = 32) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.ReLU(True), nn.Linear(embed_dim, 2 * channels))
        nn.init.zeros_(self.mlp[-1].weight)
        with torch.no_grad():  # start as plain BatchNorm: gamma = 1, beta = 0 for every class
            self.mlp[-1].bias.copy_(torch.cat([torch.ones(channels), torch.zeros(channels)]))

    def class_params(self) -> torch.Tensor:
        """(K, 2C): gamma and beta of every class."""
        return self.mlp(self.embed.weight)

    def forward(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        gamma, beta = (p.to(x.dtype) @ self.class_params().to(x.dtype)).chunk(2, dim=1)
        return gamma[:, :, None, None] * self.norm(x) + beta[:, :, None, None]


class CBNClassifier(nn.Module):
    """Hu et al.'s classifier: 4 x (5x5 conv, stride 1 -> CBN -> ReLU -> 2x2 max-pool), FC, FC.

    At test time the label is unknown, so ``condition`` decides what conditions the CBN layers, the same
    way in training and at test (training on true labels would let the network read the label from
    gamma/beta instead of the image, and that shortcut is gone at test time):

    - ``two-pass`` (default): a first pass with the class-averaged gamma/beta predicts a class; the second
      pass is conditioned on that (detached) prediction and gives the logits;
    - ``soft``: as two-pass, conditioned on the first pass's softmax instead of its argmax;
    - ``mean``: one pass with the class-averaged gamma/beta (CBN that never sees a label: the ablation);
    - ``none``: plain BatchNorm, the same CNN without CBN (the semi-CNN and supervised baselines).

    ``forward(x, condition=None)`` accepts an explicit (B, K) class distribution to condition on, for
    callers that have labels and want to study them; the trainers never pass true labels.
    ``features``/``head`` give the penultimate vector and the logits for the feature metrics.
    """

    def __init__(self, image_size: int, channels: int, num_classes: int, width: int = 32, hidden: int = 256,
                 condition: CBNCondition = "two-pass", dropout: float = 0.3, embed_dim: int = 32) -> None:
        super().__init__()
        self.num_classes, self.condition = num_classes, condition
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        self.pools: list[bool] = []
        c_in, size = channels, image_size
        for c in scaled_to_widest(CLASSIFIER, width * 8):  # width: the first layer's channels, as other classifiers
            self.convs.append(nn.Conv2d(c_in, c, 5, 1, 2, bias=False))
            plain = condition == "none"
            self.norms.append(nn.BatchNorm2d(c) if plain else ConditionalBatchNorm2d(c, num_classes, embed_dim))
            self.pools.append(size >= 2)
            c_in, size = c, (size + 1) // 2 if size >= 2 else size
        self.flat = c_in * size * size
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(self.flat, hidden), nn.ReLU(True),
                                nn.Dropout(dropout))
        self.head = nn.Linear(hidden, num_classes)

    def _trunk(self, x: torch.Tensor, p: torch.Tensor | None) -> torch.Tensor:
        for conv, norm, pool in zip(self.convs, self.norms, self.pools):
            x = conv(x)
            x = F.relu(norm(x) if p is None else norm(x, p))
            if pool:
                x = F.max_pool2d(x, 2, ceil_mode=True)
        return self.fc(x)

    def uniform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x), self.num_classes), 1.0 / self.num_classes, device=x.device)

    def passes(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits, first-pass logits or None): both are trained, so the first pass learns to predict well."""
        if self.condition == "none":
            return self.head(self._trunk(x, None)), None
        if condition is not None:
            return self.head(self._trunk(x, condition)), None
        first = self.head(self._trunk(x, self.uniform(x)))
        if self.condition == "mean":
            return first, None
        prob = first.detach().float().softmax(1)
        p = prob if self.condition == "soft" else F.one_hot(prob.argmax(1), self.num_classes).float()
        return self.head(self._trunk(x, p)), first

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None, both_passes: bool = False):
        """The logits; with ``both_passes``, ``passes(x, condition)`` (as a forward, so that DDP sees it)."""
        out = self.passes(x, condition)
        return out if both_passes else out[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate vector under the model's own inference policy."""
        if self.condition == "none":
            return self._trunk(x, None)
        p = self.uniform(x)
        if self.condition != "mean":
            prob = self.head(self._trunk(x, p)).float().softmax(1)
            p = prob if self.condition == "soft" else F.one_hot(prob.argmax(1), self.num_classes).float()
        return self._trunk(x, p)


@GENERATORS.register("triple-gan-attn")
def triple_gan_attn_generator(**kwargs) -> AttentionEncoderDecoderGenerator:
    return AttentionEncoderDecoderGenerator(**kwargs)


@DISCRIMINATORS.register("triple-gan-attn")
def triple_gan_attn_discriminator(**kwargs) -> ClassHeadDiscriminator:
    return ClassHeadDiscriminator(**kwargs)


@CLASSIFIERS.register("cbn-cnn")
def cbn_cnn(**kwargs) -> CBNClassifier:
    return CBNClassifier(**kwargs)
