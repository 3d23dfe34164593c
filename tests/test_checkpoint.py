import copy
import json
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from ganaug.checkpoint import CheckpointError, Checkpoint, TrainingState, atomic_write, save_checkpoint
from ganaug.models import CLASSIFIERS


def test_round_trip_rebuilds_model_and_optimizer(tmp_path):
    kwargs = dict(image_size=8, channels=1, num_classes=3, width=4)
    net = CLASSIFIERS.create("small-cnn", **kwargs)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.randn(2, 1, 8, 8)).sum().backward()
    opt.step()
    spec = {"registry": "classifier", "name": "small-cnn", "kwargs": kwargs}
    save_checkpoint(tmp_path / "ck", {"classifier": (net, spec)}, {"classifier": opt}, {"x": torch.arange(3)}, {"epoch": 4})
    ck = Checkpoint(tmp_path / "ck")
    rebuilt = ck.build("classifier").eval()
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(rebuilt(x), net.eval()(x))
    opt2 = torch.optim.Adam(CLASSIFIERS.create("small-cnn", **kwargs).parameters(), lr=1.0)
    ck.load_optimizer("classifier", opt2)
    assert opt2.param_groups[0]["lr"] == 1e-3
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert ck.meta["epoch"] == 4 and torch.equal(ck.extra("x"), torch.arange(3))
    # Metadata is plain JSON: nothing needs unpickling.
    assert json.loads((tmp_path / "ck.json").read_text())["models"]["classifier"]["name"] == "small-cnn"


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_missing_half_is_an_error(tmp_path):
    (tmp_path / "ck.json").write_text("{}")
    with pytest.raises(CheckpointError, match="ck.safetensors does not exist"):
        Checkpoint(tmp_path / "ck")


def test_new_tensors_beside_a_stale_json_load_their_own_metadata(tmp_path):
    """A kill between the tensor file and the JSON leaves the previous JSON: the loader must not pair them."""
    net = nn.Linear(3, 2)
    spec = {"registry": "classifier", "name": "x", "kwargs": {}}
    save_checkpoint(tmp_path / "last", {"net": (net, spec)}, meta={"step": 1})
    stale = (tmp_path / "last.json").read_text()
    with torch.no_grad():
        net.weight.add_(1.0)
    save_checkpoint(tmp_path / "last", {"net": (net, spec)}, meta={"step": 2})
    (tmp_path / "last.json").write_text(stale)  # as if killed before the second JSON write
    ckpt = Checkpoint(tmp_path / "last")
    assert ckpt.meta["step"] == 2
    assert torch.equal(ckpt.state_dict("net")["weight"], net.weight)


def test_optimizer_state_returns_in_its_parameters_memory_layout(tmp_path):
    """Fused Adam pairs a parameter with its moments by memory position: moments saved contiguous must come back
    channels_last for a channels_last convolution, or the resumed update is silently wrong."""
    def run(resume: bool) -> torch.Tensor:
        torch.manual_seed(0)
        conv = nn.Conv2d(4, 8, 3).to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(conv.parameters(), lr=1e-2, fused=True)
        grads = torch.Generator().manual_seed(1)
        for step in range(4):
            if resume and step == 2:
                save_checkpoint(tmp_path / "c", {"conv": (conv, {})}, {"conv": opt})
                opt = torch.optim.Adam(conv.parameters(), lr=1e-2, fused=True)
                Checkpoint(tmp_path / "c").load_optimizer("conv", opt)
                assert opt.state[conv.weight]["exp_avg"].stride() == conv.weight.stride()
            conv.weight.grad = torch.randn(conv.weight.shape, generator=grads)
            conv.bias.grad = torch.randn(conv.bias.shape, generator=grads)
            opt.step()
        return conv.weight.detach().clone()

    assert torch.equal(run(resume=True), run(resume=False))


def draws(gen: torch.Generator) -> list:
    """The next number of every random source a trainer may use."""
    return [random.random(), float(np.random.rand()), float(np.random.randn()), float(torch.rand(1)),
            float(torch.rand(1, generator=gen))]


@pytest.mark.parametrize("through", ["disk", "memory"])
def test_training_state_restores_every_random_source_and_the_attributes(tmp_path, through):
    """After save/load (or snapshot/restore), Python, numpy, torch and the trainer's own generator draw what they
    would have drawn, and attributes (a sampler's weights, a tensor; its history, a list) come back; the file stays
    a plain Checkpoint."""
    net = nn.Linear(2, 2)
    gen, sampler = torch.Generator().manual_seed(3), SimpleNamespace(weights=torch.arange(4.0), history=[[0.5]])
    state = TrainingState({"net": (net, {})}, {}, torch.device("cpu"), generators={"batches": gen},
                          attributes={"sampler_weights": (sampler, "weights"), "sampler_history": (sampler, "history")})
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    np.random.randn()  # numpy caches the second of each pair of Gaussians: that state must travel too
    if through == "memory":
        kept = copy.deepcopy(state.snapshot())  # as PrecisionFallback keeps it
    else:
        state.save(tmp_path / "last", {"step": 7})
    expected = draws(gen)
    sampler.weights, sampler.history = torch.zeros(4), [[0.5], [0.25]]
    with torch.no_grad():
        net.weight.fill_(9.0)
    if through == "memory":
        state.restore(kept)
    else:
        assert state.load(tmp_path / "last").meta["step"] == 7
        assert set(Checkpoint(tmp_path / "last").state_dict("net")) == {"weight", "bias"}
    assert draws(gen) == expected
    assert torch.equal(sampler.weights, torch.arange(4.0)) and not (net.weight == 9.0).any()
    assert sampler.history == [[0.5]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_state_restores_the_cuda_generator(tmp_path):
    device = torch.device("cuda")
    state = TrainingState({"net": (nn.Linear(2, 2).to(device), {})}, {}, device)
    torch.cuda.manual_seed(4)
    state.save(tmp_path / "last", {})
    expected = torch.rand(8, device=device)
    torch.cuda.manual_seed(5)
    state.load(tmp_path / "last")
    assert torch.equal(torch.rand(8, device=device), expected)
