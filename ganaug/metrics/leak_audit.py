"""Memorisation and leak audit: generated images too close to training images, and train/test duplicates.

Distances are Euclidean nearest-neighbour distances divided by sqrt(D), i.e. the root-mean-square
difference per dimension: per pixel in [0, 1] units for uint8 images (N, C, H, W), per feature for
features (N, D). A generator that copies its training data puts generated images closer to the
training set than unseen real images are, so each generated image's distance to its nearest training
image is compared with the distribution of test-image-to-nearest-training-image distances: generated
images at or below its ``percentile``-th percentile are flagged. Exact train/test duplicates are found
by hashing, near ones by a distance threshold. Closest pairs are returned (indices and distances) so
that a report can show them side by side.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch

from ganaug.metrics.neighbours import DEFAULT_BUDGET, as_rows, nearest_neighbours

Images = np.ndarray | torch.Tensor


def _pairs(query_idx: np.ndarray, ref_idx: np.ndarray, dist: np.ndarray, names: tuple[str, str]) -> list[dict]:
    return [{names[0]: int(q), names[1]: int(r), "distance": float(d)} for q, r, d in zip(query_idx, ref_idx, dist)]


def _numpy(x: Images) -> np.ndarray:
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def _digest(row: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(row).tobytes()).hexdigest()


def _hash_index(rows: np.ndarray) -> dict[str, list[int]]:
    """Byte digest of each row -> the indices of the rows with those bytes."""
    index: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        index.setdefault(_digest(row), []).append(i)
    return index


def _rms_nn(queries: Images, reference: Images, budget: int) -> tuple[np.ndarray, np.ndarray]:
    q, r = as_rows(queries, torch.float32), as_rows(reference, torch.float32)
    dist, idx = nearest_neighbours(q, r, budget)
    return (dist / math.sqrt(q.shape[1])).numpy(), idx.numpy()


def memorisation_audit(
    generated: Images,
    train: Images,
    test: Images,
    space: str = "pixels",
    percentile: float = 1.0,
    top: int = 16,
    budget: int = DEFAULT_BUDGET,
) -> dict:
    """Flag generated images closer to the training set than the ``percentile``-th percentile of test->train distances.

    ``generated``, ``train``, ``test``: images (N, C, H, W) or features (N, D), all in the same space,
    named by ``space`` (e.g. "pixels" or an extractor's name). Returns the threshold, the share and
    indices of flagged images, the number of exact copies (distance 0), summaries and the full lists
    of generated->train and test->train distances, and the ``top`` closest generated/train pairs.
    """
    gen_d, gen_i = _rms_nn(generated, train, budget)
    test_d, _ = _rms_nn(test, train, budget)
    gen_np, train_np = _numpy(generated), _numpy(train)
    if gen_np.dtype == train_np.dtype and gen_np.shape[1:] == train_np.shape[1:]:  # byte-identical copies are exact 0s
        index = _hash_index(train_np)
        for j, row in enumerate(gen_np):
            if (hit := index.get(_digest(row))) is not None:
                gen_d[j], gen_i[j] = 0.0, hit[0]
    threshold = float(np.percentile(test_d, percentile))
    flagged = np.flatnonzero(gen_d <= threshold)
    order = np.argsort(gen_d, kind="stable")[:top]
    return {
        "space": space,
        "distance": "euclidean / sqrt(dim) (rms per dimension)",
        "percentile": percentile,
        "threshold": threshold,
        "flagged": flagged.tolist(),
        "flagged_share": float(len(flagged) / len(gen_d)),
        "exact_copies": int((gen_d == 0).sum()),
        "generated_median": float(np.median(gen_d)),
        "test_median": float(np.median(test_d)),
        "generated_distances": gen_d.tolist(),
        "test_distances": test_d.tolist(),
        "closest_pairs": _pairs(order, gen_i[order], gen_d[order], ("generated", "train")),
        "n_generated": len(gen_d),
        "n_train": len(train),
        "n_test": len(test_d),
    }


def split_duplicates(
    train: Images,
    test: Images,
    near_threshold: float = 0.02,
    top: int = 16,
    budget: int = DEFAULT_BUDGET,
) -> dict:
    """Exact (byte-identical) and near (rms distance <= ``near_threshold``) duplicates between train and test.

    Exact pairs list every training copy of each duplicated test image; near pairs give each test
    image's nearest training image when it is close but not identical. ``near_threshold`` is in the
    distance units of the module docstring (0.02 is about 5 grey levels per pixel on average).
    Also returns the ``top`` closest test/train pairs whatever their distance.
    """
    tr, te = _numpy(train), _numpy(test)
    if tr.shape[1:] != te.shape[1:] or tr.dtype != te.dtype:
        raise ValueError(f"train and test must share shape and dtype, got {tr.shape}/{tr.dtype} and {te.shape}/{te.dtype}")
    by_hash = _hash_index(tr)
    exact = [{"test": j, "train": i, "distance": 0.0} for j, row in enumerate(te) for i in by_hash.get(_digest(row), [])]
    exact_test = {p["test"] for p in exact}

    dist, idx = _rms_nn(te, tr, budget)
    near_mask = (dist <= near_threshold) & ~np.isin(np.arange(len(te)), list(exact_test))
    near = np.flatnonzero(near_mask)
    near = near[np.argsort(dist[near], kind="stable")]
    order = np.argsort(dist, kind="stable")[:top]
    return {
        "exact_pairs": exact,
        "exact_test_images": len(exact_test),
        "near_pairs": _pairs(near, idx[near], dist[near], ("test", "train")),
        "near_threshold": near_threshold,
        "closest_pairs": _pairs(order, idx[order], dist[order], ("test", "train")),
        "duplicated_test_share": float((len(exact_test) + len(near)) / len(te)),
        "n_train": len(tr),
        "n_test": len(te),
    }
