"""Seconds for the matrix-square-root term of FID at 2048 dimensions: scipy.linalg.sqrtm vs ganaug's route.

pytorch-fid computes tr(sqrtm(S1 S2)) with ``scipy.linalg.sqrtm`` on the non-symmetric product;
ganaug (``ganaug.metrics.fid.trace_sqrt_product``) takes the eigenvalues of the symmetric PSD matrix
R^T S2 R with S1 = R R^T (Cholesky). Also timed: the same with R = S1^{1/2} from a full ``eigh``
(the fallback for singular S1). Covariances come from 4096 random 2048-d samples with correlated
dimensions, like pool3 features. Each route is run at torch's thread count and single-threaded.
The last line is ``ratio: X.XX`` (scipy over ganaug's route, at the default thread count).

Run: ``.venv/bin/python benchmarks/fid_sqrtm.py [--dim 2048] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg
import torch

from ganaug.metrics.fid import trace_sqrt_product


def scipy_trace(s1: np.ndarray, s2: np.ndarray) -> float:
    return float(np.trace(scipy.linalg.sqrtm(s1 @ s2).real))


def eigh_trace(s1: np.ndarray, s2: np.ndarray) -> float:
    a, b = torch.from_numpy(s1), torch.from_numpy(s2)
    w, v = torch.linalg.eigh(a)
    root = (v * w.clamp(min=0).sqrt()) @ v.T
    return float(torch.linalg.eigvalsh(root @ b @ root).clamp(min=0).sqrt().sum())


def best_of(fn, repeats: int) -> tuple[float, float]:
    times, value = [], 0.0
    for _ in range(repeats):
        tic = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - tic)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    d, n = args.dim, 2 * args.dim
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    s1 = np.cov(rng.standard_normal((n, d)) @ mix, rowvar=False)
    s2 = np.cov(rng.standard_normal((n, d)) @ (mix + 0.1 * rng.standard_normal((d, d)) / np.sqrt(d)) + 0.3, rowvar=False)

    threads = torch.get_num_threads()
    print(f"dim {d}, torch {torch.__version__}, {threads} torch threads, best of {args.repeats}")
    t_scipy, v_scipy = best_of(lambda: scipy_trace(s1, s2), args.repeats)
    print(f"scipy.linalg.sqrtm            {t_scipy:8.2f} s   trace {v_scipy:.10f}")
    rows = {}
    for label, fn in (("ganaug cholesky + eigvalsh", lambda: trace_sqrt_product(s1, s2)), ("eigh square root + eigvalsh", lambda: eigh_trace(s1, s2))):
        for n_threads in sorted({threads, 1}, reverse=True):
            torch.set_num_threads(n_threads)
            t, v = best_of(fn, args.repeats)
            rows[(label, n_threads)] = t
            print(f"{label:29s} {t:8.2f} s   trace {v:.10f}   rel. diff {abs(v - v_scipy) / abs(v_scipy):.1e}   ({n_threads} thread(s))")
        torch.set_num_threads(threads)
    print(f"ratio: {t_scipy / rows[('ganaug cholesky + eigvalsh', threads)]:.2f}")


if __name__ == "__main__":
    main()
