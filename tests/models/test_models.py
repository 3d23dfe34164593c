"""Every registered GAN: shapes at 8/28/32/64/96 px, gray and RGB, a backward pass, no NaN (timm-style, from the registry).

The classifiers get the same checks, at small widths, in test_classifiers.py.
"""

import pytest
import torch

from ganaug.models import DISCRIMINATORS, GENERATORS
from ganaug.models.common import conv_plan

SIZES = [8, 28, 32, 64, 96]


# (unconditional, conditional) support of the architectures that lack one; the rest support both.
SUPPORTS = {"dcgan": (True, False), "acgan": (False, True)}


def supports(name: str, num_classes: int) -> bool:
    return SUPPORTS.get(name, (True, True))[1 if num_classes else 0]


def pair(name, size, channels, num_classes, **d_kwargs):
    G = GENERATORS.create(name, image_size=size, channels=channels, num_classes=num_classes, z_dim=16, width=16)
    D = DISCRIMINATORS.create(name, image_size=size, channels=channels, num_classes=num_classes, width=16, **d_kwargs)
    return G, D


def test_generators_and_discriminators_come_in_pairs():
    assert GENERATORS.names() == DISCRIMINATORS.names()
    assert {"mlp-gan", "dcgan", "cdcgan", "acgan", "sagan", "style-lite"} <= set(GENERATORS.names())


@pytest.mark.parametrize("name", GENERATORS.names())
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_gan_pair_shapes_and_backward(name, size, channels, num_classes):
    if not supports(name, num_classes):
        pytest.skip(f"{name} is {'unconditional' if num_classes else 'conditional'} only")
    torch.manual_seed(0)
    G, D = pair(name, size, channels, num_classes)
    assert G.num_classes == num_classes
    y = torch.arange(4) % 10 if num_classes else None
    x = G(torch.randn(4, 16), y)
    assert x.shape == (4, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # Tanh output, the range of to_float
    out = D(x, y)
    assert out["adv"].shape == (4,) and out["features"].shape[0] == 4 and out["features"].ndim == 2
    if "cls" in out:
        assert out["cls"].shape == (4, num_classes)
    assert set(out) <= {"adv", "features", "cls"}
    (out["adv"].mean() + out["features"].mean() + out.get("cls", torch.zeros(())).mean()).backward()
    for net in (G, D):
        idle = net.inactive_parameters() if hasattr(net, "inactive_parameters") else set()  # progan's other levels
        grads = [(n, p.grad) for n, p in net.named_parameters() if p.requires_grad and n not in idle]
        assert all(g is not None and torch.isfinite(g).all() for _, g in grads), [n for n, g in grads if g is None]


@pytest.mark.parametrize("name", [n for n in GENERATORS.names() if supports(n, 10)])
def test_conditional_models_use_the_label(name):
    torch.manual_seed(0)
    G, D = pair(name, 16, 1, 10)
    G.eval(), D.eval()
    z, x = torch.randn(1, 16).repeat(2, 1), torch.randn(1, 1, 16, 16).repeat(2, 1, 1, 1)
    y = torch.tensor([1, 7])
    g = G(z, y, noise_mode="const") if name in ("style-lite", "stylegan2") else G(z, y)
    assert not torch.allclose(g[0], g[1])
    out = D(x, y)
    if "cls" in out:  # auxiliary classifier: the label is a target, not an input
        assert torch.allclose(out["adv"][0], out["adv"][1])
    else:
        assert not torch.allclose(out["adv"][0], out["adv"][1])


def test_conv_plan_factors_standard_sizes_exactly():
    assert conv_plan(8) == (4, 1, 8)
    assert conv_plan(28) == (7, 2, 28)
    assert conv_plan(32) == (4, 3, 32)
    assert conv_plan(96) == (3, 5, 96)
    base, n_up, work = conv_plan(11)  # no exact factorisation: runs at the next size that factors
    assert work >= 11 and work == base * 2**n_up


def test_dcgan_generator_follows_the_003_layout():
    G = GENERATORS.create("dcgan", image_size=32, channels=3, num_classes=0)
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.kernel_size, c.stride, c.padding) for c in convs] == [((4, 4), (1, 1), (0, 0))] + [((4, 4), (2, 2), (1, 1))] * 3
    bns = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == len(convs) - 1  # BatchNorm on all but the last layer
    assert isinstance(list(G.modules())[-1], torch.nn.Tanh)


def test_unknown_model_lists_valid_names():
    with pytest.raises(KeyError, match="valid names: .*dcgan"):
        GENERATORS.create("stylegan9", image_size=8, channels=1)


def test_dcgan_is_unconditional():
    with pytest.raises(ValueError, match="cdcgan"):
        GENERATORS.create("dcgan", image_size=8, channels=1, num_classes=10)
