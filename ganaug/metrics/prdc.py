"""Precision, recall, density and coverage of generated samples (Naeem et al. 2020), from k-NN balls.

Each real feature vector gets a ball whose radius is the distance to its k-th nearest other real
vector (generated vectors likewise). Precision: share of generated samples inside some real ball
(fidelity). Recall: share of real samples inside some generated ball (diversity). Density: average
number of real balls containing a generated sample, divided by k (about 1 when the generated
distribution matches the real one, above 1 when samples crowd in dense real regions). Coverage:
share of real balls holding at least one generated sample (robust to outliers, unlike recall).
Ball membership is a strict "<", as in the authors' ``prdc`` package.
"""

from __future__ import annotations

import numpy as np
import torch

from ganaug.metrics.neighbours import DEFAULT_BUDGET, as_rows, kth_neighbour_distance, row_chunks


def prdc(
    real: np.ndarray | torch.Tensor,
    generated: np.ndarray | torch.Tensor,
    features: str,
    k: int = 5,
    budget: int = DEFAULT_BUDGET,
) -> dict:
    """Precision, recall, density and coverage of ``generated`` against ``real`` features (N, D).

    ``k`` is the neighbourhood size (the paper's default, 5). Distances are Euclidean in float64,
    computed in chunks of at most ``budget`` entries. ``features`` names the feature space.
    """
    x, y = as_rows(real), as_rows(generated)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"dimension mismatch: real {x.shape[1]}, generated {y.shape[1]}")
    r_real = kth_neighbour_distance(x, k, budget)
    r_gen = kth_neighbour_distance(y, k, budget)
    in_real_ball = torch.zeros(len(y), dtype=torch.int64)  # per generated sample: how many real balls hold it
    recalled = torch.zeros(len(x), dtype=torch.bool)  # per real sample: inside some generated ball
    nearest_gen = torch.full((len(x),), float("inf"), dtype=torch.float64)
    for s in row_chunks(len(y), len(x), budget):
        d = torch.cdist(y[s], x)  # (chunk of generated, real)
        in_real_ball[s] = (d < r_real[None]).sum(1)
        recalled |= (d < r_gen[s, None]).any(0)
        nearest_gen = torch.minimum(nearest_gen, d.min(0).values)
    return {
        "precision": float((in_real_ball > 0).double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(in_real_ball.double().mean() / k),
        "coverage": float((nearest_gen < r_real).double().mean()),
        "k": k,
        "features": features,
        "n_real": len(x),
        "n_generated": len(y),
    }
