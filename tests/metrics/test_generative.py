"""All generative metrics from one extraction: each equals its own function on the same features; labels are honest."""

import pytest
import torch

from ganaug.data.digits import load_digits
from ganaug.metrics import ClassifierFeatures, fid, generative_metrics, inception_score, kid, prdc, report_label
from ganaug.models.cnn import SmallCNN


def test_generative_metrics_equal_the_single_metrics():
    data = load_digits()
    torch.manual_seed(0)
    ext = ClassifierFeatures(SmallCNN(8, 1, 10, width=8), "digits small-cnn features (untrained)")
    real, gen = data.train.images[:300], data.test.images[:200]
    out = generative_metrics(ext, real, gen, kid_subsets=5, kid_subset_size=100, is_splits=4, seed=1)
    r, g = ext.extract(real), ext.extract(gen)
    assert out["fid"] == fid(r.features, g.features, ext.name)
    assert out["kid"] == kid(r.features, g.features, ext.name, subsets=5, subset_size=100, seed=1)
    assert out["prdc"] == prdc(r.features, g.features, ext.name)
    assert out["inception_score"]["is_mean"] == pytest.approx(
        inception_score(g.logits.double().softmax(1), ext.name, splits=4, shuffle_seed=1)["is_mean"])
    assert out["labels"]["FID"] == "FID (digits small-cnn features (untrained))"


def test_only_verified_inception_features_get_the_plain_name():
    assert report_label("FID", "inception-v3 pool3 (pt_inception-2015-12-05, pytorch-fid preprocessing)") == "FID"
    assert report_label("FID", "inception-v3 pool3 (unverified weights x.pth, pytorch-fid preprocessing)").startswith("FID (")
    assert report_label("KID", "digits small-cnn features") == "KID (digits small-cnn features)"
