"""Chunked Euclidean nearest-neighbour search (torch.cdist), bounded in memory, for PRDC and the leak audit."""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_BUDGET = 1 << 24  # distance-matrix entries per chunk (128 MiB in float64)


def as_rows(x: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(N, D) features as they are, or images (N, C, H, W) flattened; uint8 pixels become [0, 1]."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).detach().cpu()
    t = t.to(dtype) / 255 if t.dtype == torch.uint8 else t.to(dtype)
    if t.ndim < 2:
        raise ValueError(f"expected (N, D) features or (N, C, H, W) images, got shape {tuple(t.shape)}")
    return t.flatten(1)


def row_chunks(n_rows: int, n_cols: int, budget: int = DEFAULT_BUDGET):
    """Slices over ``n_rows`` so that a chunk's distance block has at most ``budget`` entries."""
    step = max(1, budget // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def kth_neighbour_distance(x: torch.Tensor, k: int, budget: int = DEFAULT_BUDGET) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest *other* row (the (k+1)-th smallest, counting itself)."""
    if not 1 <= k < len(x):
        raise ValueError(f"k must lie in [1, {len(x) - 1}] for {len(x)} points, got {k}")
    out = torch.empty(len(x), dtype=x.dtype)
    for s in row_chunks(len(x), len(x), budget):
        out[s] = torch.cdist(x[s], x).topk(k + 1, dim=1, largest=False).values[:, k]
    return out


def nearest_neighbours(
    queries: torch.Tensor, reference: torch.Tensor, budget: int = DEFAULT_BUDGET
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query row, the index of its nearest reference row and the exact distance to it.

    The search runs in the given dtype (float32 is fine for pixels); the returned distances are
    recomputed directly in float64, so an exact copy gives exactly 0.
    """
    if queries.shape[1] != reference.shape[1]:
        raise ValueError(f"dimension mismatch: {queries.shape[1]} vs {reference.shape[1]}")
    idx = torch.empty(len(queries), dtype=torch.int64)
    for s in row_chunks(len(queries), len(reference), budget):
        idx[s] = torch.cdist(queries[s], reference).argmin(1)
    dist = (queries.double() - reference[idx].double()).norm(dim=1)
    return dist, idx
