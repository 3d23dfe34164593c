"""Validated configuration objects. Configuration flows one way: defaults < YAML < ``--set key=value`` -> these ->
constructors.

``core`` holds the shared schemas, ``gan`` / ``augment`` / ``ssl`` each job's, ``layers`` the YAML layering and
scales, ``keys`` the dotted keys. Every public name is importable from here. Registry names (losses, strategies,
algorithms) are checked by ``ganaug.names.check_names`` where a config is built, so nothing here imports a registry.
"""

from ganaug.config.augment import (AugmentConfig, ClassicAugConfig, DemoConfig, PostprocessConfig, Preset,
                                   RemediesConfig, WeightedSamplingConfig)
from ganaug.config.core import ClassifierConfig, DataConfig, Device, GANConfig, ImbalanceConfig, Precision, Strict
from ganaug.config.gan import EvaluateGANConfig, GANStudyConfig, TrainGANConfig
from ganaug.config.keys import lookup, merge, nest, parse_overrides
from ganaug.config.layers import build_augment_config, build_config, save_config
from ganaug.config.segment import Pix2PixConfig, SegmentConfig
from ganaug.config.ssl import SSLConfig
from ganaug.config.translate import CycleGANConfig, TranslateConfig
from ganaug.errors import ConfigError

__all__ = ["AugmentConfig", "ClassicAugConfig", "ClassifierConfig", "ConfigError", "CycleGANConfig", "DataConfig", "DemoConfig", "Device",
           "EvaluateGANConfig", "GANConfig", "GANStudyConfig", "ImbalanceConfig", "PostprocessConfig", "Precision",
           "Pix2PixConfig", "Preset", "RemediesConfig", "SSLConfig", "SegmentConfig", "Strict", "TrainGANConfig", "TranslateConfig", "WeightedSamplingConfig", "build_augment_config",
           "build_config", "lookup", "merge", "nest", "parse_overrides", "save_config"]
