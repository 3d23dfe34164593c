"""Metric tests run single-threaded, like the model tests: their networks and matrices are small, and on
a shared 2-core machine intra-op threads fighting other processes made them 10-50x slower."""

import pytest
import torch
from torch import nn

from ganaug.metrics.inception_net import FIDInceptionV3


@pytest.fixture(autouse=True, scope="module")  # module scope: also covers module-scoped fixtures
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
