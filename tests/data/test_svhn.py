"""SVHN .mat files written here in the official format: X (32, 32, 3, N) uint8, y (N, 1) with 10 for the digit 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ganaug.data import DataError, load_dataset


def write_mat(path: Path, n: int, seed: int, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = labels if labels is not None else (np.arange(n) % 10 + 1).astype(np.uint8)  # 1..10
    scipy.io.savemat(path, {"X": x, "y": y.reshape(-1, 1)})
    return x, y


def write_svhn(root: Path) -> dict:
    root.mkdir(parents=True)
    return {"train": write_mat(root / "train_32x32.mat", 12, 0), "test": write_mat(root / "test_32x32.mat", 5, 1)}


def test_round_trip_and_label_10_is_zero(tmp_path):
    written = write_svhn(tmp_path / "svhn")
    splits = load_dataset("svhn", data_dir=tmp_path, download=False)
    assert splits.train.class_names == [str(d) for d in range(10)]
    assert splits.train.images.shape == (12, 3, 32, 32) and splits.test.images.shape == (5, 3, 32, 32)
    x, y = written["train"]
    assert np.array_equal(splits.train.images.numpy(), x.transpose(3, 2, 0, 1))
    assert int(splits.train.images[2, 1, 5, 7]) == x[5, 7, 1, 2]  # (row, column, channel, image)
    assert splits.train.labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]  # 10 -> 0
    assert splits.unlabeled is None


def test_extra_becomes_unlabeled(tmp_path):
    write_svhn(tmp_path / "svhn")
    x, _ = write_mat(tmp_path / "svhn" / "extra_32x32.mat", 3, 2)
    splits = load_dataset("svhn", data_dir=tmp_path, download=False)
    assert len(splits.train) == 12  # extra does not enlarge the labeled training split
    assert np.array_equal(splits.unlabeled.numpy(), x.transpose(3, 2, 0, 1))


def test_label_out_of_range(tmp_path):
    write_svhn(tmp_path / "svhn")
    path = tmp_path / "svhn" / "test_32x32.mat"
    write_mat(path, 4, 3, labels=np.array([1, 2, 11, 3], np.uint8))
    with pytest.raises(DataError, match=r"out of range 1\.\.10, first at index 2 \(value 11\)") as err:
        load_dataset("svhn", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_wrong_shape_and_count(tmp_path):
    write_svhn(tmp_path / "svhn")
    path = tmp_path / "svhn" / "train_32x32.mat"
    scipy.io.savemat(path, {"X": np.zeros((28, 28, 1, 2), np.uint8), "y": np.ones((2, 1), np.uint8)})
    with pytest.raises(DataError, match=r"'X' must be uint8 \(32, 32, 3, N\)"):
        load_dataset("svhn", data_dir=tmp_path, download=False)
    scipy.io.savemat(path, {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.ones((3, 1), np.uint8)})
    with pytest.raises(DataError, match="2 images but 3 labels"):
        load_dataset("svhn", data_dir=tmp_path, download=False)


def test_truncated_mat(tmp_path):
    write_svhn(tmp_path / "svhn")
    path = tmp_path / "svhn" / "train_32x32.mat"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match="not a readable SVHN .mat file") as err:
        load_dataset("svhn", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_missing_files_offline(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("svhn", data_dir=tmp_path, download=False)
    message = str(err.value)
    for name in ("train_32x32.mat", "test_32x32.mat"):
        assert str(tmp_path / "svhn" / name) in message
        assert f"http://ufldl.stanford.edu/housenumbers/{name}" in message
