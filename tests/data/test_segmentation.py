"""Segmentation folders: reading (the real ISBI 2012 membrane set and folders built here), one-line errors for bad
masks, contiguous folds, and crops / flips / turns that keep image and mask aligned."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganaug.data.errors import DataError
from ganaug.data.segmentation import kfold, load_segfolder, random_crop_flip

ISBI = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "isbi2012-membrane"


def make(root: Path, n: int = 4, size: int = 16, rgb: bool = False, values=(0, 255), classes: list[str] | None = None):
    (root / "images").mkdir(parents=True), (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        shape = (size, size, 3) if rgb else (size, size)
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(root / "images" / f"{i}.png")
        mask = np.array(values, dtype=np.uint8)[rng.integers(0, len(values), (size, size))]
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    if classes:
        (root / "classes.txt").write_text("\n".join(classes) + "\n")
    return root


@pytest.mark.skipif(not ISBI.exists(), reason="../shared/datasets/isbi2012-membrane is not beside the checkout")
def test_reads_the_isbi_membrane_set():
    train, test = load_segfolder(ISBI, image_size=64)
    assert train.images.shape == (30, 1, 64, 64) and train.masks.shape == (30, 64, 64) and test is None
    assert train.class_names == ["0", "255"] and set(train.masks.unique().tolist()) == {0, 1}
    assert 0.74 < train.masks.float().mean() < 0.82  # its README: about 78 % of the pixels are 255 (cell)
    assert train.names[:3] == ["0", "1", "2"]  # natural file order: consecutive slices stay neighbours


@pytest.mark.parametrize("rgb", [False, True])
def test_reads_a_folder_with_class_names_and_a_test_split(tmp_path, rgb):
    root = make(tmp_path / "seg", rgb=rgb, values=(0, 1, 2), classes=["sky", "tree", "road"])
    make(root / "test", n=2, rgb=rgb, values=(0, 1, 2))
    train, test = load_segfolder(root)
    assert train.images.shape == (4, 3 if rgb else 1, 16, 16) and len(test) == 2
    assert train.class_names == ["sky", "tree", "road"] and train.num_classes == 3
    mask = np.asarray(Image.open(root / "masks" / "0.png"))
    assert torch.equal(train.masks[0], torch.from_numpy(mask.astype(np.int64)))  # indices kept as they are


@pytest.mark.parametrize("breaks,message", [
    (lambda r: (r / "masks" / "1.png").unlink(), "no mask 1.png"),
    (lambda r: Image.fromarray(np.zeros((8, 8), np.uint8)).save(r / "masks" / "2.png"), "mask is 8x8"),
    (lambda r: Image.fromarray(np.full((16, 16), 7, np.uint8)).save(r / "masks" / "0.png"), "skip class 2"),
    (lambda r: ((r / "classes.txt").write_text("a\nb\nc\n"),
                Image.fromarray(np.full((16, 16), 5, np.uint8)).save(r / "masks" / "0.png")), "mask value 5 is not a class"),
])
def test_bad_masks_are_one_clear_line(tmp_path, breaks, message):
    root = make(tmp_path / "seg", values=(0, 1))
    breaks(root)
    with pytest.raises(DataError, match=message):
        load_segfolder(root)


def test_contiguous_folds_cover_every_image_once():
    folds = [kfold(30, 5, f) for f in range(5)]
    assert [test for _, test in folds][1] == list(range(6, 12))  # neighbouring slices stay together
    assert sorted(i for _, test in folds for i in test) == list(range(30))
    assert all(set(train).isdisjoint(test) and len(train) + len(test) == 30 for train, test in folds)
    with pytest.raises(DataError, match="5 folds need at least 5 images"):
        kfold(4, 5, 0)


def test_crops_flips_and_turns_keep_image_and_mask_aligned():
    """An image equal to its mask (x 40) stays equal to it through every drawn transform."""
    masks = torch.randint(0, 3, (16, 20, 24))
    images = (masks * 40).to(torch.uint8)[:, None].repeat(1, 3, 1, 1)
    x, m = random_crop_flip(images, masks, 12, torch.Generator().manual_seed(0))
    assert x.shape == (16, 3, 12, 12) and m.shape == (16, 12, 12)
    assert torch.equal(x[:, 0].long(), m * 40) and torch.equal(x[:, 2].long(), m * 40)
    assert len({tuple(t.flatten().tolist()[:5]) for t in m}) > 1  # different crops per pair
