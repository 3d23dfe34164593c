"""Shared test setup."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")  # module scope: also covers module-scoped fixtures
def _one_thread():
    """Tests run torch single-threaded: their networks are tiny, and intra-op threads fighting other
    processes on a 2-core machine made them 10-50x slower (45 s vs 3 s for the model tests)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
