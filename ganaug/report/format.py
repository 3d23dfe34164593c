"""How every report writes a number: percentages, paired intervals and the verdict they support.

One place, so that the demo, augment, SSL, GAN and grid reports say "+1.2 [-0.3, +2.7]" and "cannot tell" alike.
"""

from __future__ import annotations

import math

import numpy as np

from ganaug.metrics.classification import MIN_SEEDS  # no interval below it: with 2 seeds a t-interval is +-12.7 SE

FRACTIONS = {"accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall", "auc", "roc_auc", "cas",
             "cas_real_same_size", "class_consistency", "class_coverage", "precision", "recall", "coverage"}


def is_fraction(metric: str | None) -> bool:
    """Metrics in [0, 1] that the reports print in percent (accuracy, F1, AUC, consistency, shares...); ``None``
    stands for a fraction."""
    if metric is None:
        return True
    base = metric.removeprefix("inception_")
    return base in FRACTIONS or base.endswith(("accuracy", "_share"))


def pct(x: float | None, suffix: str = "", missing: str = "n/a") -> str:
    """A fraction in percent with one decimal (``0.123`` -> ``12.3``), ``missing`` for None."""
    return missing if x is None else f"{100 * x:.1f}{suffix}"


def number(value: float, metric: str | None = None, sign: str = "") -> str:
    """A value in percent (one decimal) for fractions, else to 3 significant digits; ``sign="+"`` shows the sign."""
    return f"{100 * value:{sign}.1f}" if is_fraction(metric) else f"{value:{sign}.3g}"


def fmt(x: float | int | None, digits: int = 4) -> str:
    """A number for a table: ints as they are, floats to ``digits`` significant digits, None as a dash."""
    if x is None:
        return "–"
    if isinstance(x, (bool, np.bool_, int, np.integer)):
        return str(x)
    if not math.isfinite(x):
        return "∞" if x > 0 else ("−∞" if x < 0 else "NaN")
    return f"{x:.{digits}g}"


def mean_std(entry: dict | None, scale: float = 100.0, digits: int = 1) -> str:
    """``12.3 ± 0.4`` from a ``{"mean", "std"}`` summary (percent by default), ``n/a`` for None."""
    if entry is None:
        return "n/a"
    return f"{scale * entry['mean']:.{digits}f} ± {scale * entry['std']:.{digits}f}"


def interval(d: dict, metric: str | None = None) -> str:
    """A paired difference as ``+1.2 [-0.3, +2.7]`` (points for fractions, else the metric's units), or the mean
    and why there is no interval (``+1.2 (n=2, too few seeds)``)."""
    mean = number(d["mean"], metric, "+")
    if d.get("n", MIN_SEEDS) < MIN_SEEDS:
        return f"{mean} (n={d['n']}, too few seeds)"
    if d["low"] is None:
        return f"{mean} ({d.get('note') or 'no interval'})"
    return f"{mean} [{number(d['low'], metric, '+')}, {number(d['high'], metric, '+')}]"


def direction(d: dict) -> str | None:
    """``higher`` / ``lower`` when the 95 % interval excludes 0, ``unclear`` when it includes 0, None when there is
    no interval (too few seeds, or the same difference in every seed)."""
    if d["low"] is None or d.get("n", MIN_SEEDS) < MIN_SEEDS:
        return None
    return "higher" if d["low"] > 0 else "lower" if d["high"] < 0 else "unclear"


def verdict(d: dict) -> str:
    """helped (the interval lies above 0) / did not help (below 0: it hurt) / cannot tell (it includes 0)."""
    way = direction(d)
    if way is None:
        return f"cannot tell ({d.get('note') or 'no interval'})"
    return {"higher": "**helped**", "lower": "**did not help** (it hurt)", "unclear": "cannot tell"}[way]


def quick_banner(quick: bool) -> list[str]:
    """The first lines of a ``--quick`` run's report: it went through every step, too briefly to measure anything."""
    return ["> **A smoke run, not a measurement** (`--quick`): every step ran, far too briefly for its numbers to "
            "mean anything. Run without `--quick` for results.", ""] if quick else []
