"""ganaug's FID Inception against torch-fidelity's, when torch-fidelity is importable (it needs torchvision,
which ganaug never installs, so this is skipped here; it ran once against torch-fidelity 0.4.0 with
pool3 differences of ~5e-7 relative). Same weights, same uint8 images, TF1-style preprocessing."""

import pytest
import torch

from ganaug.metrics import InceptionV3Features

reference = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")


def test_pool3_and_logits_match_torch_fidelity(tmp_path, make_inception):
    net = make_inception(3)
    with torch.no_grad():
        net.fc.bias.uniform_(-1, 1)
    path = tmp_path / "w.pth"
    torch.save(net.state_dict(), path)
    ref = reference.FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path))
    ours = InceptionV3Features.from_file(path, preprocessing="torch-fidelity")
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        pool3, logits = ref(images)
    out = ours.extract(images)
    torch.testing.assert_close(out.features, pool3, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(out.logits, logits, rtol=1e-5, atol=1e-3)
