"""Image sets a user brings (folder or .npz) are read with labels of the dataset's classes, or refused in one line."""

import numpy as np
import pytest
import torch

from ganaug.data.dataset import ImageDataset
from ganaug.data.export import write_image_folder, write_npz
from ganaug.data.imageset import read_image_set
from ganaug.errors import ConfigError

NAMES = ["T-shirt/top", "bag", "coat"]


def dataset(n_per_class=(2, 3, 1), channels=1, size=8, names=NAMES, seed=0) -> ImageDataset:
    g = torch.Generator().manual_seed(seed)
    labels = torch.repeat_interleave(torch.arange(len(n_per_class)), torch.tensor(n_per_class))
    images = torch.randint(0, 256, (len(labels), channels, size, size), generator=g, dtype=torch.uint8)
    return ImageDataset(images, labels, list(names))


def test_a_generated_folder_reads_back_with_the_dataset_labels(tmp_path):
    made = dataset()
    write_image_folder(made, tmp_path / "gen")  # "T-shirt/top" is written as the folder "T-shirt-top"
    got = read_image_set(tmp_path / "gen", like=dataset())
    assert got.class_names == NAMES and got.class_counts() == [2, 3, 1]
    for c in range(3):  # the same images under the same class (order within a class as written)
        assert torch.equal(got.images[got.labels == c], made.images[made.labels == c])
    assert (got.indices == -1).all()  # not positions of a real split


def test_a_subset_of_classes_maps_to_their_dataset_labels(tmp_path):
    only_coat = dataset((4,), names=["coat"])
    write_image_folder(only_coat, tmp_path / "gen")
    got = read_image_set(tmp_path / "gen", like=dataset())
    assert got.class_counts() == [0, 0, 4] and torch.equal(got.images, only_coat.images)


def test_npz_with_names_without_names_and_channels_last(tmp_path):
    made = dataset(channels=3)
    write_npz(made, tmp_path / "a.npz")
    got = read_image_set(tmp_path / "a.npz", like=dataset(channels=3))
    assert torch.equal(got.images, made.images) and torch.equal(got.labels, made.labels)
    np.savez(tmp_path / "b.npz", images=made.images.permute(0, 2, 3, 1).numpy(), labels=made.labels.numpy())
    got = read_image_set(tmp_path / "b.npz", like=dataset(channels=3))  # NHWC, labels index the dataset's classes
    assert torch.equal(got.images, made.images) and torch.equal(got.labels, made.labels)


@pytest.mark.parametrize("case, words", [
    ("size", "images are 1 x 16 x 16"),
    ("channels", "images are 3 x 8 x 8"),
    ("class", "class 'cat' is not a class of the dataset"),
    ("label", "class 5 is not a class of the dataset"),
    ("arrays", "no 'labels' array"),
    ("file", "expected a folder of class folders"),
])
def test_mismatches_are_one_line_naming_what_differs(tmp_path, case, words):
    like = dataset()
    path = tmp_path / "set.npz"
    if case == "size":
        write_npz(dataset(size=16), path)
    elif case == "channels":
        write_npz(dataset(channels=3), path)
    elif case == "class":
        write_image_folder(dataset((1, 1), names=["cat", "bag"]), path := tmp_path / "gen")
    elif case == "label":
        np.savez(path, images=like.images.numpy(), labels=np.full(len(like), 5))
    elif case == "arrays":
        np.savez(path, images=like.images.numpy())
    else:
        path = tmp_path / "images.tar"
        path.write_bytes(b"x")
    with pytest.raises(ConfigError, match=words) as err:
        read_image_set(path, like=like, key="--synthetic")
    assert str(err.value).startswith(f"--synthetic {path}") and "\n" not in str(err.value)
