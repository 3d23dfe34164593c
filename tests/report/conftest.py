"""Two tiny studies whose reports the report tests look at: ``ganaug augment`` and ``ganaug ssl`` on the embedded
digits, a few seconds each (the demo's run is ``demo_run`` in tests/conftest.py)."""

from contextlib import contextmanager

import pytest
import torch

from ganaug.config import AugmentConfig, ClassifierConfig, GANConfig, SSLConfig
from ganaug.experiments.augment import run_augment
from ganaug.experiments.ssl import run_ssl


@contextmanager
def one_thread():
    """Session fixtures are set up before the module-scoped ``_one_thread`` of tests/conftest.py."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def augment_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("augment-report")
    cfg = AugmentConfig(strategies=["exp1"], ratios=[0.5], seed=1, out=str(out), progress=False, audit_samples=50,
                        gan=GANConfig(steps=20, g_width=16, d_width=16, z_dim=16, batch_size=32),
                        classifier=ClassifierConfig(steps=15, width=8, repeats=2))
    with one_thread():
        run_augment(cfg, command="ganaug augment --strategy exp1 (tiny)")
    return out


@pytest.fixture(scope="session")
def ssl_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ssl-report")
    cfg = SSLConfig(algorithms=["triple-gan-attn"], labeled=[0.1], repeats=1, steps=20, eval_every=10, width=8,
                    generated_per_class=10, judge=ClassifierConfig(steps=20), out=str(out), progress=False,
                    options={"triple-gan-attn": {"g_width": 32, "d_width": 32}}, tensorboard=True)
    with one_thread():
        run_ssl(cfg, command="ganaug ssl --algorithm triple-gan-attn (tiny)")
    return out
