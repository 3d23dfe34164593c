"""Kernel Inception Distance: unbiased MMD^2 between feature sets with the cubic polynomial kernel.

KID (Bińkowski et al. 2018) is the squared maximum mean discrepancy between real and generated
features under k(x, y) = (x.y / d + 1)^3, estimated without bias on ``subsets`` random pairs of
subsets of ``subset_size`` samples each; the mean and standard deviation over subsets are reported.
Unlike FID it has an unbiased estimator, so small sample sizes do not inflate it (it can be slightly
negative). Subsets are drawn as torch-fidelity draws them (``np.random.RandomState(seed).choice``
without replacement, real then generated, per subset), so with the same seed the numbers match.
"""

from __future__ import annotations

import numpy as np
import torch


def polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 between equal-sized samples x, y (m, d) with k(a, b) = (a.b / d + coef0)^degree."""
    m, d = x.shape
    k_xx = (x @ x.T / d + coef0) ** degree
    k_yy = (y @ y.T / d + coef0) ** degree
    k_xy = (x @ y.T / d + coef0) ** degree
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kid(
    real: np.ndarray | torch.Tensor,
    generated: np.ndarray | torch.Tensor,
    features: str,
    subsets: int = 100,
    subset_size: int | None = 1000,
    seed: int = 2020,
) -> dict:
    """KID mean and std over ``subsets`` subsets of ``subset_size`` (None or larger than a set: the smaller set's size).

    ``features`` names the features (an extractor's ``name``). Defaults are torch-fidelity's
    (100 subsets of 1000, seed 2020). Returns the subset size actually used.
    """
    x = np.asarray(real.detach().cpu() if isinstance(real, torch.Tensor) else real, dtype=np.float64)
    y = np.asarray(generated.detach().cpu() if isinstance(generated, torch.Tensor) else generated, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be (N, D) with the same D, got {x.shape} and {y.shape}")
    m = min(len(x), len(y), subset_size or len(x) + len(y))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(x)} and {len(y)}")
    rng = np.random.RandomState(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        xs = x[rng.choice(len(x), m, replace=False)]
        ys = y[rng.choice(len(y), m, replace=False)]
        values[i] = polynomial_mmd2_unbiased(xs, ys)
    return {
        "kid_mean": float(values.mean()),
        "kid_std": float(values.std()),
        "subsets": subsets,
        "subset_size": m,
        "features": features,
        "n_real": len(x),
        "n_generated": len(y),
    }
