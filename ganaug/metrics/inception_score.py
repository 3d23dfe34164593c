"""Inception Score: how confidently and how diversely a classifier labels generated images.

IS = exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016), computed on ``splits`` equal chunks of the
images (p(y) is each chunk's mean prediction); the mean and std over chunks are reported. It ranges
from 1 (every image gets the same prediction) to K (confident predictions spread evenly over K
classes). With the FID Inception's unbiased logits this is the standard IS; with a ganaug
classifier's logits it is a dataset-specific score and must be reported with its ``features`` name.
It looks only at generated images, never at real ones.
"""

from __future__ import annotations

import numpy as np
import torch


def inception_score(
    probabilities: np.ndarray | torch.Tensor,
    features: str,
    splits: int = 10,
    shuffle_seed: int | None = None,
) -> dict:
    """IS from class probabilities (N, K) (rows sum to 1; use ``logits.softmax(1)``).

    Chunk i holds rows [i N / splits, (i + 1) N / splits). ``shuffle_seed`` permutes the rows first
    with ``np.random.RandomState(seed)`` as torch-fidelity does (its default seed is 2020); None
    keeps their order, as the original implementation does.
    """
    p = torch.as_tensor(np.asarray(probabilities) if not isinstance(probabilities, torch.Tensor) else probabilities)
    p = p.detach().cpu().to(torch.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"probabilities must be (N >= splits={splits}, K), got shape {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(1), torch.ones(len(p), dtype=p.dtype), atol=1e-4):
        raise ValueError("probabilities must be non-negative rows summing to 1 (did you pass logits?)")
    if shuffle_seed is not None:
        p = p[torch.from_numpy(np.random.RandomState(shuffle_seed).permutation(len(p)))]
    n = len(p)
    scores = []
    for i in range(splits):
        chunk = p[i * n // splits : (i + 1) * n // splits]
        marginal = chunk.mean(0, keepdim=True)
        kl = torch.special.xlogy(chunk, chunk) - torch.special.xlogy(chunk, marginal)  # 0 log 0 = 0
        scores.append(float(kl.sum(1).mean().exp()))
    return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores)), "splits": splits, "features": features, "n": n}
