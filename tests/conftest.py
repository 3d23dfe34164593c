"""Shared test setup."""

import http.server
import threading
from functools import partial

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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(tmp_path):
    """A folder served at http://127.0.0.1:<port> (loopback only); yields (folder, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
