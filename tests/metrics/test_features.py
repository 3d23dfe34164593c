"""Feature extractors: classifier features and the FID Inception-v3 (architecture, weight files, preprocessing)."""

import hashlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganaug.classifier.trainer import predict_logits
from ganaug.data import DataError
from ganaug.data.dataset import to_float
from ganaug.metrics import ClassifierFeatures, FeatureExtractor, InceptionV3Features, download_inception_weights
from ganaug.metrics import features as feat
from ganaug.metrics.inception_net import FIDInceptionV3
from ganaug.models.cnn import SmallCNN


def _images(n, channels=1, size=8, seed=0):
    return torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


# --- classifier features -------------------------------------------------------------------------


@pytest.fixture
def cnn():
    torch.manual_seed(0)
    return SmallCNN(image_size=8, channels=1, num_classes=10, width=8).train()  # train mode: the extractor must switch


def test_classifier_features_shapes_and_logits_match_the_model(cnn):
    images = _images(20)
    ext = ClassifierFeatures(cnn, "digits small-cnn features", batch_size=6)
    out = ext.extract(images)
    assert isinstance(ext, FeatureExtractor) and ext.name == "digits small-cnn features"
    assert out.features.shape == (20, 32) and out.logits.shape == (20, 10)
    torch.testing.assert_close(out.logits, predict_logits(cnn, images, torch.device("cpu")))


def test_classifier_features_are_batch_size_independent_and_accept_floats(cnn):
    images = _images(11)
    full = ClassifierFeatures(cnn, "f", batch_size=64).extract(images)
    for bs in (1, 4):
        part = ClassifierFeatures(cnn, "f", batch_size=bs).extract(images)
        torch.testing.assert_close(part.features, full.features, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(part.logits, full.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ClassifierFeatures(cnn, "f").features(to_float(images)), full.features)


def test_classifier_features_refuse_an_inception_name_and_models_without_features(cnn):
    with pytest.raises(ValueError, match="mentions Inception"):
        ClassifierFeatures(cnn, "Inception features")
    with pytest.raises(TypeError, match=r"\.features"):
        ClassifierFeatures(nn.Linear(3, 3), "x")


# --- the FID Inception-v3 ------------------------------------------------------------------------


def test_inception_architecture_matches_the_reference_network():
    net = FIDInceptionV3()
    # torchvision's inception_v3 has 27,161,264 parameters; without its 3,326,696-parameter aux head and
    # with 1008 instead of 1000 classes (+8 x 2049) that is the FID network's 23,850,960.
    assert sum(p.numel() for p in net.parameters()) == 27_161_264 - 3_326_696 + 8 * 2049
    keys = net.state_dict().keys()
    for key in ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch_pool.bn.running_var", "Mixed_6e.branch7x7dbl_5.conv.weight",
                "Mixed_7a.branch7x7x3_4.bn.bias", "Mixed_7c.branch3x3dbl_3b.conv.weight", "fc.weight", "fc.bias"):
        assert key in keys
    assert not any(k.startswith("AuxLogits") for k in keys)


@pytest.fixture(scope="module")
def inception(make_inception):
    return make_inception(0)


def test_inception_outputs_are_batch_size_independent(inception):
    images = _images(2, channels=3, size=16)
    one = InceptionV3Features(inception, "i", batch_size=1).extract(images)
    two = InceptionV3Features(inception, "i", batch_size=2).extract(images)
    assert one.features.shape == (2, 2048) and one.logits.shape == (2, 1008)
    assert (one.features[0] - one.features[1]).abs().max() > 1.0  # the features do depend on the image
    torch.testing.assert_close(one.features, two.features, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(one.logits, one.features @ inception.fc.weight.T, atol=1e-3, rtol=1e-4)  # no fc bias


class _Recorder(nn.Module):
    """Stands in for the network to capture exactly what the preprocessing feeds it."""

    def forward(self, x):
        self.seen = x.clone()
        return x.flatten(1)[:, :4], None


def _tf1_resize_reference(img: np.ndarray, size: int) -> np.ndarray:
    """TensorFlow 1.x resize_bilinear(align_corners=False), one output pixel at a time."""
    h, w = img.shape
    out = np.empty((size, size))
    for i in range(size):
        y = i * h / size
        y0, fy = int(np.floor(y)), y - np.floor(y)
        y1 = min(y0 + 1, h - 1)
        for j in range(size):
            x = j * w / size
            x0, fx = int(np.floor(x)), x - np.floor(x)
            x1 = min(x0 + 1, w - 1)
            top = img[y0, x0] + (img[y0, x1] - img[y0, x0]) * fx
            bottom = img[y1, x0] + (img[y1, x1] - img[y1, x0]) * fx
            out[i, j] = top + (bottom - top) * fy
    return out


def test_pytorch_fid_preprocessing():
    images = _images(2, channels=3, size=10)
    rec = _Recorder()
    InceptionV3Features(rec, "i", preprocessing="pytorch-fid").extract(images)
    expected = 2 * F.interpolate(images.float() / 255, size=(299, 299), mode="bilinear", align_corners=False) - 1
    torch.testing.assert_close(rec.seen, expected, atol=1e-5, rtol=0)


def test_torch_fidelity_preprocessing_and_gray_to_rgb():
    images = _images(1, channels=1, size=7)
    rec = _Recorder()
    InceptionV3Features(rec, "i", preprocessing="torch-fidelity").extract(images)
    assert rec.seen.shape == (1, 3, 299, 299)
    expected = (_tf1_resize_reference(images[0, 0].double().numpy(), 299) - 128) / 128
    for c in range(3):
        np.testing.assert_allclose(rec.seen[0, c].numpy(), expected, atol=1e-5)


def test_tf1_resize_known_case():
    x = torch.tensor([[[[0.0, 2.0], [4.0, 6.0]]]])
    out = feat.tf1_bilinear_resize(x, 4)  # source coordinates 0, .5, 1, 1.5 (clamped to the last pixel)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0.0, 1.0, 2.0, 2.0]))
    torch.testing.assert_close(out[0, 0, :, 0], torch.tensor([0.0, 2.0, 4.0, 4.0]))


# --- weight files --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A .pth in pytorch-fid's layout (random values) and its sha256."""
    torch.manual_seed(1)
    state = FIDInceptionV3().state_dict()
    path = tmp_path_factory.mktemp("w") / "inception.pth"
    torch.save(state, path)
    return path, state, hashlib.sha256(path.read_bytes()).hexdigest()


def _same_state(ext, state):
    loaded = ext.network.state_dict()
    return all(torch.equal(loaded[k], v) for k, v in state.items())


def test_loads_pth_and_names_unverified_weights_honestly(weights):
    path, state, _ = weights
    ext = InceptionV3Features.from_file(path)
    assert _same_state(ext, state)
    assert ext.name == "inception-v3 pool3 (unverified weights inception.pth, pytorch-fid preprocessing)"


def test_published_weights_are_recognised_by_hash(weights, monkeypatch):
    path, _, sha = weights
    monkeypatch.setattr(feat, "INCEPTION_WEIGHTS_SHA256_PREFIX", sha[:8])
    ext = InceptionV3Features.from_file(path, preprocessing="torch-fidelity")
    assert ext.name == "inception-v3 pool3 (pt_inception-2015-12-05, torch-fidelity preprocessing)"


def test_loads_safetensors_converted_from_pth(weights, tmp_path, monkeypatch):
    path, state, sha = weights
    st = feat.inception_weights_to_safetensors(path, tmp_path / "inception.safetensors")
    ext = InceptionV3Features.from_file(st)
    assert _same_state(ext, state) and "unverified" in ext.name
    monkeypatch.setattr(feat, "INCEPTION_WEIGHTS_SHA256_PREFIX", sha[:8])  # the source's hash is recorded
    assert "pt_inception-2015-12-05" in InceptionV3Features.from_file(st).name


def test_legacy_format_without_batchnorm_counters_loads(weights, tmp_path):
    """The published file predates torch's zip format; BatchNorm step counters may be absent."""
    _, state, _ = weights
    path = tmp_path / "old.pth"
    torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, path, _use_new_zipfile_serialization=False)
    assert _same_state(InceptionV3Features.from_file(path), {k: v for k, v in state.items() if "num_batches" not in k})


def test_missing_file_and_wrong_keys_fail_clearly(weights, tmp_path):
    with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05-6726825d.pth"):
        InceptionV3Features.from_file(tmp_path / "nope.pth")
    _, state, _ = weights
    bad = dict(state)
    bad["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    del bad["Mixed_7c.branch_pool.conv.weight"]
    bad["fc.bias"] = torch.zeros(1000)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(ValueError) as err:
        InceptionV3Features.from_file(tmp_path / "bad.pth")
    msg = str(err.value)
    assert "1 missing: Mixed_7c.branch_pool.conv.weight" in msg and "1 unexpected: AuxLogits.fc.weight" in msg
    assert "fc.bias (1000,) != (1008,)" in msg
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch state dict"):
        InceptionV3Features.from_file(tmp_path / "junk.pth")


# --- download (loopback only) --------------------------------------------------------------------


def test_download_checks_the_hash_and_writes_atomically(served, tmp_path, monkeypatch):
    folder, url = served
    payload = b"pretend these are weights" * 1000
    (folder / "w.pth").write_bytes(payload)
    monkeypatch.setattr(feat, "INCEPTION_WEIGHTS_SHA1", hashlib.sha1(payload).hexdigest())
    monkeypatch.setattr(feat, "INCEPTION_WEIGHTS_SHA256_PREFIX", hashlib.sha256(payload).hexdigest()[:8])
    dest = download_inception_weights(tmp_path / "cache", url=f"{url}/w.pth")
    assert dest == tmp_path / "cache" / feat.INCEPTION_WEIGHTS_FILE and dest.read_bytes() == payload

    monkeypatch.setattr(feat, "INCEPTION_WEIGHTS_SHA1", "0" * 40)
    with pytest.raises(DataError, match="checksum mismatch"):
        download_inception_weights(tmp_path / "other", url=f"{url}/w.pth")
    assert list((tmp_path / "other").iterdir()) == []  # nothing half-written is left
    with pytest.raises(DataError, match="could not download"):
        download_inception_weights(tmp_path / "other", url=f"{url}/missing.pth")
