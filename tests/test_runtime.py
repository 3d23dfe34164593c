"""Devices and mixed precision: fp16 refused on the CPU naming the key, bf16 training, the loss-scaling path."""

import json

import pytest
import torch

from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassifierConfig, ConfigError, GANConfig, SSLConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S
from ganaug.gan.trainer import train_gan
from ganaug.runtime import (
    autocast, cpu_has_bf16, grad_scaler, load_scaler_states, optimizer, resolve_device, resolve_precision,
    scaler_states, update,
)
from ganaug.ssl.trainer import train_ssl

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_fp16_on_the_cpu_is_refused_naming_the_key_and_value(digits):
    train = digits.train
    with pytest.raises(ConfigError, match=r"classifier\.precision='fp16'.*bf16"):
        train_classifier(ClassifierConfig(precision="fp16"), train, 0, CPU, progress=False)
    with pytest.raises(ConfigError, match=r"gan\.precision='fp16'"):
        train_gan(GANConfig(precision="fp16"), train, 0, CPU, progress=False)
    labeled, unlabeled = S.take_per_class(train, [5] * 10, seed=0)
    with pytest.raises(ConfigError, match=r"precision='fp16'"):
        train_ssl(SSLConfig(precision="fp16"), "supervised", labeled, unlabeled, 0, CPU, progress=False)


def test_bf16_classifier_trains_with_finite_loss(digits):
    res = train_classifier(ClassifierConfig(precision="bf16", width=8, epochs=2), digits.train, 0, CPU,
                           val=digits.test, progress=False)
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in res.history)
    assert res.history[-1]["loss"] < res.history[0]["loss"] and res.history[-1]["val_acc"] > 0.3
    assert all(p.dtype == torch.float32 for p in res.model.parameters())  # autocast: weights stay fp32
    with autocast(CPU, "bf16"):
        assert res.model(torch.zeros(2, 1, 8, 8)).dtype == torch.bfloat16
    with autocast(CPU, "fp32"):
        assert res.model(torch.zeros(2, 1, 8, 8)).dtype == torch.float32


def sgd_step(scaler, loss_scale: float = 1.0) -> tuple[torch.Tensor, torch.optim.Optimizer]:
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    update(opt, net(torch.ones(4, 3)).pow(2).mean() * loss_scale, scaler)
    return net.weight.detach().clone(), opt


def test_loss_scaling_gives_the_plain_step_and_skips_overflow():
    """The fp16 path (GradScaler) runs on the CPU too: same update as without it; an inf loss skips the step."""
    plain, _ = sgd_step(None)
    disabled = grad_scaler(CPU, "fp32")
    assert not disabled.is_enabled() and torch.equal(sgd_step(disabled)[0], plain)  # fp32 / bf16: a pass-through
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    torch.testing.assert_close(sgd_step(scaler)[0], plain)  # scaled, then unscaled before the step
    torch.manual_seed(0)
    before = torch.nn.Linear(3, 1).weight.detach().clone()
    assert torch.equal(sgd_step(scaler, float("inf"))[0], before) and scaler.get_scale() == 2.0**9
    restored = torch.amp.GradScaler("cpu")
    load_scaler_states({"classifier": restored}, scaler_states({"classifier": scaler, "off": disabled}))
    assert restored.get_scale() == 2.0**9 and scaler_states({"off": disabled}) == {}


def test_device_names():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device cpu"):
            resolve_device("cuda")



def test_resolve_device_has_no_side_effect(monkeypatch):
    """Under torchrun, resolving the device does not join the process group: the entry point does that."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert resolve_device("cpu") == CPU
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_takes_the_stated_steps(momentum):
    """classifier.optimizer=sgd: w <- w - lr * v with v <- momentum * v + grad (torch's and Keras' SGD), on
    f(w) = w^2 / 2 whose gradient is w; adam stays the default."""
    w = torch.nn.Parameter(torch.tensor([1.0]))
    opt = optimizer("sgd", [w], lr=0.1, momentum=momentum)
    assert isinstance(opt, torch.optim.SGD)
    expected, v = 1.0, 0.0
    for _ in range(3):
        opt.zero_grad()
        (w ** 2 / 2).sum().backward()
        opt.step()
        v = momentum * v + expected
        expected -= 0.1 * v
        assert w.item() == pytest.approx(expected)
    assert isinstance(optimizer("adam", [w], lr=0.1), torch.optim.Adam)
    assert ClassifierConfig().optimizer == "adam"
    with pytest.raises(ValueError):
        ClassifierConfig(optimizer="rmsprop")


def test_auto_precision_is_bf16_only_where_the_cpu_computes_in_it(monkeypatch, digits, tmp_path):
    """The default ``auto``: bf16 on a CPU with AVX512-BF16 or AMX, fp32 on one without (where torch emulates bf16,
    10x slower); explicit choices pass through; the trainer records what it used."""
    assert ClassifierConfig().precision == "auto" and GANConfig().precision == "auto"
    assert resolve_precision("auto", CPU) == ("bf16" if cpu_has_bf16() else "fp32")
    import ganaug.runtime as runtime

    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(runtime, "cpu_has_bf16", lambda native=native: native)
        assert resolve_precision("auto", CPU) == expected
        assert resolve_precision("fp32", CPU) == "fp32" and resolve_precision("bf16", CPU) == "bf16"
    train_classifier(ClassifierConfig(epochs=1, width=8), digits.train, 0, CPU, checkpoint_dir=tmp_path, progress=False)
    assert json.loads((tmp_path / "last.json").read_text())["meta"]["precision"] == "fp32"  # cpu_has_bf16 -> False
