"""The ``ganaug segment`` report: did the GAN's image-mask pairs help, per arm and class, with pictures."""

from __future__ import annotations

from pathlib import Path

import torch

from ganaug.config.segment import SegmentConfig
from ganaug.report import figures
from ganaug.report.format import direction, interval, quick_banner, verdict
from ganaug.report.html import write_report


def _mask_image(masks: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Class indices as gray levels (0 .. 255), (N, 1, H, W) uint8."""
    return (masks * (255 // max(1, num_classes - 1))).to(torch.uint8)[:, None]


def write_segment_report(out: Path, cfg: SegmentConfig, m: dict, examples: dict) -> Path:
    names, K = m["class_names"], len(m["class_names"])
    rows = {}
    if "real" in examples:
        images, masks = examples["real"]
        rows = {"image": images, "true mask": _mask_image(masks, K)}
        rows.update({f"{arm}": _mask_image(pred, K) for arm, pred in examples.items() if arm in m["arms"]})
    if "synthetic" in examples:
        rows.update({"GAN mask": _mask_image(examples["synthetic"][1], K), "GAN image": examples["synthetic"][0]})
    same = {}
    for title, images in rows.items():  # one strip per row: gray images of one size and channel count
        same[title] = images.expand(-1, max(r.shape[1] for r in rows.values()), -1, -1) if images.shape[1] == 1 else images
    if same:
        figures.image_rows(same, out / "figures" / "examples.png")
    units = next(iter(m["arms"].values()))["units"]
    lines = [f"# ganaug segment: do GAN image-mask pairs help on {m['dataset']}?", "", *quick_banner(m["quick"])]
    for arm, comparison in m["comparisons"].items():
        for ref, d in comparison.items():
            said = "" if direction(d["mean_dice"]) is None else f"{verdict(d['mean_dice'])}, "  # else: interval says why
            lines.append(f"- **{arm}** {ref} (mean Dice over the classes, points): {said}"
                         f"{interval(d['mean_dice'])}; IoU {interval(d['mean_iou'])}")
    lines += ["", f"{m['images']} images, {cfg.folds} contiguous folds x {cfg.repeats} seed(s) = {units} paired units; "
              f"segmenter `{cfg.segmenter}` (width {cfg.width}), {cfg.steps} steps of {cfg.batch_size} random "
              f"{cfg.crop} px crops, images at {cfg.image_size} px, scored on the held-out fold's whole images.", "",
              "| arm | mean Dice (%) | mean IoU (%) | pixel accuracy (%) | " +
              " | ".join(f"Dice {n} (%)" for n in names) + " |", "|---" * (4 + K) + "|"]
    for arm, s in m["arms"].items():
        cells = [f"{100 * s[k]['mean']:.1f} ± {100 * s[k]['std']:.1f}" for k in ("mean_dice", "mean_iou", "pixel_accuracy")]
        cells += [f"{100 * d['mean']:.1f} ± {100 * d['std']:.1f}" for d in s["dice"]]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    if m["memorisation"]:
        flagged = [a["flagged_share"] for a in m["memorisation"]]
        lines += ["", f"Memorisation audit of the GAN images (pixels, against the fold's training images, with the "
                  f"held-out images' distances as the reference): flagged share {min(flagged):.1%} to {max(flagged):.1%} "
                  f"over {len(flagged)} fold(s)."]
    if same:
        lines += ["", "![examples](figures/examples.png)", "",
                  "First fold: held-out images, their true masks and each arm's prediction; then GAN pairs."]
    lines += ["", f"Wall time {m['timings']['total_seconds']:.0f} s on {m['device']}.", "", f"Command: `{m['command']}`"]
    return write_report(out, "\n".join(lines) + "\n", f"ganaug segment: {m['dataset']}")
