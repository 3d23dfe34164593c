"""RandAugment and TrivialAugment (kornia's) on the trainer's batches: shape, range and dtype kept, seeded."""

import pytest
import torch

from ganaug.augment.auto import POLICIES
from ganaug.config import RemediesConfig


@pytest.mark.parametrize("name", POLICIES.names())
@pytest.mark.parametrize("channels", [1, 3])
def test_policies_keep_shape_range_dtype_and_are_seeded(name, channels):
    x = torch.rand(16, channels, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    policy = POLICIES.create(name, cfg=RemediesConfig(randaugment_n=2, randaugment_m=15))
    outs = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        outs.append(policy(x))
    y = outs[0]
    assert y.shape == x.shape and y.dtype == x.dtype and y.min() >= -1 and y.max() <= 1
    assert torch.equal(outs[0], outs[1]) and not torch.equal(outs[0], outs[2])
    assert not torch.equal(y, x)  # it changed the batch


def test_grey_batches_go_through_every_randaugment_operation():
    """kornia's colour operations need three channels; grey batches are repeated and averaged back."""
    x = torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    policy = POLICIES.create("randaugment", cfg=RemediesConfig(randaugment_n=3))
    for seed in range(20):
        torch.manual_seed(seed)
        assert policy(x).shape == x.shape
