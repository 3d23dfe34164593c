"""Classic augmentation on tensors (Gao's Exp2) and the DCGAN study's strengthened images."""

import torch

from ganaug.augment.classic import ClassicAugment, strengthened
from ganaug.config import ClassicAugConfig
from ganaug.data import ImageDataset

OFF = dict(flip=0.0, crop_padding=0.0, rotation=0.0, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0)


def batch(n=16, c=3, size=16, seed=0):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_changes_images_keeps_shape_and_range_and_is_seeded():
    aug = ClassicAugment(ClassicAugConfig(), 16, 3)
    x = batch()
    torch.manual_seed(1)
    a = aug(x)
    torch.manual_seed(1)
    b = aug(x)
    assert a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.allclose(a, x)
    assert len(aug.ops) == 4  # flip, crop, rotation, colour jitter


def test_each_image_is_drawn_separately():
    x = batch(64).clone()
    x[:] = x[:1]  # 64 copies of one image
    out = ClassicAugment(ClassicAugConfig(**{**OFF, "rotation": 30.0}), 16, 3)(x)
    assert len({o.numpy().tobytes() for o in out}) > 32


def test_flip_alone_mirrors_and_nothing_is_identity():
    x = batch()
    assert torch.equal(ClassicAugment(ClassicAugConfig(**OFF), 16, 3)(x), x)
    flipped = ClassicAugment(ClassicAugConfig(**{**OFF, "flip": 1.0}), 16, 3)(x)
    assert torch.allclose(flipped, x.flip(-1), atol=1e-6)


def test_gray_images_get_no_saturation_or_hue():
    aug = ClassicAugment(ClassicAugConfig(hue=0.1), 8, 1)
    assert aug(batch(c=1, size=8)).shape == (16, 1, 8, 8)


def test_strengthened_counts_labels_and_rotation_colour_only():
    g = torch.Generator().manual_seed(0)
    real = ImageDataset(torch.randint(0, 256, (10, 3, 8, 8), generator=g, dtype=torch.uint8),
                        torch.tensor([0] * 6 + [1] * 3 + [2]), ["a", "b", "c"])
    s = strengthened(real, [4, 7, 0], ClassicAugConfig(), seed=3)
    assert s.class_counts() == [4, 7, 0] and s.images.dtype == torch.uint8 and (s.indices == -1).all()
    assert torch.equal(s.images, strengthened(real, [4, 7, 0], ClassicAugConfig(), seed=3).images)
    # With rotation and colour off, the images are real ones: each image of a class is used before any repeats.
    plain = strengthened(real, [4, 7, 0], ClassicAugConfig(**OFF), seed=3)
    rows = {r.numpy().tobytes(): i for i, r in enumerate(real.images)}
    used = [rows[r.numpy().tobytes()] for r in plain.images]
    assert len(set(used[:4])) == 4 and all(real.labels[i] == 0 for i in used[:4])
    assert sorted(used[4:7]) == [6, 7, 8] and sorted(used[7:10]) == [6, 7, 8]
