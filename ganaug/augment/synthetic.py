"""A generator's candidate pool, post-processed, and the synthetic sets drawn from it.

One pool per generator holds enough candidates per class for the largest set asked for; each set (one per
GAN ratio) takes its images from the pool with :func:`ganaug.augment.postprocess.select`, so a smaller
ratio's images are the first candidates of a larger ratio's (common random numbers across arms). Images a
user supplies (any model's) make a pool too (:func:`image_pool`), post-processed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ganaug.augment import postprocess as P
from ganaug.config import PostprocessConfig
from ganaug.data import splits as S
from ganaug.data.dataset import ImageDataset, to_uint8
from ganaug.gan.sampling import generate

ROUND_SEED = 7919  # seed offset between sampling rounds


@dataclass
class Pool:
    """Candidates in the order drawn (post-processed), their labels and quality scores, and how they were made."""

    images: torch.Tensor
    labels: torch.Tensor
    scores: torch.Tensor | None
    class_names: list[str]
    info: dict = field(default_factory=dict)

    def take(self, counts: list[int], drop_fraction: float) -> ImageDataset:
        idx = P.select(self.labels, counts, drop_fraction, self.scores)
        return ImageDataset(self.images[idx], self.labels[idx], list(self.class_names),
                            torch.full((len(idx),), -1, dtype=torch.int64))


def build_pool(
    G: nn.Module,
    z_dim: int,
    counts: list[int],
    real: ImageDataset,
    pp: PostprocessConfig,
    seed: int,
    device: torch.device,
    judge: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> Pool:
    """Draw candidates until each class c has ``ceil(counts[c] / (1 - drop_fraction))`` of them (or
    ``pp.max_rounds`` rounds have run), then colour-match and score them.

    A conditional generator is asked for each class; an unconditional one's images are labelled by ``judge``
    (the teacher) and kept up to each class's quota. ``real`` is the data the generator was trained on: the
    colour reference and, with ``pp.dedup_threshold``, the images candidates must not copy.
    """
    K = real.num_classes
    conditional = int(getattr(G, "num_classes", 0) or 0) > 0
    if not conditional and judge is None:
        raise ValueError("an unconditional generator needs a teacher classifier to label its images")
    quotas = [P.candidates_needed(n, pp.drop_fraction) if n else 0 for n in counts]
    images = real.images[:0]
    labels = torch.empty(0, dtype=torch.int64)
    drawn = rounds = 0
    while rounds < pp.max_rounds:
        have = torch.bincount(labels, minlength=K).tolist()
        need = [max(0, q - h) for q, h in zip(quotas, have)]
        if not sum(need):
            break
        rounds += 1
        asked = need if conditional else [K * max(need)]
        x, y = generate(G, asked, z_dim, seed + ROUND_SEED * rounds, device)
        x = to_uint8(x)
        drawn += len(x)
        if not conditional:
            y = P.teacher_labels(judge, x, device)
        keep = torch.ones(len(x), dtype=torch.bool)
        if pp.dedup_threshold is not None:
            keep = P.near_duplicate_free(x, y, pp.dedup_threshold, images, labels, real.images)
        for c in range(K):  # at most the class's remaining need, first drawn first
            members = torch.nonzero(keep & (y == c)).flatten()
            keep[members[need[c]:]] = False
        images, labels = torch.cat([images, x[keep]]), torch.cat([labels, y[keep]])
    labelled_by = "the class asked for" if conditional else "the teacher (judge) classifier's prediction"
    return _finish(images, labels, real, pp, quotas, device, judge, discriminator,
                   discriminator_conditional=conditional,
                   info={"conditional": conditional, "labelled_by": labelled_by, "candidates_drawn": drawn,
                         "rounds": rounds})


def image_pool(supplied: ImageDataset, counts: list[int], real: ImageDataset, pp: PostprocessConfig, seed: int,
               device: torch.device, judge: nn.Module | None = None, labelled_by: str = "the supplied labels") -> Pool:
    """A pool from images a user supplies (labelled by their class folder or .npz labels): a seeded order within
    each class (the file order carries no meaning), at most each class's quota, then post-processed as
    :func:`build_pool`'s candidates are (no discriminator: the set came without one)."""
    quotas = [P.candidates_needed(n, pp.drop_fraction) if n else 0 for n in counts]
    shuffled = S.take_per_class(supplied, [min(q, n) for q, n in zip(quotas, supplied.class_counts())], seed)[0]
    images, labels = shuffled.images, shuffled.labels
    if pp.dedup_threshold is not None:
        keep = P.near_duplicate_free(images, labels, pp.dedup_threshold, images[:0], labels[:0], real.images)
        images, labels = images[keep], labels[keep]
    return _finish(images, labels, real, pp, quotas, device, judge, None, discriminator_conditional=True,
                   info={"conditional": True, "labelled_by": labelled_by, "candidates_drawn": len(supplied),
                         "rounds": 0, "supplied": True})


def _finish(images: torch.Tensor, labels: torch.Tensor, real: ImageDataset, pp: PostprocessConfig, quotas: list[int],
            device: torch.device, judge: nn.Module | None, discriminator: nn.Module | None,
            discriminator_conditional: bool, info: dict) -> Pool:
    """Colour-match and score the candidates; the pool with what was asked for and what it got."""
    have = torch.bincount(labels, minlength=real.num_classes).tolist()
    if pp.colour_match:
        images = P.colour_match(images, labels, real)
    scores = None
    if pp.filter_by == "classifier":
        if judge is None:
            raise ValueError("postprocess.filter_by 'classifier' needs the judge classifier")
        scores = P.classifier_scores(judge, images, labels, device)
    elif pp.filter_by == "discriminator":
        if discriminator is None:
            raise ValueError("postprocess.filter_by 'discriminator' needs the GAN's discriminator")
        scores = P.discriminator_scores(discriminator, images, labels if discriminator_conditional else None, device)
    info = {
        **info,
        "candidates_per_class": have,
        "quota_per_class": quotas,
        "shortfall_per_class": [max(0, q - h) for q, h in zip(quotas, have)],
        "colour_matched": pp.colour_match,
        "filtered_by": pp.filter_by,
        "drop_fraction": pp.drop_fraction,
        "dedup_threshold": pp.dedup_threshold,
    }
    return Pool(images, labels, scores, list(real.class_names), info)
