"""How many real and synthetic images each class gets: Gao's GAN ratio, "balance", "add N per class". Exact integers.

Gao's GAN ratio r is the share of a target class's training images that are generated (0.2, 0.5, 1.0; 1.0 means
the class is all synthetic). A target class with n real images and the largest class having L images gets

- all n real images and s = round(r * n / (1 - r)) synthetic ones, when that makes the class no larger than
  L: s / (n + s) = r, up to rounding (0.2 adds n / 4, 0.5 adds n);
- otherwise (r near 1, always at r = 1) L images, s = round(r * L) of them synthetic and L - s real (a seeded
  subset of the n): the class grows to the largest class and no further, so r = 1 is an all-synthetic class
  of the largest class's size.

The two cases meet at n / (1 - r) = L, so the counts change monotonically with r. ``round`` is half-up on
exact fractions (a ratio is read as the decimal it is written as: 0.2 is 1/5), so counts never depend on
floating point. Non-target classes keep their n real images and get no synthetic ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

HALF = Fraction(1, 2)


@dataclass(frozen=True)
class MixPlan:
    """Per class: real images kept and synthetic images added."""

    real: tuple[int, ...]
    synthetic: tuple[int, ...]

    def totals(self) -> list[int]:
        return [r + s for r, s in zip(self.real, self.synthetic)]

    def synthetic_share(self, c: int) -> Fraction:
        """The achieved GAN ratio of class c (0 for an empty class)."""
        total = self.real[c] + self.synthetic[c]
        return Fraction(self.synthetic[c], total) if total else Fraction(0)


def exact_ratio(r: float | str | Fraction) -> Fraction:
    """The ratio as an exact fraction of the decimal written (0.2 -> 1/5, not the nearest binary double)."""
    value = r if isinstance(r, Fraction) else Fraction(str(r))
    if not 0 <= value <= 1:
        raise ValueError(f"GAN ratio {r} is outside [0, 1]")
    return value


def round_half_up(x: Fraction) -> int:
    return math.floor(x + HALF)


def ratio_counts(n: int, largest: int, r: float | str | Fraction) -> tuple[int, int]:
    """(real kept, synthetic added) for one target class with ``n`` real images when the largest class has ``largest``."""
    if not 0 <= n <= largest:
        raise ValueError(f"class size {n} must lie in [0, largest class {largest}]")
    r = exact_ratio(r)
    if r < 1 and n <= (1 - r) * largest:  # all real images kept; grows to n / (1 - r) <= largest
        return n, round_half_up(r * n / (1 - r))
    synthetic = round_half_up(r * largest)  # capped at the largest class
    return largest - synthetic, synthetic


def plan_ratio(counts: Sequence[int], targets: Sequence[int], r: float | str | Fraction) -> MixPlan:
    """Gao's GAN ratio ``r`` for the ``targets`` classes (see the module docstring)."""
    largest = max(counts)
    pairs = [ratio_counts(n, largest, r) if c in targets else (n, 0) for c, n in enumerate(counts)]
    return MixPlan(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))


def plan_balance(counts: Sequence[int], targets: Sequence[int]) -> MixPlan:
    """Top every target class up to the largest class with synthetic images."""
    largest = max(counts)
    return MixPlan(tuple(counts), tuple(largest - n if c in targets else 0 for c, n in enumerate(counts)))


def plan_add(counts: Sequence[int], targets: Sequence[int], per_class: int) -> MixPlan:
    """Add ``per_class`` synthetic images to every target class (the DCGAN study adds 50,000 images to CIFAR-10)."""
    if per_class < 0:
        raise ValueError(f"images to add per class must be >= 0, got {per_class}")
    return MixPlan(tuple(counts), tuple(per_class if c in targets else 0 for c in range(len(counts))))
