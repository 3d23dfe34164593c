"""All feature-based generative metrics at once, from one feature extraction per image set.

:func:`generative_metrics` extracts features (and logits) of real and generated images once with a
:class:`~ganaug.metrics.features.FeatureExtractor` and returns FID, KID, precision/recall/density/
coverage and, when the extractor has logits, the Inception Score, each carrying the extractor's name.
:func:`report_label` turns a metric and a feature name into the label a report should print.
"""

from __future__ import annotations

import torch

from ganaug.metrics.features import FeatureExtractor
from ganaug.metrics.fid import fid
from ganaug.metrics.inception_score import inception_score
from ganaug.metrics.kid import kid
from ganaug.metrics.prdc import prdc

STANDARD_INCEPTION = "inception-v3 pool3 (pt_inception-2015-12-05"  # the start of a verified InceptionV3Features name


def report_label(metric: str, features: str) -> str:
    """The metric name alone for the verified FID Inception features, "<metric> (<features>)" otherwise."""
    return metric if features.startswith(STANDARD_INCEPTION) else f"{metric} ({features})"


def generative_metrics(
    extractor: FeatureExtractor,
    real: torch.Tensor,
    generated: torch.Tensor,
    kid_subsets: int = 100,
    kid_subset_size: int | None = 1000,
    prdc_k: int = 5,
    is_splits: int = 10,
    seed: int = 2020,
) -> dict:
    """FID, KID, PRDC (and IS from the generated images' logits) of ``generated`` against ``real`` images.

    Images are uint8 (N, C, H, W) or float in [-1, 1]. IS is None when the extractor has no logits
    or there are fewer generated images than ``is_splits``.
    """
    r, g = extractor.extract(real), extractor.extract(generated)
    name = extractor.name
    score = None
    if g.logits is not None and len(g.logits) >= is_splits:
        score = inception_score(g.logits.double().softmax(1), name, splits=is_splits, shuffle_seed=seed)
    return {
        "features": name,
        "fid": fid(r.features, g.features, name),
        "kid": kid(r.features, g.features, name, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed),
        "prdc": prdc(r.features, g.features, name, k=prdc_k),
        "inception_score": score,
        "labels": {m: report_label(m, name) for m in ("FID", "KID", "IS", "PRDC")},
    }
