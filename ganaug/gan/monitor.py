"""Mode-collapse monitor: within-class diversity of generated images, relative to real images, during training.

A generator that collapses draws (nearly) the same image for every noise vector of a class; its losses need not
show it (Hu, Zeng & Tian's ``triple-gan-attn`` collapsed to one image per class with nothing flagging it). At each
checkpoint epoch the trainer asks ``CollapseMonitor`` for, per class, the mean pairwise distance between the features of
images generated from a fixed noise batch, divided by the same statistic on a fixed subset of the real images of
that class: about 1 when the generator varies as much as the data, 0 when it ignores its noise. Features are the
discriminator's penultimate features (its ``"features"`` output, measured with the same D on both sides, so the
ratio does not drift with D's scale), or the pixels when D has none. Noise and real subset are drawn once from
their own seeded generator, so the monitor takes no draws from training and resumed runs stay bit-for-bit.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaug.runtime import say

ALL = -1  # the one group of an unconditional generator


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean Euclidean distance over the pairs of rows of ``x`` (N, F), N >= 2, in fp32."""
    return torch.pdist(x.flatten(1).float()).mean().item()


class CollapseMonitor:
    """Relative within-class diversity of a generator's samples, from ``per_class`` fixed noise vectors per class
    (``per_class`` times the number of classes, against as many real images, for an unconditional generator)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int, conditional: bool, z_dim: int,
                 per_class: int, seed: int, device: torch.device) -> None:
        """``images``: the real training images as float [-1, 1] (N, C, H, W); ``labels``: their classes."""
        rng = torch.Generator().manual_seed(seed + 7949)  # its own generator: no draw is taken from training's
        self.device = device
        self.warned: frozenset[int] = frozenset()  # the classes of the last warning: said once, not at every check
        self.groups: dict[int, tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]] = {}  # class: z, y, real
        if not conditional:
            n = min(per_class * num_classes, len(labels))
            real = images[torch.randperm(len(labels), generator=rng)[:n]]
            self.groups[ALL] = (torch.randn(n, z_dim, generator=rng), None, real)
            return
        for c in range(num_classes):
            idx = (labels == c).nonzero().flatten()
            n = min(per_class, len(idx))
            if n < 2:  # no pair of real images to compare with
                continue
            real = images[idx[torch.randperm(len(idx), generator=rng)[:n]]]
            self.groups[c] = (torch.randn(n, z_dim, generator=rng), torch.full((n,), c, dtype=torch.int64), real)

    @torch.no_grad()
    def relative_diversity(self, G: nn.Module, D: nn.Module) -> dict[int, float]:
        """Per class (``ALL`` when unconditional): the generated images' mean pairwise feature distance over the real
        images'. G and D (the bare networks, no augmentation) are used in eval mode and left in it (the trainer
        puts them back in training mode at each epoch's start)."""
        G.eval(), D.eval()
        out = {}
        for c, (z, y, real) in self.groups.items():
            y = None if y is None else y.to(self.device)
            fake = G(z.to(self.device), y).float()
            d_fake = mean_pairwise_distance(self.features(D, fake, y))
            d_real = mean_pairwise_distance(self.features(D, real.to(self.device), y))
            out[c] = d_fake / d_real if d_real > 1e-12 else 1.0  # real images all alike: nothing to compare with
        return out

    @staticmethod
    def features(D: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """D's penultimate features of ``x``, or its pixels when D returns none."""
        feats = D(x, y).get("features")
        return (x if feats is None else feats).flatten(1).float()

    def __call__(self, G: nn.Module, D: nn.Module, when: str, threshold: float,
                 class_names: list[str]) -> dict[str, float]:
        """The history's ``diversity`` (mean over classes) and ``diversity_min`` (the least diverse class), and a
        one-line warning on stderr when a class falls below ``threshold`` (``gan.collapse_warning``; 0: never); ``when`` says
        where training is in that line (e.g. "epoch 10", "iteration 500"). The warning is said again only when the set
        of such classes changes, so a generator that starts collapsed does not fill the log with the same line."""
        ratios = self.relative_diversity(G, D)
        if not ratios:
            return {}
        low = {c: r for c, r in sorted(ratios.items(), key=lambda kv: kv[1]) if r < threshold}
        if low and frozenset(low) != self.warned:
            which = ", ".join(f"{'all' if c == ALL else class_names[c]} {r:.2f}" for c, r in low.items())
            say(f"collapse warning: {when}: the generated images are less diverse than the real ones "
                f"(relative diversity {which}; below gan.collapse_warning={threshold:g}); the generator may be "
                "ignoring its noise")
        self.warned = frozenset(low)
        values = list(ratios.values())
        return {"diversity": sum(values) / len(values), "diversity_min": min(values)}
