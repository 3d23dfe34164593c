"""The long-tail losses are the formulas of their papers: checked against F.cross_entropy on hand-built logits."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganaug.classifier.losses import (LOSSES, effective_number_weights, ldam_margins, log_prior)
from ganaug.config import RemediesConfig

COUNTS = [100, 20, 5]
LOGITS = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
Y = torch.tensor([0, 1, 2, 2, 1, 0])


def ce(name, step=0, total=10, **options):
    logits, weight = LOSSES.create(name, counts=COUNTS, cfg=RemediesConfig(**options))(LOGITS, Y, step, total)
    return F.cross_entropy(logits, Y, weight=weight), weight


@pytest.mark.parametrize("tau", [0.0, 1.0, 1.7])
def test_logit_adjusted_is_cross_entropy_on_logits_plus_tau_log_prior(tau):
    prior = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    loss, weight = ce("logit-adjusted", tau=tau)
    assert weight is None
    torch.testing.assert_close(loss, F.cross_entropy(LOGITS + tau * prior.log(), Y))
    torch.testing.assert_close(log_prior(COUNTS).exp().sum(), torch.tensor(1.0))


def test_balanced_softmax_is_cross_entropy_on_logits_plus_log_counts():
    loss, _ = ce("balanced-softmax")
    torch.testing.assert_close(loss, F.cross_entropy(LOGITS + torch.tensor(COUNTS).float().log(), Y))


def test_balanced_softmax_equals_logit_adjustment_at_tau_1():
    """log n and log(n / N) differ by a constant per row, which softmax ignores."""
    torch.testing.assert_close(ce("balanced-softmax")[0], ce("logit-adjusted", tau=1.0)[0])


def test_ldam_margins_follow_n_to_the_minus_quarter_and_the_largest_is_max_margin():
    m = ldam_margins(COUNTS, 0.7)
    assert m.max().item() == pytest.approx(0.7) and m.argmax().item() == 2  # the rarest class
    for j in range(3):
        assert m[j].item() == pytest.approx(0.7 * (COUNTS[2] / COUNTS[j]) ** 0.25)


def test_ldam_subtracts_the_margin_from_the_true_class_only_and_scales_by_s():
    cfg = RemediesConfig(max_margin=0.5, ldam_scale=30.0, drw_start=1.0)
    logits, weight = LOSSES.create("ldam-drw", counts=COUNTS, cfg=cfg)(LOGITS, Y, 0, 10)
    m = ldam_margins(COUNTS, 0.5)
    expected = 30.0 * LOGITS.clone()
    for i, y in enumerate(Y.tolist()):
        expected[i, y] -= 30.0 * m[y]
    torch.testing.assert_close(logits, expected)
    assert weight is None  # before the DRW switch


def test_effective_number_weights():
    w = effective_number_weights(COUNTS, 0.9999)
    raw = torch.tensor([(1 - 0.9999) / (1 - 0.9999 ** n) for n in COUNTS])
    torch.testing.assert_close(w, raw / raw.sum() * 3)
    assert w.sum().item() == pytest.approx(3.0) and w[2] > w[1] > w[0]


@pytest.mark.parametrize("name", ["drw", "ldam-drw"])
def test_deferred_weights_switch_on_at_drw_start(name):
    """None (uniform) before int(drw_start * total) updates, the effective-number weights from then on."""
    hook = LOSSES.create(name, counts=COUNTS, cfg=RemediesConfig(drw_start=0.8, drw_beta=0.999))
    assert [hook(LOGITS, Y, step, 10)[1] is None for step in range(10)] == [True] * 8 + [False] * 2
    torch.testing.assert_close(hook(LOGITS, Y, 8, 10)[1], effective_number_weights(COUNTS, 0.999))
    if name == "drw":  # plain logits, so the loss after the switch is the weighted cross-entropy
        logits, w = hook(LOGITS, Y, 9, 10)
        torch.testing.assert_close(F.cross_entropy(logits, Y, weight=w),
                                   F.cross_entropy(LOGITS, Y, weight=effective_number_weights(COUNTS, 0.999)))


def test_an_empty_class_keeps_the_losses_finite():
    for name in LOSSES.names():
        logits, w = LOSSES.create(name, counts=[10, 0, 3], cfg=RemediesConfig(drw_start=0.0))(LOGITS, Y, 5, 10)
        assert torch.isfinite(logits).all() and (w is None or torch.isfinite(w).all())
    assert math.isfinite(log_prior([10, 0, 3])[1].item())
