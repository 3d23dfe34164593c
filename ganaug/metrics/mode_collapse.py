"""Mode-collapse monitors: which classes a generator actually draws, judged by a real-data classifier.

The class of each generated image is what a classifier trained on the real training split predicts
for it. From those predictions and the real labels: the generated and real class histograms; the
modes found (classes receiving at least ``min_share`` of the generated images); coverage (modes found
over the classes present in the real data); the classes missed; and the Kullback-Leibler and
Jensen-Shannon divergences between the real and generated class distributions (the GAN overview uses both).
A collapsed generator shows few modes, low coverage and a large divergence. :func:`intensity_divergence` compares
the pixel-intensity histograms of real and generated images the same way (the overview's other illustration).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy


def _histogram(labels: Sequence[int] | np.ndarray | torch.Tensor, num_classes: int) -> np.ndarray:
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels, dtype=np.int64).ravel()
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}], got [{y.min()}, {y.max()}]")
    return np.bincount(y, minlength=num_classes)


def mode_collapse(
    generated_predictions: Sequence[int] | np.ndarray | torch.Tensor,
    real_labels: Sequence[int] | np.ndarray | torch.Tensor,
    num_classes: int,
    min_share: float | None = None,
) -> dict:
    """Class coverage of generated images and divergences between real and generated class histograms.

    ``generated_predictions``: a real-data classifier's predicted class per generated image.
    ``real_labels``: labels of the real images to compare with (e.g. the training split).
    ``min_share``: the share of generated images a class needs to count as a mode found; None means
    a tenth of a uniform share, 0.1 / num_classes. Returns:

    - ``generated_share`` / ``real_share``: per-class shares (lists of floats);
    - ``modes_found``, ``coverage`` (modes found among classes present in the real data, over their
      number) and ``missing_classes`` (present in the real data, not found);
    - ``kl_real_generated``: KL(real || generated) in nats, ``inf`` when the generator never draws a
      class the real data has; ``kl_generated_real``: KL(generated || real);
    - ``js_divergence``: Jensen-Shannon divergence in bits, in [0, 1] (finite even for missing classes).
    """
    gen = _histogram(generated_predictions, num_classes)
    real = _histogram(real_labels, num_classes)
    if gen.sum() == 0 or real.sum() == 0:
        raise ValueError("need at least one generated prediction and one real label")
    p_gen, p_real = gen / gen.sum(), real / real.sum()
    threshold = 0.1 / num_classes if min_share is None else min_share
    found = p_gen >= threshold
    present = real > 0
    return {
        "generated_share": p_gen.tolist(),
        "real_share": p_real.tolist(),
        "min_share": threshold,
        "modes_found": int(found.sum()),
        "coverage": float((found & present).sum() / present.sum()),
        "missing_classes": np.flatnonzero(present & ~found).tolist(),
        "kl_real_generated": float(entropy(p_real, p_gen)),
        "kl_generated_real": float(entropy(p_gen, p_real)),
        "js_divergence": float(jensenshannon(p_real, p_gen, base=2) ** 2),
        "n_generated": int(gen.sum()),
        "n_real": int(real.sum()),
    }



def intensity_divergence(real: torch.Tensor, generated: torch.Tensor, bins: int = 32) -> dict:
    """KL and Jensen-Shannon divergences between the pixel-intensity histograms of two uint8 image sets.

    Every pixel value of every channel counts, in ``bins`` equal bins over [0, 255]. Returns the two histograms (as
    shares), ``kl_real_generated`` / ``kl_generated_real`` in nats (``inf`` when one set never reaches a bin the
    other does) and ``js_divergence`` in bits, in [0, 1]. Blind to structure: a generator that shuffles real pixels
    scores 0; it catches saturated, washed-out or too-dark samples."""
    if real.dtype != torch.uint8 or generated.dtype != torch.uint8:
        raise ValueError(f"intensity_divergence takes uint8 images, got {real.dtype} and {generated.dtype}")
    edges = np.linspace(0, 256, bins + 1)
    p_real = np.histogram(real.cpu().numpy(), bins=edges)[0].astype(np.float64)
    p_gen = np.histogram(generated.cpu().numpy(), bins=edges)[0].astype(np.float64)
    p_real, p_gen = p_real / p_real.sum(), p_gen / p_gen.sum()
    return {
        "bins": bins,
        "real_share": p_real.tolist(),
        "generated_share": p_gen.tolist(),
        "kl_real_generated": float(entropy(p_real, p_gen)),
        "kl_generated_real": float(entropy(p_gen, p_real)),
        "js_divergence": float(jensenshannon(p_real, p_gen, base=2) ** 2),
    }
