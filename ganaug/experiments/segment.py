"""``ganaug segment``: do a mask-conditioned GAN's image-mask pairs help a segmenter trained on a few images?

For each seed and each of ``folds`` contiguous folds of the images: pix2pix (Isola et al. 2017) is trained on the
training folds only (when an arm needs it) and turns ``synthetic_per_image`` elastically deformed copies of each
training mask into images; then every arm trains the same segmenter on the same folds and is scored on the held-out
fold's whole images (Dice and IoU per class, pixel accuracy):

- ``baseline``: the real pairs (random crops);        ``classic``: + elastic deformation, flips, turns (U-Net's own);
- ``gan``: real + synthetic pairs;                     ``gan+classic``: both.

Arms are paired by (fold, seed): ``gan`` against ``baseline`` and ``gan+classic`` against ``classic`` say whether the
generated pairs add anything, with a 95 % t-interval over the pairs. Each finished (seed, fold, arm) is saved, so an
interrupted run resumes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ganaug.checkpoint import write_json
from ganaug.classifier.segmenter import predict_masks, train_segmenter
from ganaug.config.segment import SegmentConfig
from ganaug.data import ImageDataset, to_float, to_uint8
from ganaug.data.errors import DataError
from ganaug.data.segmentation import SegmentationDataset, deform, kfold, load_segfolder
from ganaug.errors import ConfigError
from ganaug.experiments.common import audit_generated
from ganaug.experiments.run import Run
from ganaug.gan.pix2pix import train_pix2pix
from ganaug.metrics.classification import paired_difference
from ganaug.metrics.segmentation import segmentation_scores
from ganaug.models.segmentation import SEGMENTERS
from ganaug.report.segment import write_segment_report

SCALARS = ("mean_dice", "mean_iou", "pixel_accuracy")
REFERENCES = {"classic": "baseline", "gan": "baseline", "gan+classic": "classic"}  # what each arm is compared with


def check(cfg: SegmentConfig) -> SegmentationDataset:
    """The data, and every check that can fail, before anything is written or trained."""
    if cfg.segmenter not in SEGMENTERS:
        raise ConfigError(f"segmenter: {cfg.segmenter!r}; expected one of {SEGMENTERS.names()}")
    multiple = 32 if cfg.segmenter == "mobilenet-unet" else 16
    for key in ("image_size", "crop"):
        if getattr(cfg, key) % multiple:
            raise ConfigError(f"{key}: {getattr(cfg, key)} is not divisible by {multiple} ({cfg.segmenter}'s depth)")
    try:
        data, _ = load_segfolder(Path(cfg.dataset.split(":", 1)[1]), cfg.image_size, cfg.channels)
    except DataError as err:
        raise ConfigError(f"dataset: {err}") from None
    if len(data) < cfg.folds:
        raise ConfigError(f"folds: {cfg.folds} folds need at least {cfg.folds} images; {cfg.dataset} has {len(data)}")
    return data


def synthetic_pairs(cfg: SegmentConfig, train: SegmentationDataset, seed: int, device: torch.device
                    ) -> tuple[SegmentationDataset, list[dict]]:
    """pix2pix trained on ``train``; its images of deformed copies of the training masks; and its history."""
    model, history = train_pix2pix(cfg.pix2pix, to_float(train.images), train.masks, train.num_classes, cfg.crop,
                                   seed, device, cfg.progress)
    masks = train.masks.repeat(cfg.synthetic_per_image, 1, 1)
    masks, _ = deform(masks, cfg.elastic_alpha, cfg.elastic_sigma, torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        images = torch.cat([to_uint8(model(masks[i : i + 4].to(device)).cpu()) for i in range(0, len(masks), 4)])
    names = [f"synthetic-{i}" for i in range(len(masks))]
    return SegmentationDataset(images, masks, train.class_names, names), history


def run_segment(cfg: SegmentConfig, command: str = "ganaug segment") -> Path:
    """Run every (seed, fold, arm) into ``cfg.out`` (resuming finished ones) and return the report's path."""
    run = Run(cfg)
    data = check(cfg)
    run.claim()
    K, results, examples, audits, gan_histories = data.num_classes, {a: [] for a in cfg.arms}, {}, [], []
    for repeat in range(cfg.repeats):
        seed = cfg.seed + repeat
        for fold in range(cfg.folds):
            train_idx, test_idx = kfold(len(data), cfg.folds, fold)
            train, test = data.subset(train_idx), data.subset(test_idx)
            folder = run.out / "runs" / f"seed-{seed}" / f"fold-{fold}"
            todo = [a for a in cfg.arms if not (folder / f"{a}.json").exists()]
            synthetic = None
            if any(a.startswith("gan") for a in todo):  # a resumed run audits the folds it trains
                synthetic, history = synthetic_pairs(cfg, train, seed, run.device)
                gan_histories.append(history)
                audits.append(audit_generated(unlabelled(synthetic), unlabelled(train), unlabelled(test), 200, seed))
                if repeat == fold == 0:
                    examples["synthetic"] = (synthetic.images[:4], synthetic.masks[:4])
            for arm in cfg.arms:
                path = folder / f"{arm}.json"
                if not path.exists():
                    pairs = train if not arm.startswith("gan") else SegmentationDataset(
                        torch.cat([train.images, synthetic.images]), torch.cat([train.masks, synthetic.masks]),
                        train.class_names, train.names + synthetic.names)
                    net = train_segmenter(cfg.segmenter, cfg.width, pairs.images, pairs.masks, K, cfg.crop, cfg.steps,
                                          cfg.batch_size, cfg.lr, seed, run.device,
                                          (cfg.elastic_alpha, cfg.elastic_sigma) if "classic" in arm else None)
                    pred = predict_masks(net, test.images, run.device)
                    write_json(path, {"seed": seed, "fold": fold, "test_images": test.names,
                                      **segmentation_scores(pred, test.masks, K)})
                    if repeat == fold == 0:
                        examples[arm] = pred[:4]
                results[arm].append(json.loads(path.read_text()))
            if repeat == fold == 0:
                examples["real"] = (test.images[:4], test.masks[:4])
    metrics = {
        "dataset": cfg.dataset, "class_names": data.class_names, "images": len(data), "command": command,
        "arms": {a: summary(r, K) for a, r in results.items()},
        "comparisons": {a: {f"vs {ref}": {k: paired_difference([r[k] for r in results[a]], [r[k] for r in results[ref]])
                                          for k in SCALARS}}
                        for a, ref in REFERENCES.items() if a in results and ref in results},
        "memorisation": audits, "pix2pix_histories": gan_histories, "device": str(run.device),
        "timings": run.elapsed(), "quick": cfg.quick,
    }
    run.write_json("metrics.json", metrics)
    return run.report(write_segment_report, cfg, metrics, examples)


def unlabelled(d: SegmentationDataset) -> ImageDataset:
    """The images alone, for the memorisation audit."""
    return ImageDataset(d.images, torch.zeros(len(d), dtype=torch.int64), ["image"])


def summary(runs: list[dict], num_classes: int) -> dict:
    """Mean and std over the (fold, seed) units of the scalars and of each class's Dice and IoU."""
    def stats(values: list[float]) -> dict:
        return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}

    out = {k: stats([r[k] for r in runs]) for k in SCALARS}
    for key in ("dice", "iou"):
        out[key] = [stats([r[key][c] for r in runs if r[key][c] is not None]) for c in range(num_classes)]
    return {**out, "units": len(runs)}
