"""CycleGAN's networks: the generator keeps the image's shape at any size, the PatchGAN gives a map of patches."""

import pytest
import torch

from ganaug.models import TRANSLATORS
from ganaug.models.cyclegan import patch_strides


@pytest.mark.parametrize("size", [8, 28, 30, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_keeps_the_shape_and_discriminator_gives_a_patch_map(size, channels):
    G = TRANSLATORS.create("cyclegan", image_size=size, channels=channels, width=8, blocks=2)
    D = TRANSLATORS.create("patchgan", image_size=size, channels=channels, width=8)
    x = torch.rand(2, channels, size, size) * 2 - 1
    y = G(x)
    assert y.shape == x.shape and y.abs().max() <= 1  # tanh
    out = D(x)
    assert out.shape[:2] == (2, 1) and 2 <= out.shape[2] == out.shape[3] < size  # each output judges one patch


def test_patch_strides_and_widths():
    assert [patch_strides(s) for s in (8, 16, 28, 32, 64, 256)] == [1, 2, 2, 3, 3, 3]
    D = TRANSLATORS.create("patchgan", image_size=256, channels=3, width=64)  # the paper's 70x70 PatchGAN
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1] and [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert D(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # the paper's 30x30 map of 70x70 patches
    G = TRANSLATORS.create("cyclegan", image_size=32, channels=3, width=64, blocks=9)
    D_params, G_params = (sum(p.numel() for p in net.parameters()) for net in (D, G))
    assert (G_params, D_params) == (11_378_179, 2_764_737)  # the reference implementation's 11.378 M and 2.765 M


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="image_size >= 8"):
        TRANSLATORS.create("cyclegan", image_size=4, channels=1)
