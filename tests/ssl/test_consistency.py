"""FixMatch, FreeMatch and Bad GAN mechanics: the EMA's decay, the views, the confidence mask, the self-adaptive
thresholds and fairness term, the pull-away and entropy terms; and a short real run of each on the digits."""

import math

import pytest
import torch
from torch import nn

from ganaug.config import SSLConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S
from ganaug.errors import ConfigError
from ganaug.models import CLASSIFIERS
from ganaug.ssl import ALGORITHMS, Shape, check_algorithms
from ganaug.ssl.bad_gan import conditional_entropy, pull_away
from ganaug.ssl.ema import ModelEMA, ema_decay
from ganaug.ssl.fixmatch import confident_pseudo_labels, masked_consistency
from ganaug.ssl.freematch import SelfAdaptiveThresholds, fairness_loss
from ganaug.ssl.trainer import train_ssl
from ganaug.ssl.views import WeakStrong

CPU = torch.device("cpu")


def test_ema_decay_warms_up_then_holds():
    assert ema_decay(0.999, 0) == pytest.approx(0.1)  # the first update keeps 90 % of the model
    assert ema_decay(0.999, 10) == pytest.approx(11 / 20)
    assert ema_decay(0.999, 100_000) == 0.999  # (1 + n) / (10 + n) has passed the decay


def test_ema_weights_follow_the_stated_decay():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = ModelEMA(model, decay=0.5)
    expected = 0.0
    for n, w in enumerate([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]):
        with torch.no_grad():
            model.weight.fill_(w)
        d = ema.update(model)
        assert d == pytest.approx(min(0.5, (1 + n) / (10 + n)))
        expected = d * expected + (1 - d) * w
        assert float(ema.module.weight) == pytest.approx(expected)
    assert int(ema.updates) == 6 and not ema.module.weight.requires_grad


def test_pseudo_labels_only_above_the_threshold():
    p = torch.tensor([[0.96, 0.02, 0.02], [0.90, 0.05, 0.05], [0.01, 0.98, 0.01], [0.3, 0.3, 0.4]])
    pseudo, mask = confident_pseudo_labels(p.log(), 0.95)
    assert pseudo.tolist() == [0, 0, 1, 2]
    assert mask.tolist() == [1.0, 0.0, 1.0, 0.0]
    strong = torch.randn(4, 3)
    expected = (nn.functional.cross_entropy(strong, pseudo, reduction="none") * mask).sum() / 4
    assert masked_consistency(strong, pseudo, mask) == pytest.approx(float(expected))


def test_weak_and_strong_views_differ_while_the_image_and_its_label_do_not_move():
    """Each image is one gray level, so a shift or flip leaves it unchanged: the weak view of row i is image i
    itself, and the strong view (RandAugment, Cutout) of row i differs from it; the pseudo-label of the weak view of
    row i is the strong view of row i's target."""
    torch.manual_seed(0)
    levels = torch.linspace(-0.8, 0.8, 32)
    u = levels.view(-1, 1, 1, 1).expand(32, 3, 16, 16).contiguous()
    weak, strong = WeakStrong(16, flip=True)(u)
    assert weak.shape == strong.shape == u.shape
    torch.testing.assert_close(weak, u)
    assert (strong - weak).abs().flatten(1).amax(1).gt(1e-3).float().mean() > 0.9  # (almost) every image changed
    assert weak.min() >= -1 and strong.max() <= 1


def test_views_shift_by_at_most_an_eighth():
    torch.manual_seed(0)
    u = torch.zeros(64, 1, 32, 32)
    u[:, :, 12:20, 12:20] = 1.0
    weak, _ = WeakStrong(32, flip=False)(u)
    rows = weak.gt(0).any(3).squeeze(1).float().argmax(1)  # first lit row
    assert (rows - 12).abs().max() <= 4 and (rows != 12).any()


def test_freematch_thresholds_rise_with_confidence_and_are_lower_for_rarely_predicted_classes():
    sat = SelfAdaptiveThresholds(4, momentum=0.9)
    assert float(sat.tau) == pytest.approx(0.25)  # tau_0 = 1/C
    probs = torch.tensor([[0.9, 0.04, 0.03, 0.03]] * 6 + [[0.05, 0.85, 0.05, 0.05]] * 2)
    taus = []
    for _ in range(20):
        sat.update(probs)
        taus.append(float(sat.tau))
    assert all(b > a for a, b in zip(taus, taus[1:]))  # the global threshold rises towards the mean confidence
    assert taus[-1] < 0.9 and taus[-1] == pytest.approx(0.25 * 0.9**20 + 0.8875 * (1 - 0.9**20), rel=1e-5)
    t = sat.thresholds()
    assert t[0] == pytest.approx(float(sat.tau))  # the most predicted class gets the global threshold
    assert t[1] < t[0] and t[2] < t[1]  # classes the model predicts less get a lower, more permissive, threshold


def test_freematch_mask_uses_the_updated_per_class_threshold():
    sat = SelfAdaptiveThresholds(2, momentum=0.0)  # momentum 0: the EMAs are this batch's values
    logits = torch.tensor([[3.0, 0.0], [0.2, 0.0], [0.0, 1.0]])
    probs = logits.softmax(1)
    pseudo, mask = sat(logits)
    tau = probs.max(1).values.mean()
    t = tau * probs.mean(0) / probs.mean(0).max()
    assert pseudo.tolist() == [0, 0, 1]
    assert mask.tolist() == [float(probs[i].max() >= t[pseudo[i]]) for i in range(3)] == [1.0, 0.0, 1.0]


def test_fairness_term_is_usbs_negative_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(6, 3)
    mask = torch.tensor([1.0, 1, 0, 1, 1, 0])
    p_model, hist = torch.tensor([0.5, 0.3, 0.2]), torch.tensor([0.6, 0.3, 0.1])
    prob = logits[mask.bool()].softmax(1)
    h = torch.bincount(prob.argmax(1), minlength=3).float()
    h = h / h.sum()
    a = p_model / hist / (p_model / hist).sum()
    b = prob.mean(0) * torch.where(h > 0, 1 / h, 0 * h)
    b = b / b.sum()
    assert float(fairness_loss(logits, mask, p_model, hist)) == pytest.approx(float((a * (b + 1e-12).log()).sum()))
    assert float(fairness_loss(logits, torch.zeros(6), p_model, hist)) == 0.0


def test_pull_away_and_conditional_entropy():
    same = torch.ones(4, 5)
    assert float(pull_away(same)) == pytest.approx(1.0)  # identical directions
    assert float(pull_away(torch.eye(4))) == pytest.approx(0.0)  # orthogonal
    assert float(conditional_entropy(torch.zeros(3, 4))) == pytest.approx(math.log(4))
    assert float(conditional_entropy(torch.tensor([[50.0, 0.0]]))) == pytest.approx(0.0, abs=1e-6)


def test_fixmatch_draws_mu_unlabelled_per_labelled_and_evaluates_the_ema():
    cfg = SSLConfig(options={"fixmatch": {"mu": 3}}, width=8, batch_size=4, steps=2)
    algo = ALGORITHMS.get("fixmatch")(cfg, cfg.options["fixmatch"], Shape(8, 1, 10), CPU)
    assert algo.unlabeled_batch_size() == 12 and algo.classifier() is algo.ema
    assert "ema" in algo.networks and algo.views is not None


@pytest.mark.parametrize("name", ["supervised", "semi-cnn", "fixmatch", "freematch"])
def test_single_network_methods_share_the_network_option(name):
    """The floor and the methods without a generator train the same ``network``, so a contest compares methods."""
    cfg = SSLConfig(width=8, batch_size=4, steps=2)
    default = ALGORITHMS.get(name)(cfg, {}, Shape(32, 3, 10), CPU).network("classifier")
    wrn = ALGORITHMS.get(name)(cfg, {"network": "wrn-28-2"}, Shape(32, 3, 10), CPU).network("classifier")
    assert type(default).__name__ != type(wrn).__name__
    assert sum(p.numel() for p in wrn.parameters()) == sum(
        p.numel() for p in CLASSIFIERS.create("wrn-28-2", image_size=32, channels=3, num_classes=10).parameters())
    with pytest.raises(ConfigError, match=f"options.{name}: network='wrn': .*unknown classifier 'wrn'; valid names: .*wrn-28-2"):
        check_algorithms([name], {name: {"network": "wrn"}})


@pytest.mark.parametrize("name, options, steps, floor", [("fixmatch", {"mu": 2}, 60, 0.5),
                                                         ("freematch", {"mu": 2}, 60, 0.5),
                                                         ("bad-gan", {"layout": "mlp"}, 150, 0.3)])
def test_short_run_learns_the_digits(name, options, steps, floor):
    train = load_dataset("digits").train
    labeled, unlabeled = S.take_per_class(train, [10] * 10, seed=0)
    cfg = SSLConfig(options={name: options}, width=8, batch_size=20, unlabeled_batch_size=40, steps=steps,
                    eval_every=steps // 2)
    res = train_ssl(cfg, name, labeled, unlabeled, 0, CPU, val=train, progress=False)
    assert res.history[-1]["val_acc"] > floor  # 10 % is chance (the GAN's K+1 classifier starts slower)
    if name == "freematch":
        assert 0.1 < res.history[-1]["tau"] < 1.0
