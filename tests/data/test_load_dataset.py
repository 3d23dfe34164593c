"""``load_dataset`` resizing / channel conversion, done in chunks and not at all when nothing changes."""

from __future__ import annotations

import torch

import ganaug.data as data
from ganaug.data import DatasetSplits, ImageDataset, load_dataset


def test_chunked_reshape_equals_one_pass(monkeypatch):
    images = torch.randint(0, 256, (10, 3, 12, 12), dtype=torch.uint8)
    whole = data._reshape_images(images, 8, 1)
    monkeypatch.setattr(data, "RESHAPE_CHUNK", 3)
    chunked = data._reshape_images(images, 8, 1)
    assert chunked.shape == (10, 1, 8, 8) and torch.equal(chunked, whole)


def test_reshape_without_change_returns_the_same_tensor():
    images = torch.zeros((5, 3, 8, 8), dtype=torch.uint8).transpose(2, 3)  # non-contiguous, like a memory map
    assert data._reshape_images(images, 8, 3) is images
    assert data._reshape_images(images, None, None) is images


def test_load_dataset_converts_every_split(monkeypatch):
    ds = ImageDataset(torch.full((4, 1, 8, 8), 7, dtype=torch.uint8), torch.tensor([0, 1, 0, 1]), ["a", "b"])
    unlabeled = torch.full((6, 1, 8, 8), 9, dtype=torch.uint8)
    fake = DatasetSplits(train=ds, test=ds, val=ds, unlabeled=unlabeled, name="fake")
    monkeypatch.setitem(data.DATASETS._entries, "fake", lambda root, download: fake)
    splits = load_dataset("fake", image_size=4, channels=3)
    for part in (splits.train, splits.val, splits.test):
        assert part.images.shape == (4, 3, 4, 4) and int(part.images.min()) == 7 == int(part.images.max())
    assert splits.unlabeled.shape == (6, 3, 4, 4) and int(splits.unlabeled.float().mean()) == 9


def test_the_dataset_folder_itself_is_taken_for_its_parent(tmp_path):
    """--data-dir .../cifar10 means the dataset's folder: never a download into .../cifar10/cifar10."""
    from ganaug.data import dataset_root

    (tmp_path / "cifar10").mkdir()
    assert dataset_root(tmp_path, "cifar10") == tmp_path / "cifar10"
    assert dataset_root(tmp_path / "cifar10", "cifar10") == tmp_path / "cifar10"
    (tmp_path / "cifar10" / "cifar10").mkdir()  # a dataset folder inside one of the same name is still taken
    assert dataset_root(tmp_path / "cifar10", "cifar10") == tmp_path / "cifar10" / "cifar10"
