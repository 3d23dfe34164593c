"""Model tests run single-threaded: the networks are tiny, and on a shared 2-core machine intra-op
threads fighting other processes made these tests 10x slower (45 s vs 3 s)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
