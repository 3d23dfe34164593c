"""Fuzzing the dataset readers: truncated files, flipped bits, spliced and appended bytes, in every format.

Property: a damaged file gives the library's own DataError naming it (or loads, where the damage is harmless,
e.g. a flipped pixel), never another exception, and never a hang (a length field that lies must not make a
reader allocate or loop without end: each load runs under an alarm).
"""

from __future__ import annotations

import gzip
import io
import pickle
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ganaug.data import DataError
from ganaug.data import cifar, folder, idx, stl10, svhn


FUZZ = settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def alarm(seconds: int = 20):
    """Fail instead of hanging."""
    def stop(*_):
        raise TimeoutError(f"a reader ran for more than {seconds} s on a damaged file")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@st.composite
def damage(draw, data: bytes) -> bytes:
    """``data`` truncated, bit-flipped, spliced with random bytes, or extended: headers (the first 64 bytes) are
    hit as often as the rest."""
    n = len(data)
    position = draw(st.one_of(st.integers(0, min(63, n - 1)), st.integers(0, n - 1)))
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "append"]))
    if kind == "truncate":
        return data[:position]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            out[position] ^= 1 << draw(st.integers(0, 7))
            position = draw(st.integers(0, n - 1))
        return bytes(out)
    if kind == "splice":
        chunk = draw(st.binary(min_size=1, max_size=32))
        return data[:position] + chunk + data[position + len(chunk):]
    return data + draw(st.binary(min_size=1, max_size=64))


def survives(files: dict[str, bytes], load, target: str, damaged: bytes) -> None:
    """Write ``files`` into a fresh folder with ``target`` damaged, then load: a DataError or a dataset."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(damaged if name == target else data)
        with alarm():
            try:
                load(root)
            except DataError as err:
                assert str(err)  # a message, naming the problem


def idx_bytes(array: np.ndarray) -> bytes:
    return (0x0800 + array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()


def mnist_files(compress: bool) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", 6), ("test", 3)):
        image_name, label_name = idx.FILES[split]
        for name, array in ((image_name, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                            (label_name, (np.arange(n) % 10).astype(np.uint8))):
            raw = idx_bytes(array)
            files[name + (".gz" if compress else "")] = gzip.compress(raw) if compress else raw
    return files


MNIST = {True: mnist_files(True), False: mnist_files(False)}


def cifar_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    files = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        batch = {"batch_label": name, "labels": [(k + i) % 10 for i in range(2)],
                 "data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "filenames": ["x.png"] * 2}
        files[f"cifar-10-batches-py/{name}"] = pickle.dumps(batch, protocol=2)
    files["cifar-10-batches-py/batches.meta"] = pickle.dumps({"label_names": cifar.CLASSES}, protocol=2)
    return files


CIFAR = cifar_files()


def svhn_files() -> dict[str, bytes]:
    files = {}
    for name, n in (("train_32x32.mat", 3), ("test_32x32.mat", 2)):
        buffer = io.BytesIO()
        x = np.random.default_rng(n).integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        scipy.io.savemat(buffer, {"X": x, "y": (np.arange(n) % 10 + 1).astype(np.uint8).reshape(-1, 1)})
        files[name] = buffer.getvalue()
    return files


SVHN = svhn_files()


def stl_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    files = {f"{stl10.FOLDER}/class_names.txt": "\n".join(f"c{i}" for i in range(10)).encode() + b"\n"}
    for name, n in (("train", 2), ("test", 2)):
        files[f"{stl10.FOLDER}/{name}_X.bin"] = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8).tobytes()
        files[f"{stl10.FOLDER}/{name}_y.bin"] = (np.arange(n) % 10 + 1).astype(np.uint8).tobytes()
    return files


STL = stl_files()


def image_bytes(fmt: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


TREE = {f"{split}/{c}/{i}.{ext}": image_bytes(fmt, i) for split in ("train", "test") for c in ("cat", "dog")
        for i, (fmt, ext) in enumerate((("PNG", "png"), ("JPEG", "jpg")))}


READERS = {  # name: (valid files, the reader, the files a test damages)
    "idx-raw": (MNIST[False], lambda root: idx.load_mnist(root, download=False), sorted(MNIST[False])),
    "idx-gz": (MNIST[True], lambda root: idx.load_mnist(root, download=False), sorted(MNIST[True])),
    "cifar-batches": (CIFAR, lambda root: cifar.load_cifar10(root, download=False),
                      [f"cifar-10-batches-py/{n}" for n in ("data_batch_1", "test_batch", "batches.meta")]),
    "svhn-mat": (SVHN, lambda root: svhn.load_svhn(root, download=False), sorted(SVHN)),
    "stl10-bin": (STL, lambda root: stl10.load_stl10(root, download=False), sorted(STL)),
    "image-folder": (TREE, folder.load_folder, ["train/cat/0.png", "train/dog/1.jpg", "test/cat/0.png"]),
}


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_damaged_file_gives_a_data_error_or_a_dataset(reader, data):
    files, load, targets = READERS[reader]
    target = data.draw(st.sampled_from(targets))
    survives(files, load, target, data.draw(damage(files[target])))
