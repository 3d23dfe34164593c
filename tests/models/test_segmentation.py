"""Segmenters keep the image's size at 64-512 px, gray or RGB; U-Net has the paper's layout at width 64."""

import pytest
import torch

from ganaug.models.segmentation import SEGMENTERS


@pytest.mark.parametrize("name", SEGMENTERS.names())
@pytest.mark.parametrize("size,channels", [(64, 1), (128, 3), (512, 1)])
def test_logits_have_the_image_size(name, size, channels):
    net = SEGMENTERS.create(name, channels=channels, num_classes=3, width=8).eval()
    with torch.no_grad():
        assert net(torch.randn(1, channels, size, size)).shape == (1, 3, size, size)


def test_unet_widths_and_parameters():
    net = SEGMENTERS.create("unet", channels=1, num_classes=2, width=64)  # the paper's 64-128-256-512-1024
    assert [b[0].out_channels for b in net.down] == [64, 128, 256, 512, 1024]
    assert sum(p.numel() for p in net.parameters()) == 31_036_546  # about 31 M, with BatchNorm instead of biases


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        SEGMENTERS.create("unet", channels=1, num_classes=1)
    with pytest.raises(ValueError, match="not divisible by 16"):
        SEGMENTERS.create("unet", channels=1, num_classes=2, width=4)(torch.zeros(1, 1, 40, 40))
