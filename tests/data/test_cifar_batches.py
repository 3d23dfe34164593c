"""CIFAR-10 python batches written here in the official layout, and the restricted unpickler."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from ganaug.data import DataError, load_dataset
from ganaug.data.cifar import CLASSES, read_pickle

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_batches(root: Path, n: int = 4, seed: int = 0, key=str) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Official layout: a dict per batch, data uint8 (N, 3072) as R, G, B planes, labels a list of ints.

    The official files come from Python 2, whose str keys load as str; ``key=bytes`` mimics a Python 3 re-pickle.
    """
    rng = np.random.default_rng(seed)
    enc = (lambda s: s.encode()) if key is bytes else (lambda s: s)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = {}
    for k, name in enumerate(BATCHES):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [(k + i) % 10 for i in range(n)]
        batch = {enc("batch_label"): enc(name), enc("labels"): labels, enc("data"): data, enc("filenames"): [enc("x.png")] * n}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = (data, labels)
    meta = {enc("label_names"): [enc(c) for c in CLASSES], enc("num_cases_per_batch"): n, enc("num_vis"): 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written


@pytest.mark.parametrize("key", [str, bytes])
def test_batches_round_trip(tmp_path, key):
    written = write_batches(tmp_path / "cifar10", key=key)
    splits = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert splits.train.class_names == CLASSES
    assert len(splits.train) == 20 and len(splits.test) == 4
    data, labels = written["data_batch_2"]
    image = splits.train.images[4 + 1]  # second image of the second batch
    assert np.array_equal(image[0].numpy().ravel(), data[1, :1024])  # red plane, row by row
    assert np.array_equal(image[2].numpy().ravel(), data[1, 2048:])  # blue plane
    assert int(image[0, 0, 1]) == data[1, 1] and int(image[1, 1, 0]) == data[1, 1024 + 32]
    assert splits.train.labels[4:8].tolist() == labels
    assert np.array_equal(splits.test.images.reshape(4, -1).numpy(), written["test_batch"][0])


def test_label_out_of_range(tmp_path):
    write_batches(tmp_path / "cifar10")
    path = tmp_path / "cifar10" / "cifar-10-batches-py" / "test_batch"
    batch = {"data": np.zeros((3, 3072), np.uint8), "labels": [0, 11, 2]}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataError, match=r"out of range 0\.\.9, first at index 1 \(value 11\)") as err:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_wrong_data_shape(tmp_path):
    write_batches(tmp_path / "cifar10")
    path = tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(pickle.dumps({"data": np.zeros((3, 100), np.uint8), "labels": [0, 1, 2]}, protocol=2))
    with pytest.raises(DataError, match=r"must be uint8 \(N, 3072\)") as err:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_restricted_unpickler_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({"data": _Exploit()}, protocol=2))
    with pytest.raises(DataError, match=r"global posix\.system is not allowed|global os\.system is not allowed"):
        read_pickle(path)
    assert not (tmp_path / "pwned.txt").exists()


def test_truncated_batch(tmp_path):
    write_batches(tmp_path / "cifar10")
    path = tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_1"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="not a readable CIFAR python batch") as err:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert str(path) in str(err.value)


def test_missing_batches_offline(tmp_path):
    write_batches(tmp_path / "cifar10")
    (tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DataError, match="data_batch_4") as err:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert "cifar-10-python.tar.gz" in str(err.value) and "data_batch_1" not in str(err.value)
