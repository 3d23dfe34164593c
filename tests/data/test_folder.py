"""ImageFolder trees: the real CIFAR-10 tree in ../shared, and small trees written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganaug.data import DataError, load_dataset
from ganaug.data.folder import load_folder

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_tree(root: Path, spec: dict[str, dict[str, int]], size=(8, 8), mode="RGB", seed=0) -> dict[str, list[np.ndarray]]:
    """``spec[split][class] = n`` images; returns the pixel arrays per "split/class" in file order."""
    rng = np.random.default_rng(seed)
    written = {}
    for split, classes in spec.items():
        for name, n in classes.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            arrays = []
            for i in range(n):
                shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
                a = rng.integers(0, 256, shape, dtype=np.uint8)
                Image.fromarray(a, mode).save(folder / f"{i}.png")
                arrays.append(a)
            written[f"{split}/{name}"] = arrays
    return written


@pytest.mark.skipif(not (SHARED / "cifar10").is_dir(), reason="../shared/datasets/cifar10 not found beside the repository")
def test_cifar10_tree_from_shared():
    splits = load_dataset("cifar10", data_dir=SHARED, download=False)
    assert splits.name == "cifar10"
    assert splits.train.images.shape == (30000, 3, 32, 32) and splits.test.images.shape == (10000, 3, 32, 32)
    assert splits.train.class_names == CIFAR_CLASSES and splits.test.class_names == CIFAR_CLASSES
    assert splits.train.class_counts() == [3000] * 10
    assert splits.test.class_counts() == [1000] * 10
    # Spot-check pixels and order: the first training image is train/airplane/00000.png, the last test one truck/00999.png.
    first = np.asarray(Image.open(SHARED / "cifar10/train/airplane/00000.png").convert("RGB"))
    last = np.asarray(Image.open(SHARED / "cifar10/test/truck/00999.png").convert("RGB"))
    assert np.array_equal(splits.train.images[0].permute(1, 2, 0).numpy(), first)
    assert np.array_equal(splits.test.images[-1].permute(1, 2, 0).numpy(), last)


def test_three_classes_with_val_round_trip(tmp_path):
    spec = {
        "train": {"cat": 3, "ant": 2, "bee": 4},
        "val": {"cat": 1, "ant": 1, "bee": 1},
        "test": {"cat": 2, "ant": 2, "bee": 2},
    }
    written = write_tree(tmp_path / "tree", spec)
    splits = load_dataset(f"folder:{tmp_path / 'tree'}")
    assert splits.train.class_names == ["ant", "bee", "cat"]  # sorted folder names
    assert splits.train.class_counts() == [2, 4, 3]
    assert splits.val is not None and splits.val.class_counts() == [1, 1, 1]
    assert splits.test.class_counts() == [2, 2, 2]
    expected = np.stack([a.transpose(2, 0, 1) for c in ("ant", "bee", "cat") for a in written[f"train/{c}"]])
    assert np.array_equal(splits.train.images.numpy(), expected)
    assert splits.train.labels.tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2]


def test_two_classes_no_val_natural_order(tmp_path):
    root = tmp_path / "tree"
    for split in ("train", "test"):
        for c in ("no", "yes"):
            (root / split / c).mkdir(parents=True)
            for i in (1, 2, 10):  # natural order 1, 2, 10 (not 1, 10, 2)
                Image.fromarray(np.full((4, 4), i, np.uint8), "L").save(root / split / c / f"img{i}.png")
    splits = load_folder(root)
    assert splits.val is None and splits.train.num_classes == 2
    assert splits.train.channels == 1  # all gray -> stays gray
    assert splits.train.images[:3, 0, 0, 0].tolist() == [1, 2, 10]


def test_gray_and_colour_choices(tmp_path):
    root = tmp_path / "tree"
    write_tree(root, {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}}, mode="L")
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[..., 0] = 200
    Image.fromarray(colour, "RGB").save(root / "test" / "b" / "9.png")
    default = load_folder(root)
    assert default.train.channels == 3  # one colour image makes the tree RGB
    g = default.train.images[0]
    assert torch.equal(g[0], g[1]) and torch.equal(g[1], g[2])  # gray images replicated
    gray = load_folder(root, channels=1)
    assert gray.test.channels == 1
    assert int(gray.test.images[-1, 0, 0, 0]) == round(0.299 * 200)  # PIL "L" luma of pure red 200
    assert load_folder(root, channels=3).train.channels == 3


def test_jpeg_and_resize_centre_crop(tmp_path):
    root = tmp_path / "tree"
    for split in ("train", "test"):
        for c in ("x", "y"):
            (root / split / c).mkdir(parents=True)
            a = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high; a white square in the centre 20x20
            a[:, 10:30] = 255
            Image.fromarray(a).save(root / split / c / "0.jpg", quality=95)
            Image.fromarray(np.full((30, 30, 3), 128, np.uint8)).save(root / split / c / "1.JPEG")
    splits = load_dataset(f"folder:{root}", image_size=16)
    assert splits.train.images.shape == (4, 3, 16, 16)
    assert int(splits.train.images[0].min()) > 230  # the centre crop keeps only the white square
    assert abs(int(splits.train.images[1].float().mean()) - 128) <= 1


def test_missing_split_folder(tmp_path):
    write_tree(tmp_path / "tree", {"train": {"a": 1, "b": 1}})
    with pytest.raises(DataError, match=r"missing test/"):
        load_folder(tmp_path / "tree")


def test_fewer_than_two_classes(tmp_path):
    write_tree(tmp_path / "tree", {"train": {"a": 2}, "test": {"a": 1}})
    with pytest.raises(DataError, match="need at least 2"):
        load_folder(tmp_path / "tree")


def test_empty_class_folder(tmp_path):
    write_tree(tmp_path / "tree", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    empty = tmp_path / "tree" / "test" / "c"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="empty class folder") as err:
        load_folder(tmp_path / "tree")
    assert str(empty) in str(err.value)


def test_class_set_mismatch(tmp_path):
    write_tree(tmp_path / "tree", {"train": {"a": 1, "b": 1, "c": 1}, "test": {"a": 1, "b": 1, "d": 1}})
    with pytest.raises(DataError, match=r"missing \['c'\], extra \['d'\]"):
        load_folder(tmp_path / "tree")


def test_corrupt_image_names_the_file(tmp_path):
    write_tree(tmp_path / "tree", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    bad = tmp_path / "tree" / "train" / "b" / "1.png"
    bad.write_bytes(bad.read_bytes()[:30])  # truncated PNG
    with pytest.raises(DataError, match="corrupt or unreadable image") as err:
        load_folder(tmp_path / "tree")
    assert str(bad) in str(err.value)


@pytest.mark.parametrize("content, message", [(b"", "empty file (0 bytes), not an image"),
                                              (b"GIF00 not really", "corrupt or unreadable image (not a format Pillow recognises)")])
def test_an_empty_or_unknown_file_says_so_without_a_memory_address(tmp_path, content, message):
    write_tree(tmp_path / "tree", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    bad = tmp_path / "tree" / "train" / "b" / "1.png"
    bad.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_folder(tmp_path / "tree")
    assert str(err.value) == f"{bad}: {message}"  # not "cannot identify image file <_io.BytesIO object at 0x...>"


def test_mismatched_sizes_name_two_files(tmp_path):
    root = tmp_path / "tree"
    write_tree(root, {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    odd = root / "test" / "b" / "0.png"
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(odd)
    with pytest.raises(DataError, match="differ in size") as err:
        load_folder(root)
    message = str(err.value)
    assert str(root / "train" / "a" / "0.png") in message and "8x8" in message
    assert str(odd) in message and "12x10" in message
    assert load_folder(root, image_size=8).test.images.shape == (2, 3, 8, 8)  # resizing resolves it


def test_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_dataset(f"folder:{tmp_path / 'absent'}")
