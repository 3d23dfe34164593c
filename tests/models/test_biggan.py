"""biggan's own behaviour (shapes, backward and sizes are covered from the registry in test_models.py): conditional
BatchNorm and hierarchical z, the projection head, spectral norm, orthogonal init, bf16, truncation."""

import pytest
import torch
from torch import nn

from ganaug.gan.sampling import generate
from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.models import layers as L
from ganaug.models.attention import SelfAttention2d
from ganaug.models.biggan import ConditionalBatchNorm2d, GBlock, truncated


def G(size=16, channels=1, num_classes=10, **kw):
    torch.manual_seed(0)
    return GENERATORS.create("biggan", image_size=size, channels=channels, num_classes=num_classes, z_dim=20, width=32,
                             **kw)


def D(size=16, channels=1, num_classes=10, **kw):
    torch.manual_seed(0)
    return DISCRIMINATORS.create("biggan", image_size=size, channels=channels, num_classes=num_classes, width=32, **kw)


def test_the_label_enters_only_through_the_conditional_batchnorms():
    """Without hierarchical z the linear layer sees z alone, so a different y can only act through the cBNs."""
    g = G(hier=False).eval()
    assert g.linear.in_features == 20
    z = torch.randn(1, 20).repeat(3, 1)
    x = g(z, torch.tensor([3, 3, 5]))
    assert torch.equal(x[0], x[1])  # same z, same y: same image
    assert (x[0] - x[2]).abs().max() > 1e-3  # same z, other y: another image
    cbns = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d) and m.affine is not None]
    assert len(cbns) == 2 * sum(isinstance(m, GBlock) for m in g.modules())  # two per up-block


def test_hierarchical_z_feeds_every_block():
    """One chunk of z per up-block plus one for the linear layer; changing only the last chunk changes the image."""
    g = G(size=32).eval()  # 3 up-blocks: 4 chunks
    assert g.z_sizes == [5, 5, 5, 5] and g.linear.in_features == 5
    z, y = torch.randn(1, 20), torch.tensor([2])
    z2 = z.clone()
    z2[:, -5:] = torch.randn(1, 5)  # the last block's chunk only
    assert (g(z, y) - g(z2, y)).abs().max() > 1e-3
    assert GENERATORS.create("biggan", image_size=28, channels=1, z_dim=100).z_sizes == [34, 33, 33]  # 2 up-blocks


def test_unconditional_pair_has_no_label_parts():
    g, d = G(num_classes=0, hier=False), D(num_classes=0)
    assert g.shared is None and d.embed is None
    assert all(m.affine is None and m.bn.affine for m in g.modules() if isinstance(m, ConditionalBatchNorm2d))
    hier = G(num_classes=0)  # hierarchical z still conditions the BatchNorms, on z chunks alone
    assert all(m.affine.in_features == hier.z_sizes[1] for m in hier.blocks if isinstance(m, GBlock)
               for m in (m.bn1, m.bn2))
    assert g(torch.randn(2, 20)).shape == (2, 1, 16, 16)
    assert d(torch.randn(2, 1, 16, 16))["adv"].shape == (2,)


def test_projection_head_adds_embed_dot_features():
    d = D().eval()
    x = torch.randn(1, 1, 16, 16).repeat(2, 1, 1, 1)
    y = torch.tensor([1, 7])
    out = d(x, y)
    h = out["features"]
    assert torch.allclose(out["adv"], d.adv(h).flatten() + (d.embed(y) * h).sum(1), atol=1e-5)
    assert (out["adv"][0] - out["adv"][1]).abs() > 1e-4  # the label changes the score of the same image


def test_discriminator_weights_have_spectral_norm_with_sigma_one():
    d = D()
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert layers and all(L.has_spectral_norm(m) for m in layers)
    with torch.no_grad():
        for m in layers:
            L.trainable_weight(m).normal_(0, 3.0)  # far from norm 1
    L.settle_spectral_norm(d, iterations=30)
    d.eval()
    for m in layers:
        w = m.weight.flatten(1)
        assert torch.linalg.matrix_norm(L.trainable_weight(m).flatten(1), ord=2) > 2
        assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_spectral_norm_in_the_generator_is_an_option():
    assert any(L.has_spectral_norm(m) for m in G().modules())
    assert not any(L.has_spectral_norm(m) for m in G(spectral_norm=False).modules())


def test_orthogonal_initialisation():
    """The flattened weights have orthonormal rows (or columns, when there are more rows than columns)."""
    for net in (G(), D()):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                w = L.trainable_weight(m).flatten(1)
                gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
                assert torch.allclose(gram, torch.eye(len(gram)), atol=1e-4), m


def test_attention_where_asked():
    g, d = G(size=32), D(size=32)
    assert g.attention_resolutions == [16] and d.attention_resolutions == [16]
    assert sum(isinstance(m, SelfAttention2d) for m in g.modules()) == 1
    assert sum(isinstance(m, SelfAttention2d) for m in d.modules()) == 1
    assert not any(isinstance(m, SelfAttention2d) for m in G(size=32, attention_resolutions=[]).modules())


def test_bf16_forward_is_finite_and_batchnorm_stays_fp32():
    g, d = G(size=32, channels=3), D(size=32, channels=3)
    seen = []
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_forward_pre_hook(lambda _, args: seen.append(args[0].dtype))
    y = torch.arange(8) % 10
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = g(torch.randn(8, 20), y)
        out = d(x, y)
    assert x.dtype == torch.bfloat16 and torch.isfinite(x.float()).all()
    assert torch.isfinite(out["adv"]).all() and torch.isfinite(out["features"]).all()
    assert seen and set(seen) == {torch.float32}  # every BatchNorm computed its statistics in fp32
    assert all(b.dtype != torch.bfloat16 for b in g.buffers())
    out["adv"].sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in g.parameters() if p.grad is not None)


def test_truncation_bounds_the_noise_and_generate_uses_it():
    z = torch.randn(1000, 20) * 2
    t = truncated(z, 0.5)
    assert t.abs().max() <= 1.0 + 1e-6  # psi x [-2, 2]
    order = torch.argsort(z[:, 0])
    assert (t[order, 0].diff() >= 0).all() and truncated(torch.zeros(3), 0.5).abs().max() < 1e-6  # monotone, 0 -> 0
    g = G().eval()
    a, _ = generate(g, [2] * 10, 20, seed=0, device=torch.device("cpu"), truncation_psi=0.5)
    b, _ = generate(g, [2] * 10, 20, seed=0, device=torch.device("cpu"), truncation_psi=0.5)
    c, _ = generate(g, [2] * 10, 20, seed=0, device=torch.device("cpu"))
    assert torch.equal(a, b) and not torch.allclose(a, c)
