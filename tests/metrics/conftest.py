"""Fixtures for the metric tests (single-threaded by tests/conftest.py)."""

import pytest
import torch
from torch import nn

from ganaug.metrics.inception_net import FIDInceptionV3


def _calibrated_inception(seed: int = 0) -> FIDInceptionV3:
    """Random weights with BatchNorm statistics measured on random inputs: unlike the raw random network,
    whose pool3 output is nearly constant, its features depend on the image (so comparisons mean something)."""
    torch.manual_seed(seed)
    net = FIDInceptionV3()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batch
    with torch.no_grad():
        net.train()(torch.rand(4, 3, 299, 299) * 2 - 1)
    return net.eval()


@pytest.fixture(scope="session")
def make_inception():
    """A function seed -> FID Inception-v3 with random but image-sensitive outputs."""
    return _calibrated_inception
