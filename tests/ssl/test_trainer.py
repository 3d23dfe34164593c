"""The shared semi-supervised trainer and every registered algorithm, on the real digits data."""

import pytest
import torch

from ganaug.checkpoint import Checkpoint
from ganaug.config import SSLConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S
from ganaug.ssl import ALGORITHMS, Batch, Shape
from ganaug.ssl.trainer import IndexStream, train_ssl

SMALL = {"triple-gan-attn": {"g_width": 32, "d_width": 32}, "semi-gan": {"layout": "mlp"}, "bad-gan": {"layout": "mlp"},
         "fixmatch": {"mu": 1}, "freematch": {"mu": 1}}


@pytest.fixture(scope="module")
def digits():
    train = load_dataset("digits").train
    labeled, unlabeled = S.take_per_class(train, [5] * 10, seed=0)
    return train, labeled, unlabeled


def config(options=None, **kw):
    return SSLConfig(options={**SMALL, **(options or {})}, width=8, batch_size=16, unlabeled_batch_size=16,
                     eval_every=10, **kw)


@pytest.mark.parametrize("name", ALGORITHMS.names())
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_every_algorithm_steps_and_classifies(name, precision):
    torch.manual_seed(0)
    algo = ALGORITHMS.get(name)(config(steps=10, precision=precision), SMALL.get(name, {}), Shape(8, 1, 10),
                                torch.device("cpu"))
    u = torch.rand(16, 1, 8, 8) * 2 - 1
    batch = Batch(torch.rand(16, 1, 8, 8) * 2 - 1, torch.arange(16) % 10, u, *(algo.views(u) if algo.views else ()))
    algo.train()
    for step in range(4):  # covers the phases that run every other step
        logs = algo.train_step(batch, step)
    assert logs and all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert algo.classifier().eval()(batch.x).shape == (16, 10)
    G = algo.generator()
    assert (G is not None) == ALGORITHMS.get(name).is_gan
    if G is not None:
        G.eval()
        x = G(torch.randn(3, algo.opt.z_dim), torch.arange(3) if G.num_classes else None)
        assert x.shape == (3, 1, 8, 8) and x.abs().max() <= 1


def params(algo):
    return torch.cat([p.detach().flatten() for net, _ in algo.networks.values() for p in net.state_dict().values()
                      if p.is_floating_point()])


def test_unlabelled_images_change_semi_supervised_results_and_not_supervised_ones(digits):
    train, labeled, unlabeled = digits
    other = train.subset(torch.arange(len(train))[torch.isin(torch.arange(len(train)),
                                                               torch.as_tensor(labeled.indices), invert=True)].flip(0))
    cfg = config(steps=30, options={"semi-cnn": {"start": 0.0, "ramp": 0.0, "threshold": 0.1}})
    run = {u: {a: params(train_ssl(cfg, a, labeled, data, 0, torch.device("cpu"), progress=False).algorithm)
               for a in ("supervised", "semi-cnn")} for u, data in (("a", unlabeled), ("b", other))}
    assert torch.equal(run["a"]["supervised"], run["b"]["supervised"])  # control: the floor ignores them
    assert not torch.allclose(run["a"]["semi-cnn"], run["b"]["semi-cnn"])


@pytest.mark.parametrize("name", ["triple-gan-attn", "freematch"])  # freematch: EMA, thresholds and views too
def test_resume_after_a_crash_gives_the_same_networks(digits, tmp_path, monkeypatch, name):
    """Killed at iteration 15 with checkpoints every 6 (so between two evaluations), then resumed in a fresh trainer:
    the same networks and history, bit for bit, as a run that never stopped."""
    train, labeled, unlabeled = digits
    cfg = config(steps=24, checkpoint_every=6)
    device, val = torch.device("cpu"), train.subset(torch.arange(100))
    whole = train_ssl(cfg, name, labeled, unlabeled, 3, device, val=val, progress=False)

    cls = ALGORITHMS.get(name)
    original = cls.train_step

    def crash(self, batch, step):
        if step == 15:
            raise KeyboardInterrupt
        return original(self, batch, step)

    monkeypatch.setattr(cls, "train_step", crash)
    with pytest.raises(KeyboardInterrupt):
        train_ssl(cfg, name, labeled, unlabeled, 3, device, val=val, checkpoint_dir=tmp_path, progress=False)
    assert Checkpoint(tmp_path / "last").meta["step"] == 12
    monkeypatch.setattr(cls, "train_step", original)
    resumed = train_ssl(cfg, name, labeled, unlabeled, 3, device, val=val, checkpoint_dir=tmp_path,
                        progress=False)
    assert torch.equal(params(whole.algorithm), params(resumed.algorithm))
    drop = lambda rows: [{k: v for k, v in r.items() if k != "images_per_s"} for r in rows]  # noqa: E731
    assert drop(resumed.history) == drop(whole.history)
    assert [r["step"] for r in resumed.history] == [10, 20, 24]


def test_index_stream_is_a_function_of_seed_and_step():
    a, b = IndexStream(50, 16, seed=1), IndexStream(50, 16, seed=1)
    first = [a(i) for i in range(9)]
    assert torch.equal(b(7), first[7])  # jumping straight to a step draws what an unbroken run drew
    epoch = torch.cat(first[:3])
    assert len(set(epoch.tolist())) == 48  # 3 batches of an epoch: no repeats
    tiny = IndexStream(5, 16, seed=0)(0)
    assert len(tiny) == 16 and set(tiny.tolist()) == set(range(5))


def test_semi_supervised_algorithm_without_unlabelled_images_is_refused(digits):
    _, labeled, _ = digits
    with pytest.raises(ValueError, match="no.*unlabelled|there are none"):
        train_ssl(config(steps=2), "semi-gan", labeled, labeled.subset(torch.arange(0)), 0, torch.device("cpu"))


@pytest.mark.parametrize("name", ["supervised", "triple-gan-attn"])
def test_bf16_failure_restores_the_last_evaluation_and_continues_in_fp32(digits, inject_nan, name):
    _, labeled, unlabeled = digits
    state = inject_nan(at_step=15 if name == "supervised" else 40)  # after iteration 10's evaluation
    result = train_ssl(config(steps=30, precision="bf16"), name, labeled, unlabeled, 0, torch.device("cpu"),
                       progress=False)
    assert state["injected"] == 1
    assert result.precision_fallback["restored"] == "iteration 10" and result.precision_fallback["to"] == "fp32"
    assert [r["step"] for r in result.history] == [10, 20, 30]
    assert all(torch.isfinite(p).all() for p in params(result.algorithm))


def test_fp32_failure_stops_with_a_clear_message(digits, inject_nan):
    from ganaug.classifier.trainer import TrainingDivergedError

    _, labeled, unlabeled = digits
    inject_nan(at_step=15, bf16_only=False)
    with pytest.raises(TrainingDivergedError, match="non-finite loss by iteration 20 in fp32"):
        train_ssl(config(steps=30), "supervised", labeled, unlabeled, 0, torch.device("cpu"), progress=False)


def test_gan_methods_log_diversity_and_a_noise_ignoring_generator_warns(digits, monkeypatch, capsys):
    """The collapse monitor in the SSL trainer: every evaluation of a GAN method has the relative diversity; a
    generator that ignores its noise (Hu, Zeng & Tian's collapse) gets a warning line naming the iteration."""
    from ganaug.models.triple_gan_attn import AttentionEncoderDecoderGenerator as G

    _, labeled, unlabeled = digits
    cfg = config(steps=20)
    history = train_ssl(cfg, "semi-gan", labeled, unlabeled, 0, torch.device("cpu"), progress=False).history
    assert [row["diversity"] for row in history] == [row["diversity_min"] for row in history]  # one group: all
    assert history[-1]["diversity"] > 0.3 and "iteration 20" not in capsys.readouterr().err  # varied by then
    assert "diversity" not in train_ssl(cfg, "supervised", labeled, unlabeled, 0, torch.device("cpu"),
                                        progress=False).history[0]
    forward = G.forward
    monkeypatch.setattr(G, "forward", lambda self, z, y=None: forward(self, torch.zeros_like(z), y))
    history = train_ssl(cfg, "triple-gan-attn", labeled, unlabeled, 0, torch.device("cpu"), progress=False).history
    assert history[0]["diversity"] < 1e-6  # per class: the same image for every noise vector
    err = capsys.readouterr().err
    assert "collapse warning: iteration 10" in err and "iteration 20" not in err  # said once while it stays so
    assert history[1]["diversity"] < 1e-6  # still recorded at every evaluation
