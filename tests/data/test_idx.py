"""MNIST / Fashion-MNIST IDX loaders: the real files, and every kind of broken file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from ganaug.data import DataError, load_dataset
from ganaug.data import idx

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # shared/datasets/mnist/README.md
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path: Path, array: np.ndarray, magic: int | None = None, compress: bool = True) -> Path:
    """An IDX file as the official ones: big-endian magic, one uint32 per dim, raw uint8 values."""
    magic = magic if magic is not None else 0x0800 + array.ndim
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def write_mnist(root: Path, n_train: int = 12, n_test: int = 5, compress: bool = True, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        image_name, label_name = idx.FILES[split]
        suffix = ".gz" if compress else ""
        write_idx(root / f"{image_name}{suffix}", images, compress=compress)
        write_idx(root / f"{label_name}{suffix}", labels, compress=compress)
        data[split] = (images, labels)
    return data


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="../shared/datasets/mnist not found beside the repository")
def test_mnist_real_files_exact_counts():
    splits = load_dataset("mnist", data_dir=SHARED, download=False)
    assert splits.name == "mnist"
    assert splits.train.images.shape == (60000, 1, 28, 28) and splits.test.images.shape == (10000, 1, 28, 28)
    assert splits.train.images.dtype == torch.uint8 and splits.train.labels.dtype == torch.int64
    assert splits.train.class_names == [str(d) for d in range(10)]
    assert splits.train.class_counts() == MNIST_TRAIN_COUNTS
    assert splits.test.class_counts() == MNIST_TEST_COUNTS
    assert int(splits.train.images.max()) == 255 and int(splits.train.images.min()) == 0


@pytest.mark.skipif(not idx._has_files(idx.FASHION_SYSTEM_DIR), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package(tmp_path):
    splits = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)  # empty data dir -> system copy
    assert splits.train.class_names[:2] == ["T-shirt/top", "Trouser"] and splits.train.class_names[-1] == "Ankle boot"
    assert splits.train.class_counts() == [6000] * 10
    assert splits.test.class_counts() == [1000] * 10
    assert splits.train.images.shape[1:] == (1, 28, 28)


@pytest.mark.parametrize("compress", [True, False])
def test_small_idx_round_trip(tmp_path, compress):
    data = write_mnist(tmp_path / "mnist", compress=compress)
    splits = load_dataset("mnist", data_dir=tmp_path, download=False)
    for split in ("train", "test"):
        ds = getattr(splits, split)
        images, labels = data[split]
        assert np.array_equal(ds.images[:, 0].numpy(), images)
        assert np.array_equal(ds.labels.numpy(), labels)


def test_fashion_mnist_prefers_the_data_dir(tmp_path):
    data = write_mnist(tmp_path / "fashion-mnist", n_train=7)
    splits = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    assert len(splits.train) == 7 and np.array_equal(splits.train.images[:, 0].numpy(), data["train"][0])
    assert splits.train.class_names[0] == "T-shirt/top"


def test_wrong_magic_number(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root)
    bad = write_idx(root / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8), magic=2049)
    with pytest.raises(DataError, match=r"wrong magic number 2049, expected 2051") as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert str(bad) in str(err.value)


def test_truncated_file(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root, compress=False)
    path = root / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_truncated_gzip(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root)
    path = root / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match="corrupt or truncated") as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_label_out_of_range(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root)
    labels = np.zeros(12, np.uint8)
    labels[4] = 10
    path = write_idx(root / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=r"out of range 0\.\.9, first at index 4 \(value 10\)") as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_image_label_count_mismatch(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(DataError, match="12 images but .* 11 labels"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def test_missing_files_offline_name_each_file(tmp_path):
    root = tmp_path / "mnist"
    write_mnist(root)
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert str(root / "t10k-labels-idx1-ubyte.gz") in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz" in message
    assert "train-images" not in message  # present files are not listed
