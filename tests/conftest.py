"""Shared test setup."""

import http.server
import threading
from functools import partial

import pytest
import torch
from typer.testing import CliRunner

from ganaug.cli import app


@pytest.fixture(autouse=True, scope="session")
def _cli_threads():
    """The CLI picks torch threads from the free cores (ganaug.threads); in tests it is forced to 1, for the reason
    below, in this process and in the subprocesses tests start; so are numpy's BLAS threads (``_one_blas_thread``)."""
    import os

    names = ("GANAUG_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update({name: "1" for name in names})
    yield
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """One BLAS thread besides the one torch thread below: numpy's OpenBLAS (KID, FID, PRDC, the leak audits) spins
    its idle threads, and with the other core busy the feature metrics ran 10x slower (6 s instead of 0.5 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


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


# --quick with a third of its GAN steps and a third of its classifier steps (-60 % of the fixture's time): every step
# of the demo still runs, and the tests' bounds (AUC > 0.5, sample grids every 10 epochs) hold with a wide margin.
DEMO_ARGS = ["demo", "--quick", "--no-progress", "--seed", "1", "--set", "gan.steps=200", "--set", "classifier.steps=50"]


@pytest.fixture(scope="session")
def demo_args():
    """The config of ``demo_run`` on the command line, without ``--out`` and ``--tensorboard``."""
    return list(DEMO_ARGS)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """One ``ganaug demo --quick --tensorboard`` (shortened, ``DEMO_ARGS``) on the embedded digits, shared by the demo, report and TensorBoard
    tests (it is the slowest fixture); yields (run folder, CLI output)."""
    out = tmp_path_factory.mktemp("demo")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # session scope: set up before the module-scoped _one_thread
    try:
        result = CliRunner().invoke(app, [*DEMO_ARGS, "--tensorboard", "--out", str(out)])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture
def inject_nan(monkeypatch):
    """``inject_nan(at_step, bf16_only=True)``: after optimiser step ``at_step`` (counted over every Adam step of
    the run), overwrite the stepped network's first parameter with NaN, as a CPU's faulty bf16 kernel would;
    with ``bf16_only`` only while the trainers' autocast asks for bf16. Returns a dict counting the injections."""
    import ganaug.classifier.trainer
    import ganaug.gan.trainer
    import ganaug.runtime

    state = {"precision": "fp32", "steps": 0, "injected": 0, "at": None, "bf16_only": True}
    real_autocast, real_step = ganaug.runtime.autocast, torch.optim.Adam.step

    def autocast(device, precision):
        state["precision"] = precision
        return real_autocast(device, precision)

    def step(self, *args, **kwargs):
        out = real_step(self, *args, **kwargs)
        state["steps"] += 1
        if state["steps"] == state["at"] and (state["precision"] == "bf16" or not state["bf16_only"]):
            self.param_groups[0]["params"][0].data.fill_(float("nan"))
            state["injected"] += 1
        return out

    for module in (ganaug.runtime, ganaug.gan.trainer, ganaug.classifier.trainer):
        monkeypatch.setattr(module, "autocast", autocast)
    monkeypatch.setattr(torch.optim.Adam, "step", step)

    def arm(at_step: int, bf16_only: bool = True) -> dict:
        state.update(at=at_step, bf16_only=bf16_only)
        return state

    return arm


def write_digit_folder(root, train_counts: dict[int, int], test_per_class: int = 10, rgb: bool = False):
    """An ImageFolder tree ``root/{train,test}/<digit>/*.png`` of real scikit-learn digits (8x8, upscaled to 16 px),
    ``train_counts[digit]`` training images per class, as a user's own (often imbalanced) data would come."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * (255 / 16)).astype(np.uint8)
    for digit, n_train in train_counts.items():
        pool = images[digits.target == digit]
        for split, chosen in (("train", pool[:n_train]), ("test", pool[n_train : n_train + test_per_class])):
            folder = root / split / f"digit{digit}"
            folder.mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(chosen):
                pic = Image.fromarray(img).resize((16, 16), Image.NEAREST)
                if rgb:  # a different tint per class, so the channels carry information
                    pic = Image.merge("RGB", [pic.point(lambda v, f=f: int(v * f)) for f in (1.0, 0.3 + 0.2 * digit % 1, 0.6)])
                pic.save(folder / f"{i}.png")
    return root


@pytest.fixture
def digit_folder():
    """``write_digit_folder`` as a fixture (test modules cannot import conftest under --import-mode=importlib)."""
    return write_digit_folder


# Longest files first: pytest-xdist (`--dist loadfile`) hands whole files to its workers in collection order, so a
# slow file collected late runs alone at the end while the other worker idles. These took 30-100 s each on the
# 2-core CI machine (`PYTEST_ARGS=--durations=45 make test`, 2026-12-04); the rest keep their order.
SLOW_FIRST = ("tests/runner/test_grid.py", "tests/gan/test_architectures_train.py", "tests/test_distributed.py",
              "tests/experiments/test_augment.py", "tests/runner/test_ray.py", "tests/experiments/test_ssl.py",
              "tests/test_cli_augment.py", "tests/experiments/test_evaluate_gan.py")


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: files stay whole
