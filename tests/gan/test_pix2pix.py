"""pix2pix from masks to images: an image of the mask's size and channels, and a few steps lower the L1 loss;
deformed masks stay masks."""

import pytest
import torch

from ganaug.config import Pix2PixConfig
from ganaug.data.segmentation import deform
from ganaug.gan.pix2pix import train_pix2pix


@pytest.mark.parametrize("channels,size", [(1, 32), (3, 64)])
def test_an_image_of_the_masks_size_and_the_l1_loss_falls(channels, size):
    torch.manual_seed(0)
    masks = (torch.rand(6, size, size) > 0.6).long()
    images = masks[:, None].float().expand(-1, channels, -1, -1) * 1.2 - 0.6  # the image is its mask, in grey levels
    cfg = Pix2PixConfig(width=4, d_width=4, steps=80, batch_size=2, lr=2e-3)

    def l1(steps: int) -> float:
        model, _ = train_pix2pix(cfg.model_copy(update={"steps": steps}), images, masks, 2, 16, 0, torch.device("cpu"),
                                 progress=False)
        with torch.no_grad():
            out = model(masks)
        assert out.shape == (6, channels, size, size) and out.abs().max() <= 1
        return (out - images).abs().mean().item()

    assert l1(80) < 0.5 * l1(1)


def test_deformed_masks_keep_their_classes_and_move_with_their_images():
    masks = torch.randint(0, 3, (4, 32, 32))
    images = masks[:, None].float() / 2 - 0.5
    new_masks, new_images = deform(masks, 6.0, 6.0, torch.Generator().manual_seed(0), images)
    assert new_masks.dtype == torch.int64 and set(new_masks.unique().tolist()) <= {0, 1, 2}
    assert (new_masks != masks).float().mean() > 0.05  # it moved
    agree = ((new_images[:, 0] + 0.5) * 2).round().long() == new_masks
    assert agree.float().mean() > 0.9  # the image followed its mask (bilinear vs argmax differ at edges only)
