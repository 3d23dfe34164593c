"""Post-processing of generated images (Gao, section 3.4.1): colour matching, quality scores and filtering,
near-duplicate removal, and labels from a teacher classifier for an unconditional generator (the DCGAN study's DCGAN).

Images are uint8 (N, C, H, W) as everywhere in ganaug; distances are rms per pixel in [0, 1] units, as in
the leak audit.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from torch import nn

from ganaug.classifier.trainer import predict_logits
from ganaug.data.dataset import ImageDataset, to_float
from ganaug.metrics.neighbours import as_rows, nearest_neighbours


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (float64, pixel units) of uint8 images."""
    x = images.double().transpose(0, 1).flatten(1)
    return x.mean(1), x.std(1, unbiased=False)


def colour_match(images: torch.Tensor, labels: torch.Tensor, real: ImageDataset) -> torch.Tensor:
    """Per class and channel, shift and scale the synthetic images so their mean and std equal the real class's."""
    out = images.clone()
    for c in labels.unique().tolist():
        mask, real_c = labels == c, real.images[real.labels == c]
        if not len(real_c):
            continue
        mu_s, sd_s = channel_stats(images[mask])
        mu_r, sd_r = channel_stats(real_c)
        scale = torch.where(sd_s > 0, sd_r / sd_s.clamp(min=1e-12), torch.ones_like(sd_s)).view(1, -1, 1, 1)
        matched = (images[mask].double() - mu_s.view(1, -1, 1, 1)) * scale + mu_r.view(1, -1, 1, 1)
        out[mask] = matched.round().clamp(0, 255).to(torch.uint8)
    return out


@torch.no_grad()
def classifier_scores(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The classifier's probability of each image's label (higher: more typical of its class)."""
    probs = predict_logits(model, images, device).softmax(1)
    return probs[torch.arange(len(labels)), labels]


@torch.no_grad()
def discriminator_scores(
    D: nn.Module, images: torch.Tensor, labels: torch.Tensor | None, device: torch.device, batch_size: int = 256
) -> torch.Tensor:
    """The discriminator's real/fake logit of each image (conditioned on its label when D is conditional)."""
    D.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size]).to(device)
        y = labels[start : start + batch_size].to(device) if labels is not None else None
        out.append(D(x, y)["adv"].float().flatten().cpu())
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def teacher_labels(teacher: nn.Module, images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Labels for an unconditional generator's images: the teacher classifier's predictions."""
    return predict_logits(teacher, images, device).argmax(1) if len(images) else torch.empty(0, dtype=torch.int64)


def near_duplicate_free(
    candidates: torch.Tensor,
    labels: torch.Tensor,
    threshold: float,
    kept: torch.Tensor | None = None,
    kept_labels: torch.Tensor | None = None,
    real: torch.Tensor | None = None,
) -> torch.Tensor:
    """Boolean mask of the candidates to keep, greedily in order: a candidate is dropped when it lies within
    ``threshold`` of an earlier kept candidate of its class, of a ``kept`` image of its class, or of any
    ``real`` image (a copy of a training image)."""
    keep = torch.ones(len(candidates), dtype=torch.bool)
    if not len(candidates):
        return keep
    x = as_rows(candidates, torch.float32)
    scale = math.sqrt(x.shape[1])
    if real is not None and len(real):
        dist, _ = nearest_neighbours(x, as_rows(real, torch.float32))
        keep &= (dist / scale > threshold)
    for c in labels.unique().tolist():
        members = torch.nonzero(labels == c).flatten()
        xc = x[members]
        if kept is not None and kept_labels is not None and bool((kept_labels == c).any()):
            dist, _ = nearest_neighbours(xc, as_rows(kept[kept_labels == c], torch.float32))
            keep[members] &= (dist / scale > threshold)
        within = torch.cdist(xc, xc) / scale <= threshold
        taken = torch.zeros(len(members), dtype=torch.bool)
        for i in range(len(members)):
            if keep[members[i]] and not bool((within[i] & taken).any()):
                taken[i] = True
        keep[members] = taken
    return keep


def candidates_needed(n: int, drop_fraction: float) -> int:
    """Candidates to draw so that keeping ``n`` drops the share ``drop_fraction``: ceil(n / (1 - f)), exactly."""
    f = Fraction(str(drop_fraction))
    return math.ceil(n / (1 - f))


def select(labels: torch.Tensor, counts: list[int], drop_fraction: float, scores: torch.Tensor | None) -> torch.Tensor:
    """Indices into a candidate pool (in the order drawn) giving ``counts[c]`` images of each class c: the first
    ``ceil(n / (1 - f))`` candidates of the class, of which the ``n`` best-scored are kept (ties: the earlier).

    A class with too few candidates gives what it has. The result is sorted (pool order).
    """
    chosen = []
    for c, n in enumerate(counts):
        members = torch.nonzero(labels == c).flatten()[: candidates_needed(n, drop_fraction)] if n else labels[:0]
        if scores is not None and len(members) > n:
            order = torch.sort(scores[members], descending=True, stable=True).indices
            members = members[order[:n]]
        chosen.append(members[:n])
    return torch.cat(chosen).sort().values if chosen else labels[:0]
