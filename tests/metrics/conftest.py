"""Metric tests run single-threaded, like the model tests: their networks and matrices are small, and on
a shared 2-core machine intra-op threads fighting other processes made them 10-50x slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
