"""Every registered classifier (timm-style, from the registry): shapes at 8/28/32/64/96 px, gray and RGB, finite
gradients, ``forward = head(features)``, eval determinism, ``width`` and ``input_size``; the papers' parameter
counts; and a few of them really learning the digits."""

import pytest
import torch
import torch.nn.functional as F

from ganaug.checkpoint import Checkpoint, save_checkpoint
from ganaug.classifier.trainer import build_classifier, predict, train_classifier
from ganaug.config import ClassifierConfig, ConfigError, DemoConfig, build_config
from ganaug.data import load_dataset
from ganaug.metrics.features import ClassifierFeatures
from ganaug.models import CLASSIFIERS
from ganaug.models.classifier_base import InputResize

SIZES = [8, 28, 32, 64, 96]
NAMES = CLASSIFIERS.names()
# Narrow versions (the first layer's channels) keep these tests fast; a classifier not listed runs at its own width.
SMALL = {"alexnet": 8, "googlenet": 12, "lenet5": 6, "mlp": 32, "mlp-5": 32, "mlp-128": 16, "resnet18": 8,
         "simple-cnn": 8, "small-cnn": 8,
         "wrn-28-2": 4}
CPU = torch.device("cpu")


def create(name: str, size: int, channels: int = 1, num_classes: int = 7, **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    width = {"width": SMALL[name]} if name in SMALL else {}
    return CLASSIFIERS.create(name, image_size=size, channels=channels, num_classes=num_classes, **width, **kwargs)


def test_the_papers_classifiers_are_registered():
    assert {"small-cnn", "lenet5", "alexnet", "resnet18", "googlenet", "simple-cnn", "mlp"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_features_and_backward(name, size, channels):
    net = create(name, size, channels)
    x, y = torch.randn(3, channels, size, size), torch.tensor([0, 3, 6])
    out = net(x)
    assert out.shape == (3, 7)
    F.cross_entropy(out, y).backward()
    grads = {n: p.grad for n, p in net.named_parameters() if p.requires_grad}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), [n for n, g in grads.items() if g is None]
    with torch.no_grad():
        f = net.features(x)
        assert f.ndim == 2 and f.shape[0] == 3  # a flat penultimate vector
        assert net.head(f).shape == (3, 7)


@pytest.mark.parametrize("name", NAMES)
def test_bf16_channels_last_training_steps_stay_finite(name):
    """The classifier default (bf16 autocast, NHWC) on this CPU's kernels: 5 Adam steps, finite loss and weights."""
    from ganaug.runtime import adam, autocast

    torch.manual_seed(0)
    net = create(name, 8, 1).to(memory_format=torch.channels_last)
    opt = adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(16, 1, 8, 8).contiguous(memory_format=torch.channels_last), torch.arange(16) % 7
    for _ in range(5):
        with autocast(torch.device("cpu"), "bf16"):
            loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
    assert all(torch.isfinite(p).all() for p in net.parameters())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [8, 32])
def test_eval_is_deterministic_batch_independent_and_head_of_features(name, size):
    net = create(name, size, 3)
    net(torch.randn(8, 3, size, size))  # one train-mode pass, so BatchNorm running statistics are not trivial
    net.eval()
    x = torch.randn(5, 3, size, size)
    with torch.no_grad():
        out = net(x)
        assert torch.equal(out, net(x))
        torch.testing.assert_close(net.head(net.features(x)), out)
        torch.testing.assert_close(net(x[:2]), out[:2], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_classifier_features_extractor(name):
    """What the feature metrics use: ``ClassifierFeatures`` gives the features and the model's own logits."""
    net = create(name, 28, 1).eval()
    images = torch.randint(0, 256, (6, 1, 28, 28), dtype=torch.uint8)
    out = ClassifierFeatures(net, f"test {name} features", batch_size=4).extract(images)
    assert out.features.shape[0] == 6 and out.features.ndim == 2
    with torch.no_grad():
        torch.testing.assert_close(out.logits, net(images.float() / 127.5 - 1), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_width_is_the_first_layers_size(name):
    net = CLASSIFIERS.create(name, image_size=16, channels=1, num_classes=3, width=12)
    first = next(m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    assert (first.out_channels if isinstance(first, torch.nn.Conv2d) else first.out_features) == 12


@pytest.mark.parametrize("name", NAMES)
def test_input_size_resizes_before_the_network(name):
    net = create(name, 8, 1, input_size=20).eval()
    assert isinstance(net, InputResize) and net.size == 20
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        out = net(x)
        assert out.shape == (2, 7)
        big = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False, antialias=False)
        torch.testing.assert_close(out, net.net(big))  # the wrapped network is built for, and sees, 20 px
        torch.testing.assert_close(net.head(net.features(x)), out)
        torch.testing.assert_close(net(big), out)  # inputs already at 20 px pass unchanged


# Reference counts at default width, K = 10: kuangliu/pytorch-cifar's LeNet, ResNet18 and GoogLeNet, the common
# CIFAR AlexNet (torchvision's channels, 3x3 stride-2 first conv, 256*2*2 -> 4096 -> 4096), the GAN
# overview's "2,97,910" (Table 1's 4-layer MLP; its 5-layer one adds a 100-unit layer) and the TensorFlow tutorial's Fashion-MNIST MLP.
PAPER_PARAMETERS = {("lenet5", 32, 3): 62_006, ("alexnet", 32, 3): 23_272_266, ("resnet18", 32, 3): 11_173_962,
                    ("googlenet", 32, 3): 6_166_250, ("mlp", 28, 1): 297_910,
                    ("mlp-5", 28, 1): 308_010, ("mlp-128", 28, 1): 101_770,
                    ("wrn-28-2", 32, 3): 1_467_610}  # WRN-28-2: USB's and FixMatch's count


@pytest.mark.parametrize("name, size, channels", list(PAPER_PARAMETERS))
def test_default_width_has_the_papers_parameter_count(name, size, channels):
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        net = CLASSIFIERS.create(name, image_size=size, channels=channels, num_classes=10)
    assert sum(p.numel() for p in net.parameters()) == PAPER_PARAMETERS[name, size, channels]


def test_config_width_and_input_size():
    model, spec = build_classifier(ClassifierConfig(), 8, 1, 10)
    assert "width" not in spec["kwargs"] and model.features[0].out_channels == 32  # small-cnn's own default
    model, spec = build_classifier(ClassifierConfig(model="resnet18", width=16, input_size=12), 8, 1, 10)
    assert spec["kwargs"] == {"image_size": 8, "channels": 1, "num_classes": 10, "width": 16, "input_size": 12}
    assert isinstance(model, InputResize) and model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    for key, bad in (("width", 2), ("input_size", 4)):
        with pytest.raises(ConfigError, match=f"classifier.{key}"):
            build_config(DemoConfig, None, {"classifier": {key: bad}})


def test_resized_classifier_checkpoint_rebuilds_by_name(tmp_path):
    model, spec = build_classifier(ClassifierConfig(model="lenet5", input_size=32), 8, 1, 10)
    save_checkpoint(tmp_path / "ck", {"classifier": (model, spec)}, {}, {}, {})
    rebuilt = Checkpoint(tmp_path / "ck").build("classifier").eval()
    x = torch.randn(3, 1, 8, 8)
    assert isinstance(rebuilt, InputResize) and torch.equal(rebuilt(x), model.eval()(x))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("name", ["lenet5", "mlp", "simple-cnn"])
def test_learns_the_digits(name, digits):
    """About 100 Adam steps at the paper's width (simple-cnn narrower) beat 80 % test accuracy (chance: 10 %)."""
    cfg = ClassifierConfig(model=name, steps=100, width=16 if name == "simple-cnn" else None)
    result = train_classifier(cfg, digits.train, 0, CPU, progress=False)
    accuracy = (predict(result.model, digits.test.images, CPU) == digits.test.labels).float().mean().item()
    assert accuracy > 0.8


def test_wrn_widen_is_the_paper_scale():
    """WRN-28-8 (USB's CIFAR-100 backbone, k = 8): 23.4 M parameters at K = 100; gray 28 px works alike."""
    with torch.device("meta"):
        net = CLASSIFIERS.create("wrn-28-2", image_size=32, channels=3, num_classes=100, widen=8)
        gray = CLASSIFIERS.create("wrn-28-2", image_size=28, channels=1, num_classes=10)
    assert sum(p.numel() for p in net.parameters()) == 23_401_012
    assert sum(p.numel() for p in gray.parameters()) == 1_467_610 - 2 * 9 * 16  # the stem sees 1 channel, not 3
    assert net.head.in_features == 512 and gray.head.in_features == 128
