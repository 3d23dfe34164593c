"""ganaug: GAN data augmentation and GAN-based semi-supervised learning, measured honestly."""

__version__ = "0.1.0"
