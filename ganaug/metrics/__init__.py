"""Metrics, one function per quantity, each documenting what it measures and with what features.

Generative metrics (FID, KID, IS, PRDC) take precomputed features and a ``features`` name that goes
into every result, so that a number is never reported as an Inception FID unless it used the FID
Inception-v3 (:class:`InceptionV3Features`); with a ganaug classifier's features
(:class:`ClassifierFeatures`) report e.g. "FID (digits small-cnn features)".
"""

from ganaug.metrics.cas import classification_accuracy_score, heldout_metrics
from ganaug.metrics.classification import classification_metrics, paired_difference, resolvable_difference, roc_points
from ganaug.metrics.consistency import class_consistency
from ganaug.metrics.features import (
    ClassifierFeatures,
    Extracted,
    FeatureExtractor,
    InceptionV3Features,
    download_inception_weights,
    inception_weights_to_safetensors,
)
from ganaug.metrics.fid import feature_statistics, fid, frechet_distance
from ganaug.metrics.generative import generative_metrics, report_label
from ganaug.metrics.inception_score import inception_score
from ganaug.metrics.kid import kid
from ganaug.metrics.leak_audit import memorisation_audit, split_duplicates
from ganaug.metrics.mode_collapse import intensity_divergence, mode_collapse
from ganaug.metrics.prdc import prdc

__all__ = [
    "ClassifierFeatures",
    "Extracted",
    "FeatureExtractor",
    "InceptionV3Features",
    "class_consistency",
    "classification_accuracy_score",
    "classification_metrics",
    "download_inception_weights",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "generative_metrics",
    "heldout_metrics",
    "inception_score",
    "inception_weights_to_safetensors",
    "kid",
    "memorisation_audit",
    "mode_collapse",
    "intensity_divergence",
    "paired_difference",
    "resolvable_difference",
    "prdc",
    "report_label",
    "roc_points",
    "split_duplicates",
]
