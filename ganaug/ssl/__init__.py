"""Semi-supervised classification: algorithms by name on one shared trainer.

``ALGORITHMS.create(name, cfg=..., options=..., shape=..., device=...)``; the built-in ones are
``supervised`` (the floor), ``semi-cnn`` (pseudo-labels), ``fixmatch`` (Sohn et al. 2020), ``freematch``
(Wang et al. 2023), ``semi-gan`` (Salimans et al. 2016), ``bad-gan`` (Dai et al. 2017) and ``triple-gan-attn`` (Hu et al.). See ``base.py`` for the interface and ``trainer.py`` for the loop.
"""

from ganaug.ssl.base import ALGORITHMS, Batch, Shape, SSLAlgorithm, check_algorithms
from ganaug.ssl import bad_gan, fixmatch, freematch, semi_cnn, semi_gan, supervised, triple_gan_attn  # noqa: F401,E402

__all__ = ["ALGORITHMS", "Batch", "SSLAlgorithm", "Shape", "check_algorithms"]
