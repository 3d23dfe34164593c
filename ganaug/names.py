"""Registry names in a config (GAN loss, strategies, algorithms), checked against the registries that own them.

``ganaug.config`` imports no registry (the registries' modules import config), so the entry points call
``check_names`` right after building a config from YAML and flags, before anything is written.
"""

from __future__ import annotations

from pydantic import BaseModel

from ganaug.augment.strategies import check_strategies
from ganaug.config import AugmentConfig, GANConfig, SSLConfig
from ganaug.gan.losses import check_loss
from ganaug.ssl import check_algorithms


def check_names(cfg: BaseModel) -> None:
    """A one-line ConfigError (key, value, the valid names) for the first name no registry knows."""
    gan = getattr(cfg, "gan", None)
    if isinstance(gan, GANConfig):
        check_loss(gan.loss)
    if isinstance(cfg, AugmentConfig):
        check_strategies(cfg.strategies)
        check_strategies(cfg.compare_to, "compare_to")
    if isinstance(cfg, SSLConfig):
        check_algorithms(cfg.algorithms, cfg.options)
