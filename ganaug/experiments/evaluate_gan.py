"""``ganaug evaluate-gan``: every generative metric of a trained GAN checkpoint, in one report.

1. load the checkpoint's generator (its EMA copy unless ``use_ema`` is off) and the dataset, and check
   that they match (image size, channels, classes, class names) before anything trains;
2. train the dataset-specific feature classifier on the real training split only (deterministic for
   the seed; checkpointed under ``out/feature-classifier``, so a re-run reuses it), or take the one an
   earlier run trained in a shared folder (``feature_classifier_dir``: one judge for a whole grid);
3. generate ``samples_per_class`` images per class (an unconditional generator: the same total,
   labelled by the feature classifier's predictions);
4. with the classifier's features: FID, KID, IS, precision/recall/density/coverage against a seeded
   random subset of the training split of the same size (and the real test split against the same
   reference, as the floor a perfect generator would reach); class consistency; the classification
   accuracy score (a classifier trained on synthetic images only, tested on the real test split, next
   to the same classifier trained on as many real images); mode-collapse monitors; the memorisation
   audit (generated -> train distances against test -> train ones) and train/test duplicates;
5. FID/KID/IS with the FID Inception-v3 only when its weights file is given;
6. write metrics.json, report.md and report.html (self-contained) into ``out``.

Every feature-based number carries the name of its features (``report_label``): a number computed on
the classifier's features is never called plain "FID".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganaug.checkpoint import Checkpoint
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import ClassifierConfig, ConfigError, EvaluateGANConfig
from ganaug.data import ImageDataset, to_uint8
from ganaug.data import splits as S
from ganaug.data.imageset import read_image_set
from ganaug.experiments.common import seeded_subset
from ganaug.experiments.judge import dataset_label, feature_classifier
from ganaug.experiments.run import Run, load_data
from ganaug.gan.sampling import generate, generator_mismatches, load_generator
from ganaug.metrics import (
    ClassifierFeatures,
    InceptionV3Features,
    class_consistency,
    classification_accuracy_score,
    generative_metrics,
    heldout_metrics,
    intensity_divergence,
    memorisation_audit,
    mode_collapse,
    split_duplicates,
)
from ganaug.report.command import reproduce_command
from ganaug.report.gan_table import metric_labels, metric_table

AUDIT_TOP = 16  # closest generated/train (and test/train) pairs kept and shown


def evaluate_gan(cfg: EvaluateGANConfig) -> Path:
    """Evaluate the checkpoint ``cfg.checkpoint`` on ``cfg.dataset`` into ``cfg.out``; return the path of report.html."""
    run = Run(cfg)
    device = run.device

    # 1. Generator (or a supplied image set) and data, checked against each other before anything is written.
    checkpoint = resolve_checkpoint(cfg.checkpoint) if cfg.checkpoint else None
    if checkpoint is not None:
        G, meta, generator_info = load_checked_generator(checkpoint, cfg.use_ema)
    data = load_data(cfg)
    train, test = data.train, data.test
    if checkpoint is not None:
        G = G.to(device)
        z_dim = int(meta["config"]["z_dim"])
        generator_info.update(check_match(cfg, checkpoint, G, meta, z_dim, train, device))
    else:
        supplied = read_image_set(cfg.images, train, key="--images")
        meta, generator_info = {}, supplied_info(cfg.images, supplied)
    inception = load_inception(cfg.inception_weights, device) if cfg.inception_weights else None
    run.claim(resume_check=False)  # every number is recomputed; only the feature classifier is reused, if it fits
    names, K = list(train.class_names), train.num_classes

    # 2. The feature extractor and judge: a classifier trained on the real training split only.
    with run.timed("feature_classifier_seconds"):
        judge, judge_info = feature_classifier(cfg, train, test, device, run.out / "feature-classifier")
    extractor = ClassifierFeatures(judge, judge_info["features"], device=device)
    judged_by = f"judged by the {dataset_label(cfg.dataset)} {judge_info['model']} classifier"

    # 3. Samples.
    with run.timed("sampling_seconds"):
        conditional = generator_info["conditional"]
        counts = [cfg.samples_per_class] * K if conditional else [cfg.samples_per_class * K]
        if checkpoint is not None:
            x, intended = generate(G, counts, z_dim, cfg.seed, device, truncation_psi=cfg.truncation_psi)
            generated = to_uint8(x)
        else:  # at most samples_per_class of each class, a seeded choice
            chosen = S.take_per_class(supplied, [min(n, h) for n, h in zip(counts, supplied.class_counts())],
                                      cfg.seed)[0]
            generated, intended = chosen.images, chosen.labels
        predicted = predict(judge, generated, device)
        synthetic = ImageDataset(generated, intended if conditional else predicted, names)

    # 4. Feature metrics against a real reference of the same size; the real test split gives the floor.
    with run.timed("feature_metrics_seconds"):
        reference = seeded_subset(train, cfg.reference_size or len(generated), cfg.seed)
        gen_metrics = generative_metrics(extractor, reference.images, generated)
        floor = generative_metrics(extractor, reference.images, test.images) if len(test) > 5 else None  # PRDC: k=5
        inception_metrics = generative_metrics(inception, reference.images, generated) if inception else None
    consistency = class_consistency(predicted, intended, K) if conditional else None
    collapse = mode_collapse(predicted, train.labels, K)
    with run.timed("cas_seconds"):
        cas = classification_accuracy_score(synthetic, test, cfg.feature_classifier, cfg.seed, device)
        real_same = real_same_size(train, test, synthetic.class_counts(), cfg.feature_classifier, cfg.seed, device)
    with run.timed("audit_seconds"):
        audit = memorisation_audit(generated, train.images, test.images, space="pixels", top=AUDIT_TOP)
        duplicates = split_duplicates(train.images, test.images, top=AUDIT_TOP)

    labels = metric_labels(extractor.name, judged_by, inception_metrics)
    metrics: dict[str, Any] = {
        "dataset": cfg.dataset,
        "class_names": names,
        "seed": cfg.seed,
        "checkpoint": str(checkpoint) if checkpoint is not None else None,
        "images": cfg.images,
        "generator": generator_info,
        "gan_history": meta.get("history") or [],  # the GAN trainer's per-epoch losses, from the checkpoint
        "samples": {
            "per_class": cfg.samples_per_class if conditional else None,
            "total": len(generated),
            "labelled_by": ("the supplied labels" if checkpoint is None else "the class asked for" if conditional
                            else "the feature classifier's prediction"),
            "truncation_psi": cfg.truncation_psi,
            "reference": f"{len(reference)} images of the real training split (seeded random subset)"
            if len(reference) < len(train) else f"the whole real training split ({len(train)} images)",
            "reference_size": len(reference),
            "train_size": len(train),
            "test_size": len(test),
        },
        "feature_classifier": judge_info,
        "features": extractor.name,
        "classifier_features": gen_metrics,
        "real_test_floor": floor,
        "inception": inception_metrics,
        "class_consistency": None if consistency is None else {**consistency, "judge": judged_by},
        "cas": cas,
        "cas_real_same_size": real_same,
        "mode_collapse": {**collapse, "judge": judged_by},
        "pixel_intensity": intensity_divergence(reference.images, generated),
        "memorisation": audit,
        "split_duplicates": duplicates,
        "labels": labels,
        "table": metric_table(labels, gen_metrics, floor, inception_metrics, consistency, cas, real_same, collapse,
                              audit, duplicates, K),
        "device": str(device),
        "command": reproduce_command(cfg),
        "timings": run.elapsed(),
    }
    run.write_json("metrics.json", metrics)

    from ganaug.report.gan_report import write_gan_report

    return run.report(write_gan_report, metrics, train, synthetic, test)


def supplied_info(path: str, images: ImageDataset) -> dict:
    """What the report says of an image set a user supplied, in place of a generator's description."""
    return {"architecture": "supplied images", "source": str(path), "conditional": True, "epoch": None,
            "weights": None, "has_ema": False, "image_size": images.image_size, "channels": images.channels,
            "z_dim": None, "supplied_class_counts": images.class_counts()}


def resolve_checkpoint(path: str) -> Path:
    """The checkpoint NAME for NAME.json/NAME.safetensors; a folder holding ``last.json`` means its ``last``."""
    p = Path(path).expanduser()
    if p.suffix in (".json", ".safetensors"):
        p = p.with_suffix("")
    if p.is_dir() and (p / "last.json").is_file():
        p = p / "last"
    return p


def load_checked_generator(path: Path, use_ema: bool) -> tuple[torch.nn.Module, dict, dict]:
    """The generator, the checkpoint's meta and a summary of what was loaded; a bad checkpoint is a ConfigError."""
    try:
        G, meta = load_generator(path, use_ema=use_ema)
        models = Checkpoint(path).info["models"]
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise ConfigError(f"--checkpoint {path}: {err}") from None
    if "config" not in meta or "z_dim" not in meta["config"]:
        raise ConfigError(f"--checkpoint {path}: its meta has no GAN config (z_dim); was it written by ganaug's trainer?")
    spec = models["generator"]
    return G, meta, {
        "architecture": spec["name"],
        "kwargs": spec["kwargs"],
        "weights": "generator_ema" if use_ema and "generator_ema" in models else "generator",
        "has_ema": "generator_ema" in models,
        "epoch": meta.get("epoch"),
        "trained_with_seed": meta.get("seed"),
        "gan_config": meta["config"],
    }


def check_match(
    cfg: EvaluateGANConfig, path: Path, G: torch.nn.Module, meta: dict, z_dim: int, train: ImageDataset, device: torch.device
) -> dict:
    """Image size, channels, class count and class names of the generator against the dataset; a ConfigError naming both."""
    try:
        problems, made = generator_mismatches(G, meta, z_dim, train, device, cfg.truncation_psi)
    except ValueError as err:
        raise ConfigError(f"truncation_psi={cfg.truncation_psi}: {err}") from None
    if problems:
        raise ConfigError(
            f"checkpoint {path} does not match dataset {cfg.dataset!r} "
            f"(image_size={cfg.image_size}, channels={cfg.channels}): " + "; ".join(problems) + ". Evaluate it on the "
            "dataset it was trained on, resized as for training (--set image_size=N / --set channels=C)."
        )
    return made


def load_inception(weights: str, device: torch.device) -> InceptionV3Features:
    try:
        return InceptionV3Features.from_file(weights, device=device)
    except (FileNotFoundError, ValueError) as err:
        raise ConfigError(f"--inception-weights {weights}: {err}") from None


def real_same_size(
    train: ImageDataset, test: ImageDataset, counts: list[int], cfg: ClassifierConfig, seed: int, device: torch.device
) -> dict:
    """The CAS classifier's counterpart: the same classifier trained on as many real training images per class
    as the synthetic set has (as many as there are, for a class with fewer)."""
    available = train.class_counts()
    subset, _ = S.take_per_class(train, [min(n, a) for n, a in zip(counts, available)], seed)
    result = train_classifier(cfg, subset, seed, device, progress=False, title="CAS real reference")
    return {**heldout_metrics(result.model, test, device), "n_real": len(subset), "n_test": len(test),
            "classifier": result.spec["name"], "seed": seed}
