"""Metrics, one function per quantity, each documenting what it measures and with what features."""

from ganaug.metrics.classification import classification_metrics, paired_difference
from ganaug.metrics.consistency import class_consistency

__all__ = ["class_consistency", "classification_metrics", "paired_difference"]
