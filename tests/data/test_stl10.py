"""STL-10 binary files written here in the official format: column-major 3x96x96 uint8 images, labels 1..10."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganaug.data import DataError, load_dataset

NAMES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def write_split(folder: Path, name: str, images: np.ndarray, labels: np.ndarray | None) -> None:
    """``images`` (N, 3, 96, 96) as rows; written channel by channel in column-major order, as the official files."""
    images.transpose(0, 1, 3, 2).tofile(folder / f"{name}_X.bin")
    if labels is not None:
        labels.astype(np.uint8).tofile(folder / f"{name}_y.bin")


def write_stl10(root: Path, unlabeled: int = 0) -> dict:
    rng = np.random.default_rng(0)
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    (folder / "class_names.txt").write_text("\n".join(NAMES) + "\n")
    written = {}
    for name, n in (("train", 6), ("test", 4), ("unlabeled", unlabeled)):
        if name == "unlabeled" and not n:
            continue
        images = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)
        labels = None if name == "unlabeled" else (np.arange(n) % 10 + 1)
        write_split(folder, name, images, labels)
        written[name] = (images, labels)
    return written


def test_round_trip_column_major_and_labels(tmp_path):
    written = write_stl10(tmp_path / "stl10", unlabeled=5)
    splits = load_dataset("stl10", data_dir=tmp_path, download=False)
    assert splits.train.class_names == NAMES
    images, labels = written["train"]
    assert torch.equal(splits.train.images, torch.from_numpy(images))
    assert splits.train.images.is_contiguous()
    assert splits.train.labels.tolist() == [0, 1, 2, 3, 4, 5]  # 1..10 -> 0..9
    assert torch.equal(splits.test.images, torch.from_numpy(written["test"][0]))
    assert torch.equal(splits.unlabeled, torch.from_numpy(written["unlabeled"][0]))


def test_column_major_layout_by_hand(tmp_path):
    write_stl10(tmp_path / "stl10")
    raw = np.zeros(3 * 96 * 96, np.uint8)
    raw[1] = 7  # second byte: channel 0, column 0, row 1
    raw[96] = 9  # byte 96: channel 0, column 1, row 0
    raw[96 * 96] = 5  # first byte of channel 1
    raw.tofile(tmp_path / "stl10" / "stl10_binary" / "test_X.bin")
    np.array([10], np.uint8).tofile(tmp_path / "stl10" / "stl10_binary" / "test_y.bin")
    image = load_dataset("stl10", data_dir=tmp_path, download=False).test.images[0]
    assert int(image[0, 1, 0]) == 7 and int(image[0, 0, 1]) == 9 and int(image[1, 0, 0]) == 5
    assert int(image.sum()) == 21


def test_unlabeled_is_optional_and_lazy(tmp_path):
    write_stl10(tmp_path / "stl10")
    assert load_dataset("stl10", data_dir=tmp_path, download=False).unlabeled is None
    write_stl10(tmp_path / "other" / "stl10", unlabeled=3)
    splits = load_dataset("stl10", data_dir=tmp_path / "other", download=False, image_size=32)
    assert splits.unlabeled.shape == (3, 3, 32, 32) and splits.train.images.shape == (6, 3, 32, 32)


def test_truncated_image_file(tmp_path):
    write_stl10(tmp_path / "stl10", unlabeled=2)
    path = tmp_path / "stl10" / "stl10_binary" / "unlabeled_X.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match="not a whole number of 27648-byte") as err:
        load_dataset("stl10", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_label_out_of_range_and_count(tmp_path):
    write_stl10(tmp_path / "stl10")
    path = tmp_path / "stl10" / "stl10_binary" / "train_y.bin"
    np.array([1, 2, 0, 3, 4, 5], np.uint8).tofile(path)
    with pytest.raises(DataError, match=r"out of range 1\.\.10, first at index 2 \(value 0\)") as err:
        load_dataset("stl10", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)
    np.array([1, 2, 3], np.uint8).tofile(path)
    with pytest.raises(DataError, match="3 labels for 6 images"):
        load_dataset("stl10", data_dir=tmp_path, download=False)


def test_missing_files_offline(tmp_path):
    write_stl10(tmp_path / "stl10")
    (tmp_path / "stl10" / "stl10_binary" / "class_names.txt").unlink()
    with pytest.raises(DataError, match="class_names.txt") as err:
        load_dataset("stl10", data_dir=tmp_path, download=False)
    assert "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz" in str(err.value)
