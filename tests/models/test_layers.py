"""The stabilisers as options: each one switched on must be seen acting (spectral norm, minibatch std, VBN)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.models.layers import MinibatchDiscrimination, MinibatchStd, VirtualBatchNorm2d, has_spectral_norm

COND = {"dcgan": 0}  # num_classes to build each architecture with (dcgan is unconditional only)
SN_GENERATORS = ["mlp-gan", "dcgan", "cdcgan", "acgan", "sagan"]
MBSTD = ["dcgan", "cdcgan", "acgan", "sagan", "style-lite"]
DCGAN_FAMILY_G = ["dcgan", "cdcgan", "acgan", "sagan"]


def build(registry, name, size=16, **kwargs):
    extra = {"z_dim": 8} if registry is GENERATORS else {}
    return registry.create(name, image_size=size, channels=1, num_classes=COND.get(name, 3), width=16, **extra, **kwargs)


def labels(net, n):
    return torch.arange(n) % net.num_classes if net.num_classes else None


def weighted(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding))]


def top_singular_value(m):
    w = m.weight.transpose(0, 1) if isinstance(m, nn.ConvTranspose2d) else m.weight  # the matrix SN normalises
    return torch.linalg.matrix_norm(w.flatten(1), ord=2).item()


@pytest.mark.parametrize("registry,name", [(DISCRIMINATORS, n) for n in DISCRIMINATORS.names()]
                         + [(GENERATORS, n) for n in SN_GENERATORS])
def test_spectral_norm_normalises_every_layer(registry, name):
    torch.manual_seed(0)
    net = build(registry, name, spectral_norm=True)
    assert weighted(net) and all(has_spectral_norm(m) for m in weighted(net))
    for _ in range(50):  # one power iteration per training-mode forward pass
        x = torch.randn(4, 8) if registry is GENERATORS else torch.randn(4, 1, 16, 16)
        net(x, labels(net, 4))
    net.eval()
    with torch.no_grad():
        assert all(abs(top_singular_value(m) - 1) < 0.05 for m in weighted(net)), [top_singular_value(m) for m in weighted(net)]
    off = build(registry, name, spectral_norm=False)
    assert not any(has_spectral_norm(m) for m in off.modules())


@pytest.mark.parametrize("name", ["dcgan", "cdcgan", "acgan", "sagan"])
def test_spectral_norm_discriminator_drops_batchnorm(name):
    def bns(**kw):
        return sum(isinstance(m, nn.BatchNorm2d) for m in build(DISCRIMINATORS, name, 32, **kw).modules())

    assert bns(spectral_norm=True) == 0 and bns(spectral_norm=False) > 0


def test_sagan_has_spectral_norm_by_default():
    for registry in (GENERATORS, DISCRIMINATORS):
        assert any(has_spectral_norm(m) for m in build(registry, "sagan").modules())


def test_minibatch_std_matches_a_direct_computation():
    torch.manual_seed(0)
    x = torch.randn(8, 6, 3, 3)
    out = MinibatchStd(group_size=4)(x)
    assert out.shape == (8, 7, 3, 3) and torch.equal(out[:, :6], x)
    for i in range(8):
        group = x[i % 2 :: 2]  # sample i joins group i mod (8 / 4)
        expected = group.std(dim=0, unbiased=False).mean()
        assert torch.allclose(out[i, 6], expected.expand(3, 3), atol=1e-5)
    assert MinibatchStd(4)(torch.randn(6, 2, 2, 2)).shape == (6, 3, 2, 2)  # 6 % 4 != 0: groups of 3
    assert torch.allclose(MinibatchStd(4)(torch.randn(1, 2, 2, 2))[:, 2], torch.zeros(1), atol=1e-3)  # batch of one


@pytest.mark.parametrize("name", MBSTD)
def test_minibatch_std_adds_a_channel_and_makes_the_score_depend_on_the_batch(name):
    torch.manual_seed(0)
    on, off = build(DISCRIMINATORS, name, minibatch_std=True), build(DISCRIMINATORS, name, minibatch_std=False)
    c_in = {k: sum(m.in_channels for m in d.modules() if isinstance(m, nn.Conv2d)) for k, d in (("on", on), ("off", off))}
    assert c_in["on"] == c_in["off"] + 1  # the last layer reads one more (the std) feature map
    assert any(isinstance(m, MinibatchStd) for m in on.modules()) and not any(isinstance(m, MinibatchStd) for m in off.modules())
    x, other = torch.randn(8, 1, 16, 16), torch.randn(4, 1, 16, 16) * 3
    y = labels(on, 8)
    for d, depends in ((on.eval(), True), (off.eval(), False)):
        with torch.no_grad():
            a = d(x, y)["adv"][:4]
            b = d(torch.cat([x[:4], other]), y)["adv"][:4]
        assert torch.allclose(a, b, atol=1e-5) != depends


def test_virtual_batch_norm_uses_the_reference_batch_plus_the_example():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm2d(5, reference_size=6)
    ref, ex = torch.randn(6, 5, 4, 4), torch.randn(3, 5, 4, 4) * 2 + 1
    out = vbn(torch.cat([ref, ex]))
    assert torch.allclose(out[:6], F.batch_norm(ref, None, None, training=True), atol=1e-5)
    for i in range(3):  # each example: batch norm over the reference batch and itself
        expected = F.batch_norm(torch.cat([ref, ex[i : i + 1]]), None, None, training=True)[-1]
        assert torch.allclose(out[6 + i], expected, atol=1e-5)


@pytest.mark.parametrize("name", DCGAN_FAMILY_G)
def test_virtual_batch_norm_makes_a_sample_independent_of_its_batch(name):
    torch.manual_seed(0)
    # spectral norm off: its power iteration would change the weights between the two calls
    vbn = build(GENERATORS, name, norm="virtual-batch", vbn_reference_size=8, spectral_norm=False)
    bn = build(GENERATORS, name, norm="batch", spectral_norm=False)
    assert any(isinstance(m, VirtualBatchNorm2d) for m in vbn.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in vbn.modules())
    z, other = torch.randn(3, 8), torch.randn(5, 8) * 2
    y = labels(vbn, 8)
    for g, independent in ((vbn.train(), True), (bn.train(), False)):
        with torch.no_grad():
            alone = g(z, y[:3] if y is not None else None)
            mixed = g(torch.cat([z, other]), y)[:3]
        assert torch.allclose(alone, mixed, atol=1e-5) == independent
    assert "ref_z" in vbn.state_dict()  # the reference batch is saved with the weights


def test_virtual_batch_norm_reference_is_restored_from_a_checkpoint():
    torch.manual_seed(0)
    a = build(GENERATORS, "cdcgan", norm="virtual-batch")
    torch.manual_seed(1)
    b = build(GENERATORS, "cdcgan", norm="virtual-batch")
    b.load_state_dict(a.state_dict())
    z, y = torch.randn(2, 8), torch.tensor([0, 2])
    assert torch.equal(a(z, y), b(z, y))
    assert torch.allclose(a.eval()(z, y), b.train()(z, y), atol=1e-6)  # no running statistics: eval = train


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("size", [1, 2])
def test_strided_convolution_gradients_under_bf16_match_fp32(transpose, size):
    """On Intel AMX CPUs oneDNN's bf16 weight gradient of a strided convolution over a 1 px map is garbage
    (NaN, or ~1e11 too large, in about one call in four); ganaug's layers compute that case in fp32."""
    from ganaug.models.layers import Conv2d, ConvTranspose2d

    torch.manual_seed(0)
    for _ in range(20):
        layer = (ConvTranspose2d(16, 16, 5, 2, 2, output_padding=1) if transpose else Conv2d(16, 16, 5, 2, 2))
        x = torch.randn(32, 16, size, size)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = layer(x)
        g = torch.randn(y.shape)
        (y.float() * g).sum().backward()
        got = layer.weight.grad.clone()
        layer.weight.grad = None
        reference = F.conv_transpose2d if transpose else F.conv2d
        kwargs = dict(stride=2, padding=2, **({"output_padding": 1} if transpose else {}))
        (reference(x, layer.weight, layer.bias, **kwargs) * g).sum().backward()
        expected = layer.weight.grad
        assert torch.isfinite(got).all()
        tolerance = 1e-5 if size == 1 else 2e-2  # 1 px: computed in fp32; larger maps: bf16's rounding
        assert ((got - expected).norm() / expected.norm()).item() < tolerance
        assert (y.dtype == torch.float32) == (size == 1)


def test_normalisation_statistics_survive_bf16_inputs():
    """|mean| >> std: in bf16, mean_sq - mean**2 cancels to noise; in fp32 it matches the fp32 layer."""
    torch.manual_seed(0)
    x = (8.0 + 0.5 * torch.randn(8, 3, 4, 4)).bfloat16()  # bf16 steps of 1/16 near 8: the spread survives
    vbn = VirtualBatchNorm2d(3, reference_size=4)
    got, want = vbn(x), vbn(x.float())
    assert got.dtype == torch.bfloat16
    assert torch.allclose(got.float(), want, atol=0.05), (got.float() - want).abs().max()
    mb, mb_want = MinibatchStd(4)(x), MinibatchStd(4)(x.float())
    assert torch.allclose(mb[:, 3].float(), mb_want[:, 3], rtol=0.02)


def test_minibatch_discrimination_matches_the_paper_formula():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3)
    f = torch.randn(5, 6)
    o = layer(f)
    m = (f @ layer.T).view(5, 4, 3)
    for i in range(5):  # o(x_i)_b = sum over j != i of exp(-||M_i,b - M_j,b||_1)
        expected = sum(torch.exp(-(m[i] - m[j]).abs().sum(-1)) for j in range(5) if j != i)
        assert torch.allclose(o[i], expected, atol=1e-5)
    assert o.shape == (5, 4) and torch.equal(layer(f[:1]), torch.zeros(1, 4))  # a batch of one: nobody close
    same = layer(f[:1].expand(3, 6))
    assert torch.allclose(same, torch.full((3, 4), 2.0))  # identical samples: each has the other two at distance 0


@pytest.mark.parametrize("name", ["dcgan", "cdcgan", "acgan", "sagan"])
def test_minibatch_discrimination_makes_the_score_depend_on_the_other_samples(name):
    """D's output for a sample changes when the rest of its batch changes with the option on, not with it off (eval
    mode: BatchNorm's running statistics, so nothing else couples the samples); its class logits never do."""
    torch.manual_seed(0)
    on = build(DISCRIMINATORS, name, minibatch_discrimination=True, mbd_kernels=7).eval()
    off = build(DISCRIMINATORS, name).eval()
    assert sum(isinstance(m, MinibatchDiscrimination) for m in on.modules()) == 1
    assert not any(isinstance(m, (MinibatchDiscrimination, MinibatchStd)) for m in off.modules())
    x, other = torch.randn(8, 1, 16, 16), torch.randn(4, 1, 16, 16) * 3
    y = labels(on, 8)
    for d, depends in ((on, True), (off, False)):
        with torch.no_grad():
            a, b = d(x, y), d(torch.cat([x[:4], other]), y)
        gap = (a["adv"][:4] - b["adv"][:4]).abs().max()
        assert gap > 1e-4 if depends else gap < 1e-6
        if "cls" in a:
            assert torch.allclose(a["cls"][:4], b["cls"][:4], atol=1e-6)
    both = build(DISCRIMINATORS, name, minibatch_discrimination=True, mbd_kernels=7, minibatch_std=True)
    assert both(x, y)["adv"].shape == (8,)  # the two options together: 1 + 7 extra maps
