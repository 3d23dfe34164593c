"""Every registered model: shapes at 8/28/32/64 px, gray and RGB, a backward pass, no NaN (timm-style, from the registry)."""

import pytest
import torch

from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS
from ganaug.models.dcgan import conv_plan

SIZES = [8, 28, 32, 64]


@pytest.mark.parametrize("name", GENERATORS.names())
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_gan_pair_shapes_and_backward(name, size, channels, num_classes):
    if name == "dcgan" and num_classes:
        pytest.skip("dcgan is unconditional")
    torch.manual_seed(0)
    G = GENERATORS.create(name, image_size=size, channels=channels, num_classes=num_classes, z_dim=16, width=16)
    D = DISCRIMINATORS.create(name, image_size=size, channels=channels, num_classes=num_classes, width=16)
    y = torch.arange(4) % 10 if num_classes else None
    x = G(torch.randn(4, 16), y)
    assert x.shape == (4, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # Tanh output, the range of to_float
    out = D(x, y)
    assert out["adv"].shape == (4,) and out["features"].shape[0] == 4
    out["adv"].mean().backward()
    grads = [p.grad for p in G.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", CLASSIFIERS.names())
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_classifier_shapes_and_backward(name, size, channels):
    net = CLASSIFIERS.create(name, image_size=size, channels=channels, num_classes=7)
    out = net(torch.randn(5, channels, size, size))
    assert out.shape == (5, 7)
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


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
