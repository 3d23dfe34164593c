"""Architecture-specific behaviour: acgan's heads, self-attention, style-lite's truncation, mlp-gan's dropout, errors."""

import pytest
import torch

from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.models.attention import SelfAttention2d
from ganaug.models.common import place_attention


def test_acgan_discriminator_has_adv_and_cls_heads_and_no_projection():
    torch.manual_seed(0)
    D = DISCRIMINATORS.create("acgan", image_size=28, channels=1, num_classes=7, width=16).eval()
    x = torch.randn(5, 1, 28, 28)
    out = D(x, torch.zeros(5, dtype=torch.long))
    assert out["adv"].shape == (5,) and out["cls"].shape == (5, 7) and out["features"].shape == (5, 16)
    assert torch.equal(out["adv"], D(x)["adv"]) and torch.equal(out["cls"], D(x, torch.full((5,), 6))["cls"])
    assert not any(isinstance(m, torch.nn.Embedding) for m in D.modules())


@pytest.mark.parametrize("heads", [1, 4])
def test_attention_block_is_residual_and_mixes_positions(heads):
    torch.manual_seed(0)
    block = SelfAttention2d(32, heads=heads)
    x = torch.randn(2, 32, 8, 8)
    assert block.gamma.item() == 0 and torch.equal(block(x), x)  # gamma = 0: the identity
    with torch.no_grad():
        block.gamma.fill_(1.0)
        x2 = x.clone()
        x2[:, :, 0, 0] += 5.0  # change one corner...
        far = (block(x2) - block(x))[:, :, 7, 7]  # ...and the opposite corner's output moves
    assert far.abs().max() > 1e-3


def test_attention_does_not_mix_samples():
    torch.manual_seed(0)
    block = SelfAttention2d(16, heads=2)
    with torch.no_grad():
        block.gamma.fill_(1.0)
        x = torch.randn(3, 16, 4, 4)
        assert torch.allclose(block(x)[:1], block(x[:1]), atol=1e-6)


def test_attention_resolutions_move_to_the_nearest_layer():
    assert place_attention([16], [4, 8, 16]) == [16]
    assert place_attention([16], [7, 14]) == [14]
    assert place_attention([16], [4]) == [4]  # 8 px: the only hidden layer
    assert place_attention([16, 12], [3, 6, 12, 24, 48]) == [12]
    assert place_attention([16], [8, 32]) == [32]  # a tie goes up
    assert place_attention([], [4, 8]) == []


@pytest.mark.parametrize("size,expected", [(8, [4]), (28, [14]), (32, [16]), (64, [16])])
def test_sagan_places_attention_in_both_networks(size, expected):
    torch.manual_seed(0)
    G = GENERATORS.create("sagan", image_size=size, channels=1, num_classes=3, z_dim=8, width=16)
    D = DISCRIMINATORS.create("sagan", image_size=size, channels=1, num_classes=3, width=16, heads=2)
    for net in (G, D):
        blocks = [m for m in net.modules() if isinstance(m, SelfAttention2d)]
        assert net.attention_resolutions == expected and len(blocks) == 1
    assert [m.heads for m in D.modules() if isinstance(m, SelfAttention2d)] == [2]
    G.eval()
    z, y = torch.randn(2, 8), torch.tensor([0, 1])
    before = G(z, y)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, SelfAttention2d):
                m.gamma.fill_(1.0)
    assert not torch.allclose(before, G(z, y))  # the block is in the forward path
    plain = GENERATORS.create("sagan", image_size=size, channels=1, num_classes=3, z_dim=8, width=16, attention_resolutions=[])
    assert not any(isinstance(m, SelfAttention2d) for m in plain.modules())


def style_lite(**kw):
    torch.manual_seed(0)
    return GENERATORS.create("style-lite", image_size=32, channels=3, z_dim=8, width=16, w_dim=16, **kw)


def test_style_lite_truncation_psi_zero_gives_the_average_w_image():
    G = style_lite(num_classes=3)
    G.train()
    G(torch.randn(64, 8), torch.arange(64) % 2)  # training mode tracks the per-class average w
    assert G.w_avg[:2].abs().sum() > 0 and G.w_avg[2].abs().sum() == 0  # class 2 was not seen
    G.eval()
    with torch.no_grad():
        for m in G.modules():  # noise at full strength: const noise must still give one image
            if hasattr(m, "noise_strength"):
                m.noise_strength.fill_(1.0)
        y = torch.full((4,), 1)
        z = torch.randn(4, 8) * 3
        avg = G(z, y, truncation_psi=0.0, noise_mode="const")
        assert torch.allclose(avg, avg[:1].expand_as(avg), atol=1e-6)
        assert torch.allclose(avg, G.synthesis(G.w_avg[y], noise_mode="const"), atol=1e-6)
        full = G(z, y, truncation_psi=1.0, noise_mode="const")
        half = G.map(z, y, truncation_psi=0.5)
        assert not torch.allclose(full[0], full[1])
        assert torch.allclose(half, (G.map(z, y) + G.w_avg[y]) / 2, atol=1e-6)
        w_avg = G.w_avg.clone()
        G(z, y)
        assert torch.equal(G.w_avg, w_avg)  # eval mode leaves the average alone
        assert not torch.equal(G(z, y, noise_mode="random"), G(z, y, noise_mode="random"))
        assert torch.equal(G(z, y, noise_mode="const"), G(z, y, noise_mode="const"))


def test_style_lite_unconditional_has_one_average_and_modulated_convs():
    G = style_lite(num_classes=0)
    assert G.w_avg.shape == (1, 16)
    assert G(torch.randn(2, 8)).shape == (2, 3, 32, 32)
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.ConvTranspose2d)) for m in G.modules())


def test_mlp_gan_discriminator_uses_dropout_in_training_only():
    torch.manual_seed(0)
    D = DISCRIMINATORS.create("mlp-gan", image_size=8, channels=1, num_classes=0, width=16)
    x = torch.randn(4, 1, 8, 8)
    assert not torch.equal(D(x)["adv"], D(x)["adv"])
    D.eval()
    assert torch.equal(D(x)["adv"], D(x)["adv"])
    assert D(x)["features"].shape == (4, 128)  # hidden = 8 * width by default
    G = GENERATORS.create("mlp-gan", image_size=8, channels=1, z_dim=8, width=16, hidden=32)
    assert G(torch.randn(2, 8)).shape == (2, 1, 8, 8)


# One impossible combination per factory, and the message it must give.
BAD = [
    (GENERATORS, "mlp-gan", {"hidden": 0}, "hidden must be >= 1"),
    (DISCRIMINATORS, "mlp-gan", {"dropout": 1.0}, "drop probability"),
    (GENERATORS, "dcgan", {"num_classes": 10}, "use 'cdcgan' or 'acgan'"),
    (DISCRIMINATORS, "dcgan", {"num_classes": 10}, "use 'cdcgan' or 'acgan'"),
    (GENERATORS, "cdcgan", {"norm": "layer"}, "norm must be one of 'batch', 'virtual-batch'"),
    (DISCRIMINATORS, "cdcgan", {"minibatch_std": True, "mbstd_group_size": 0}, "group_size >= 1"),
    (DISCRIMINATORS, "cdcgan", {"minibatch_discrimination": True, "mbd_kernels": 0}, "mbd_kernels >= 1 and mbd_kernel_dim >= 1, got 0 and 5"),
    (GENERATORS, "acgan", {"num_classes": 0}, "needs num_classes >= 2.*'dcgan'"),
    (DISCRIMINATORS, "acgan", {"num_classes": 0}, "needs num_classes >= 2.*'dcgan'"),
    (GENERATORS, "sagan", {"heads": 0}, "heads must be a positive int"),
    (DISCRIMINATORS, "sagan", {"attention_resolutions": [0]}, "attention_resolutions must be a list of positive ints"),
    (GENERATORS, "style-lite", {"mapping_layers": 0}, "mapping_layers must be >= 1"),
    (DISCRIMINATORS, "style-lite", {"channels": 0}, "channels must be >= 1"),
    (GENERATORS, "triple-gan-attn", {"heads": 0}, "heads must be >= 1"),
    (DISCRIMINATORS, "triple-gan-attn", {"dropout": 1.5}, "dropout probability"),
    (GENERATORS, "biggan", {"z_dim": 2}, "hierarchical z needs z_dim >= 3"),
    (DISCRIMINATORS, "biggan", {"heads": 0}, "heads must be >= 1"),
    (GENERATORS, "stylegan2", {"mixing_prob": 1.5}, r"mixing_prob must lie in \[0, 1\]"),
    (DISCRIMINATORS, "stylegan2", {"channels": 0}, "channels must be >= 1"),
    (GENERATORS, "progan", {"phase_steps": 0}, "phase_steps must be >= 1"),
    (DISCRIMINATORS, "progan", {"channels": 0}, "channels must be >= 1"),
]


@pytest.mark.parametrize("registry,name,kwargs,message", BAD, ids=[f"{r.kind}-{n}" for r, n, _, _ in BAD])
def test_factories_reject_impossible_combinations(registry, name, kwargs, message):
    args = {"image_size": 16, "channels": 1, "num_classes": 3, "width": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        registry.create(name, **args)


@pytest.mark.parametrize("registry", [GENERATORS, DISCRIMINATORS], ids=lambda r: r.kind)
@pytest.mark.parametrize("name", GENERATORS.names())
def test_every_factory_rejects_sizes_outside_its_range(registry, name):
    assert {(r, n) for r, n, _, _ in BAD} >= {(GENERATORS, n) for n in GENERATORS.names()} | {
        (DISCRIMINATORS, n) for n in DISCRIMINATORS.names()}  # every factory has its case above
    for size in (4, 256):
        with pytest.raises(ValueError, match=r"image_size must lie in \[8, 128\]"):
            registry.create(name, image_size=size, channels=1, num_classes=0 if name == "dcgan" else 3)


def test_stylegan2_mixes_styles_from_a_cutoff_in_training_only():
    """mixing_prob=1: the layers before a cutoff in [1, num_ws) keep z's w, the rest take a second z's w (the same
    class); in eval mode (and with mixing_prob=0) every layer has z's w; one w broadcasts to every layer."""
    torch.manual_seed(0)
    G = GENERATORS.create("stylegan2", image_size=16, channels=1, num_classes=3, z_dim=8, width=16, w_dim=16,
                          mapping_layers=2, mixing_prob=1.0)
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    G.eval()
    w = G.map(z, y)
    assert torch.equal(G.mapping_ws(z, y), w[:, None].expand(-1, G.num_ws, -1))
    G.train()
    for _ in range(5):
        ws = G.mapping_ws(z, y)
        same = [torch.allclose(ws[:, i], w, atol=1e-6) for i in range(G.num_ws)]
        cutoff = same.index(False)
        assert cutoff >= 1 and not any(same[cutoff:])
        assert all(torch.equal(ws[:, i], ws[:, cutoff]) for i in range(cutoff, G.num_ws))
    G.eval()
    torch.testing.assert_close(G.synthesis(w, "const"), G.synthesis(G.mapping_ws(z, y), "const"))
    assert G.num_ws == len(G.convs) + 1
