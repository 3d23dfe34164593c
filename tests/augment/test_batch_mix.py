"""mixup and CutMix: the mixed images, targets and lambda are what the papers define, and the trainer's loss on a
mixed batch is the cross-entropy on the mixed targets."""

import pytest
import torch
import torch.nn.functional as F

from ganaug.augment.batch_mix import BATCH_MIXES, CutMix, Mixup, mixed_targets
from ganaug.config import RemediesConfig

X = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(0)) * 2 - 1
Y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


def test_mixup_is_the_stated_convex_combination():
    torch.manual_seed(3)
    ids = torch.arange(8)  # labels that identify each image, so the partner can be read off
    x, partner, lam = Mixup(1.0)(X, ids)
    assert 0 <= lam <= 1 and sorted(partner.tolist()) == list(range(8))
    torch.testing.assert_close(x, lam * X + (1 - lam) * X[partner])
    targets = mixed_targets(Y, Y[partner], lam, 3)
    torch.testing.assert_close(targets, lam * F.one_hot(Y, 3).float() + (1 - lam) * F.one_hot(Y[partner], 3).float())
    logits = torch.randn(8, 3)
    split = lam * F.cross_entropy(logits, Y) + (1 - lam) * F.cross_entropy(logits, Y[partner])
    torch.testing.assert_close(split, F.cross_entropy(logits, targets))  # the trainer's loss = CE on mixed targets


@pytest.mark.parametrize("seed", range(5))
def test_cutmix_lambda_is_one_minus_the_pasted_area(seed):
    torch.manual_seed(seed)
    ids = torch.arange(8)  # labels that identify each image, so the partner can be read off
    x, partner, lam = CutMix(1.0)(X, ids)
    changed = (x != X).any(0).any(0)  # the pixels some image took from its partner
    box = torch.zeros(6, 6, dtype=torch.bool)
    if changed.any():
        rows, cols = torch.nonzero(changed, as_tuple=True)
        box[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
    for i in range(8):
        torch.testing.assert_close(x[i][:, box], X[partner[i]][:, box])  # the box is the partner's
        torch.testing.assert_close(x[i][:, ~box], X[i][:, ~box])  # the rest is the image's own
    assert changed.any() and lam == pytest.approx(1 - box.float().mean().item())


def test_mixes_are_registered_with_their_alpha_and_seeded():
    cfg = RemediesConfig(mixup_alpha=0.4, cutmix_alpha=2.0)
    assert BATCH_MIXES.create("mixup", cfg=cfg).alpha == 0.4 and BATCH_MIXES.create("cutmix", cfg=cfg).alpha == 2.0
    for name in BATCH_MIXES.names():
        mix = BATCH_MIXES.create(name, cfg=cfg)
        torch.manual_seed(1)
        a = mix(X, Y)
        torch.manual_seed(1)
        b = mix(X, Y)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] == b[2]
