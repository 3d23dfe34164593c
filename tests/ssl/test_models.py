"""Hu, Zeng & Tian's networks: CBN inference policies and the generator's encoder-to-decoder attention wiring."""

import pytest
import torch
import torch.nn.functional as F

from ganaug.config import SSLConfig
from ganaug.models import CLASSIFIERS, GENERATORS
from ganaug.models.triple_gan_attn import ConditionalBatchNorm2d, CrossAttention2d
from ganaug.ssl import Batch, Shape
from ganaug.ssl.triple_gan_attn import TripleGANAttn, mode_seeking_ratio


def classifier(condition, seed=0):
    torch.manual_seed(seed)
    net = CLASSIFIERS.create("cbn-cnn", image_size=8, channels=1, num_classes=4, width=8, condition=condition)
    for m in net.modules():  # make gamma(y), beta(y) differ between classes (they start equal, as plain BN)
        if isinstance(m, ConditionalBatchNorm2d):
            torch.nn.init.normal_(m.mlp[-1].weight, std=0.5)
    return net.eval()


def test_cbn_really_conditions_on_the_class():
    net, x = classifier("two-pass"), torch.randn(6, 1, 8, 8)
    a = net(x, F.one_hot(torch.zeros(6, dtype=torch.long), 4).float())
    b = net(x, F.one_hot(torch.full((6,), 3), 4).float())
    assert not torch.allclose(a, b)


def test_two_pass_conditions_on_its_own_first_prediction_and_never_needs_a_label():
    net, x = classifier("two-pass"), torch.randn(6, 1, 8, 8)
    first = net(x, torch.full((6, 4), 0.25))  # class-averaged gamma/beta
    expected = net(x, F.one_hot(first.argmax(1), 4).float())
    assert torch.allclose(net(x), expected)
    logits, first_pass = net.train().passes(x)
    assert first_pass is not None and logits.shape == first_pass.shape == (6, 4)
    net.eval()
    both = net(x, both_passes=True)  # passes() as a forward, for DistributedDataParallel
    assert torch.allclose(both[0], net(x)) and torch.allclose(both[1], net(x, torch.full((6, 4), 0.25)))


def test_soft_and_mean_policies():
    x = torch.randn(6, 1, 8, 8)
    soft = classifier("soft")
    first = soft(x, torch.full((6, 4), 0.25))
    assert torch.allclose(soft(x), soft(x, first.softmax(1)))
    mean = classifier("mean")
    assert torch.allclose(mean(x), mean(x, torch.full((6, 4), 0.25)))
    assert mean.train().passes(x)[1] is None  # one pass only


def test_none_policy_is_plain_batchnorm():
    net = classifier("none")
    assert not any(isinstance(m, ConditionalBatchNorm2d) for m in net.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


@pytest.mark.parametrize("condition", ["two-pass", "soft", "mean", "none"])
def test_features_and_head_give_the_logits(condition):
    net, x = classifier(condition), torch.randn(5, 1, 8, 8)
    assert torch.allclose(net.head(net.features(x)), net(x), atol=1e-5)


def test_decoder_attention_takes_keys_and_values_from_the_matching_encoder_layer():
    torch.manual_seed(0)
    G = GENERATORS.create("triple-gan-attn", image_size=28, channels=1, num_classes=10, z_dim=16, width=64)
    encoder_out, attention_in = [], []
    for layer in G.encoder:
        layer.register_forward_hook(lambda m, i, o: encoder_out.append(o))
    for block in G.attention:
        block.register_forward_hook(lambda m, i, o: attention_in.append(i))
    x = G(torch.randn(3, 16), torch.arange(3))
    assert x.shape == (3, 1, 28, 28)
    assert len(attention_in) == len(G.decoder) == 4  # attention in every decoder layer
    for (query, context), skip in zip(attention_in, reversed(encoder_out)):
        assert context is skip  # keys/values: the encoder features of the same resolution
        assert query.shape[2:] == skip.shape[2:] and query.shape[1] == skip.shape[1]


def test_cross_attention_uses_the_context_and_starts_as_identity():
    torch.manual_seed(0)
    block = CrossAttention2d(8, 16, heads=4)
    x, ctx = torch.randn(2, 8, 4, 4), torch.randn(2, 16, 4, 4)
    assert torch.equal(block(x, ctx), x)  # gamma = 0 at start: the residual path alone
    with torch.no_grad():
        block.gamma.fill_(1.0)
    assert not torch.allclose(block(x, ctx), block(x, torch.randn(2, 16, 4, 4)))


def test_mode_seeking_ratio_and_paired_samples():
    """Mao et al.'s ratio: image distance over noise distance between the two halves; the halves share labels."""
    x = torch.zeros(4, 1, 2, 2)
    x[2:] += 0.5
    z = torch.zeros(4, 3)
    z[2:] += 2.0
    assert mode_seeking_ratio(x, z).item() == pytest.approx(0.25)
    assert mode_seeking_ratio(torch.ones(4, 1, 2, 2), z).item() == 0.0  # noise ignored: ratio 0, loss 1 / eps
    opts = {"g_width": 16, "d_width": 16, "z_dim": 8, "diversity": 1.0}
    algo = TripleGANAttn(SSLConfig(width=8), opts, Shape(8, 1, 10), torch.device("cpu"))
    images, y, noise = algo.sample_pairs(10)
    assert images.shape == (10, 1, 8, 8) and torch.equal(y[:5], y[5:]) and not torch.equal(noise[:5], noise[5:])
    torch.manual_seed(0)
    u = torch.rand(8, 1, 8, 8) * 2 - 1
    logs = algo.train_step(Batch(u, torch.arange(8) % 10, u), 1)
    assert logs["mode_seeking_ratio"] > 0  # the term is in the generator's loss when diversity > 0
