"""Dice, IoU and pixel accuracy on masks worked out by hand."""

import pytest
import torch

from ganaug.metrics.segmentation import confusion, segmentation_scores


def test_scores_by_hand():
    target = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1], [0, 0, 1, 0]])
    assert confusion(pred, target, 2).tolist() == [[3, 1], [1, 3]]
    s = segmentation_scores(pred, target, 2)
    assert s["dice"] == pytest.approx([6 / 8, 6 / 8]) and s["iou"] == pytest.approx([3 / 5, 3 / 5])
    assert s["pixel_accuracy"] == pytest.approx(6 / 8) and s["mean_dice"] == pytest.approx(0.75)


def test_a_class_in_neither_mask_is_left_out_of_the_means():
    s = segmentation_scores(torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 2, dtype=torch.long), 3)
    assert s["dice"] == [1.0, None, None] and s["mean_dice"] == 1.0 and s["mean_iou"] == 1.0
