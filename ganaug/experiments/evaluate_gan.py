"""``ganaug evaluate-gan``: every generative metric of a trained GAN checkpoint, in one report.

1. load the checkpoint's generator (its EMA copy unless ``use_ema`` is off) and the dataset, and check
   that they match (image size, channels, classes, class names) before anything trains;
2. train the dataset-specific feature classifier on the real training split only (deterministic for
   the seed; checkpointed under ``out/feature-classifier``, so a re-run reuses it);
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

import json
import shlex
import shutil
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from ganaug.checkpoint import Checkpoint, write_json
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import ClassifierConfig, ConfigError, EvaluateGANConfig, save_config
from ganaug.data import ImageDataset, load_dataset, to_uint8
from ganaug.data import splits as S
from ganaug.experiments.common import images_digest
from ganaug.gan.sampling import generate, generator_mismatches, load_generator
from ganaug.metrics import (
    ClassifierFeatures,
    InceptionV3Features,
    class_consistency,
    classification_accuracy_score,
    classification_metrics,
    generative_metrics,
    heldout_metrics,
    memorisation_audit,
    mode_collapse,
    report_label,
    split_duplicates,
)
from ganaug.runtime import num_epochs, resolve_device

AUDIT_TOP = 16  # closest generated/train (and test/train) pairs kept and shown


def evaluate_gan(cfg: EvaluateGANConfig) -> Path:
    """Evaluate the checkpoint ``cfg.checkpoint`` on ``cfg.dataset`` into ``cfg.out``; return the path of report.html."""
    tic = time.perf_counter()
    timings: dict[str, float] = {}
    device = resolve_device(cfg.device)

    # 1. Generator and data, checked against each other before anything is written or trained.
    checkpoint = resolve_checkpoint(cfg.checkpoint)
    G, meta, generator_info = load_checked_generator(checkpoint, cfg.use_ema)
    data = load_dataset(cfg.dataset, cfg.data_dir, cfg.download, cfg.image_size, cfg.channels)
    train, test = data.train, data.test
    G = G.to(device)
    z_dim = int(meta["config"]["z_dim"])
    generator_info.update(check_match(cfg, checkpoint, G, meta, z_dim, train, device))
    inception = load_inception(cfg.inception_weights, device) if cfg.inception_weights else None

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")
    names, K = list(train.class_names), train.num_classes

    # 2. The feature extractor and judge: a classifier trained on the real training split only.
    t = time.perf_counter()
    judge, judge_info = feature_classifier(cfg, train, test, device, out / "feature-classifier")
    timings["feature_classifier_seconds"] = time.perf_counter() - t
    extractor = ClassifierFeatures(judge, judge_info["features"], device=device)
    features = extractor.name
    judged_by = f"judged by the {dataset_label(cfg.dataset)} {cfg.feature_classifier.model} classifier"

    # 3. Samples.
    t = time.perf_counter()
    conditional = generator_info["conditional"]
    counts = [cfg.samples_per_class] * K if conditional else [cfg.samples_per_class * K]
    x, intended = generate(G, counts, z_dim, cfg.seed, device, truncation_psi=cfg.truncation_psi)
    generated = to_uint8(x)
    predicted = predict(judge, generated, device)
    synthetic = ImageDataset(generated, intended if conditional else predicted, names)
    timings["sampling_seconds"] = time.perf_counter() - t

    # 4. Feature metrics against a real reference of the same size; the real test split gives the floor.
    t = time.perf_counter()
    reference = reference_subset(train, cfg.reference_size or len(generated), cfg.seed)
    gen_metrics = generative_metrics(extractor, reference.images, generated)
    floor = generative_metrics(extractor, reference.images, test.images) if len(test) > 5 else None  # PRDC: k=5
    inception_metrics = generative_metrics(inception, reference.images, generated) if inception else None
    timings["feature_metrics_seconds"] = time.perf_counter() - t

    consistency = class_consistency(predicted, intended, K) if conditional else None
    collapse = mode_collapse(predicted, train.labels, K)

    t = time.perf_counter()
    cas = classification_accuracy_score(synthetic, test, cfg.feature_classifier, cfg.seed, device)
    real_same = real_same_size(train, test, synthetic.class_counts(), cfg.feature_classifier, cfg.seed, device)
    timings["cas_seconds"] = time.perf_counter() - t

    t = time.perf_counter()
    audit = memorisation_audit(generated, train.images, test.images, space="pixels", top=AUDIT_TOP)
    duplicates = split_duplicates(train.images, test.images, top=AUDIT_TOP)
    timings["audit_seconds"] = time.perf_counter() - t

    labels = metric_labels(features, judged_by, inception_metrics)
    metrics: dict[str, Any] = {
        "dataset": cfg.dataset,
        "class_names": names,
        "seed": cfg.seed,
        "checkpoint": str(checkpoint),
        "generator": generator_info,
        "gan_history": meta.get("history") or [],  # the GAN trainer's per-epoch losses, from the checkpoint
        "samples": {
            "per_class": cfg.samples_per_class if conditional else None,
            "total": len(generated),
            "labelled_by": "the class asked for" if conditional else "the feature classifier's prediction",
            "truncation_psi": cfg.truncation_psi,
            "reference": f"{len(reference)} images of the real training split (seeded random subset)"
            if len(reference) < len(train) else f"the whole real training split ({len(train)} images)",
            "reference_size": len(reference),
            "train_size": len(train),
            "test_size": len(test),
        },
        "feature_classifier": judge_info,
        "features": features,
        "classifier_features": gen_metrics,
        "real_test_floor": floor,
        "inception": inception_metrics,
        "class_consistency": None if consistency is None else {**consistency, "judge": judged_by},
        "cas": cas,
        "cas_real_same_size": real_same,
        "mode_collapse": {**collapse, "judge": judged_by},
        "memorisation": audit,
        "split_duplicates": duplicates,
        "labels": labels,
        "table": metric_table(labels, gen_metrics, floor, inception_metrics, consistency, cas, real_same, collapse,
                              audit, duplicates, K),
        "device": str(device),
    }
    metrics["command"] = reproduce_command(cfg)
    metrics["timings"] = {**timings, "total_seconds": time.perf_counter() - tic}
    write_json(out / "metrics.json", metrics)

    from ganaug.report.gan_report import write_gan_report

    return write_gan_report(out, metrics, train, synthetic, test)


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


def dataset_label(dataset: str) -> str:
    """A short name for feature labels: ``folder:/a/b/pets`` -> ``folder pets``."""
    if dataset.startswith("folder:"):
        return f"folder {Path(dataset.split(':', 1)[1]).name}"
    return dataset


def feature_classifier(
    cfg: EvaluateGANConfig, train: ImageDataset, test: ImageDataset, device: torch.device, folder: Path
) -> tuple[torch.nn.Module, dict]:
    """Train (or reuse from ``folder``) the feature classifier on the real training split; return it and its summary.

    ``folder/source.json`` records what the checkpoint was trained on (dataset, images, labels, config,
    seed); a checkpoint trained on anything else is discarded and trained again.
    """
    fc = cfg.feature_classifier
    source = {
        "dataset": cfg.dataset,
        "train_images_sha256": images_digest(train.images),
        "train_labels_sha256": images_digest(train.labels),
        "config": fc.model_dump(mode="json"),
        "seed": cfg.seed,
    }
    source_path, last = folder / "source.json", folder / "last"
    epochs = num_epochs(fc.epochs, fc.steps, len(train), fc.batch_size)
    retrained_because = None
    if last.with_suffix(".json").exists():
        previous = json.loads(source_path.read_text()) if source_path.exists() else None
        if previous != source:
            retrained_because = "the checkpoint in this folder was trained on other data or with another config"
            shutil.rmtree(folder)
    reused = last.with_suffix(".json").exists() and Checkpoint(last).meta.get("epoch") == epochs
    folder.mkdir(parents=True, exist_ok=True)
    write_json(source_path, source)
    name = f"{dataset_label(cfg.dataset)} {fc.model} features"
    if "inception" in name.lower():
        name = name.replace("nception", "ncep.")  # ClassifierFeatures refuses names that could pass for Inception
    result = train_classifier(fc, train, cfg.seed, device, checkpoint_dir=folder, progress=cfg.progress,
                              title="feature classifier")
    test_metrics = classification_metrics(test.labels, predict(result.model, test.images, device), test.num_classes)
    return result.model, {
        "features": name,
        "model": fc.model,
        "trained_on": f"the real training split ({len(train)} images), seed {cfg.seed}",
        "epochs": epochs,
        "test_accuracy": test_metrics["accuracy"],
        "test_balanced_accuracy": test_metrics["balanced_accuracy"],
        "test_per_class_recall": test_metrics["per_class_recall"],
        "history": result.history,  # per epoch: training loss and accuracy (no validation split here)
        "reused_checkpoint": reused,
        "retrained_because": retrained_because,
        "checkpoint": str(last),
        "config": source["config"],
    }


def reference_subset(train: ImageDataset, size: int, seed: int) -> ImageDataset:
    """A seeded random subset of ``size`` training images (all of them when there are not more)."""
    if size >= len(train):
        return train
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    return train.subset(perm[:size].sort().values)


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


def metric_labels(features: str, judged_by: str, inception: dict | None) -> dict[str, str]:
    """The label of every reported number; feature-based ones through ``report_label``."""
    labels = {key: report_label(metric, features) for key, metric in (
        ("fid", "FID"), ("kid", "KID"), ("is", "IS"), ("precision", "precision"), ("recall", "recall"),
        ("density", "density"), ("coverage", "coverage"))}
    if inception is not None:
        name = inception["features"]
        labels.update({f"inception_{key}": report_label(metric, name) for key, metric in (
            ("fid", "FID"), ("kid", "KID"), ("is", "IS"), ("precision", "precision"), ("recall", "recall"),
            ("density", "density"), ("coverage", "coverage"))})
    labels.update({
        "class_consistency": f"class consistency ({judged_by})",
        "cas": "classification accuracy score (trained on synthetic only, tested on the real test split)",
        "cas_real_same_size": "the same classifier trained on as many real training images",
        "modes_found": f"modes found ({judged_by})",
        "class_coverage": f"class coverage ({judged_by})",
        "kl_real_generated": f"KL(real ‖ generated) of class histograms, nats ({judged_by})",
        "js_divergence": f"Jensen-Shannon divergence of class histograms, bits ({judged_by})",
        "memorised_share": "generated images flagged as memorised (pixels, below the 1st percentile of test -> train)",
        "exact_copies": "generated images identical to a training image (pixels)",
        "generated_median_nn": "median nearest-training-image distance of generated images (pixels, rms)",
        "test_median_nn": "median nearest-training-image distance of test images (pixels, rms)",
        "duplicated_test_share": "test images duplicated in the training split (exact or near, pixels)",
    })
    return labels


def metric_table(
    labels: dict[str, str], gen: dict, floor: dict, inception: dict | None, consistency: dict | None, cas: dict,
    real_same: dict, collapse: dict, audit: dict, duplicates: dict, num_classes: int,
) -> list[dict]:
    """The report's main table as rows: label, value (generated), reference value (real data) where one applies,
    which direction is better, and the key in ``labels``."""

    def feature_rows(m: dict, prefix: str, with_floor: dict | None) -> list[dict]:
        def kid_std(k: dict) -> float | None:  # one subset holding every sample has no spread to report
            return None if k["subset_size"] == k["n_real"] == k["n_generated"] else k["kid_std"]

        rows = [
            ("fid", m["fid"]["fid"], None, with_floor and with_floor["fid"]["fid"], None, "lower"),
            ("kid", m["kid"]["kid_mean"], kid_std(m["kid"]), with_floor and with_floor["kid"]["kid_mean"],
             with_floor and kid_std(with_floor["kid"]), "lower"),
        ]
        if m["inception_score"] is not None:
            f = with_floor and with_floor["inception_score"]
            rows.append(("is", m["inception_score"]["is_mean"], m["inception_score"]["is_std"], f and f["is_mean"],
                         f and f["is_std"], "higher"))
        for key in ("precision", "recall", "density", "coverage"):
            rows.append((key, m["prdc"][key], None, with_floor and with_floor["prdc"][key], None,
                         "closer to 1" if key == "density" else "higher"))
        return [{"key": prefix + k, "label": labels[prefix + k], "value": v, "std": s, "real": r, "real_std": rs,
                 "better": b} for k, v, s, r, rs, b in rows]

    rows = feature_rows(gen, "", floor)
    if inception is not None:
        rows += feature_rows(inception, "inception_", None)

    def row(key: str, value: float | None, real: float | None = None, better: str = "") -> dict:
        return {"key": key, "label": labels[key], "value": value, "std": None, "real": real, "real_std": None,
                "better": better}

    rows += [
        row("class_consistency", consistency and consistency["overall"], None, "higher"),
        row("cas", cas["accuracy"], real_same["accuracy"], "higher"),
        row("modes_found", collapse["modes_found"], num_classes, "higher"),
        row("class_coverage", collapse["coverage"], 1.0, "higher"),
        row("kl_real_generated", collapse["kl_real_generated"], 0.0, "lower"),
        row("js_divergence", collapse["js_divergence"], 0.0, "lower"),
        row("memorised_share", audit["flagged_share"], audit["percentile"] / 100, "lower"),
        row("exact_copies", audit["exact_copies"], None, "lower"),
        row("generated_median_nn", audit["generated_median"], audit["test_median"], "not far below the test images'"),
        row("duplicated_test_share", duplicates["duplicated_test_share"], None, "lower"),
    ]
    return rows


SET_FLAGS = {  # config keys with their own command-line option
    "checkpoint": "--checkpoint", "dataset": "--dataset", "data_dir": "--data-dir", "out": "--out",
    "samples_per_class": "--per-class", "seed": "--seed", "inception_weights": "--inception-weights",
    "truncation_psi": "--truncation",
}


def reproduce_command(cfg: EvaluateGANConfig) -> str:
    """The ``ganaug evaluate-gan`` command line that rebuilds this config (main options always, the rest as --set)."""
    values = cfg.model_dump(mode="json")
    defaults = EvaluateGANConfig(checkpoint=cfg.checkpoint).model_dump(mode="json")
    parts = ["ganaug", "evaluate-gan"]
    for key in ("checkpoint", "dataset", "data_dir", "out", "samples_per_class", "seed", "inception_weights",
                "truncation_psi"):
        if values[key] is not None and (key in ("checkpoint", "dataset", "out", "samples_per_class", "seed")
                                        or values[key] != defaults[key]):
            parts += [SET_FLAGS[key], str(values[key])]
    if not cfg.use_ema:
        parts.append("--raw")

    def flatten(node: dict, prefix: str = "") -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for k, v in node.items():
            flat.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return flat

    current, default = flatten(values), flatten(defaults)
    for key, value in current.items():
        if key in SET_FLAGS or key in ("use_ema", "progress") or value == default.get(key):
            continue
        parts += ["--set", f"{key}={yaml_scalar(value)}"]
    return shlex.join(parts)


def yaml_scalar(value: Any) -> str:
    """A value as ``--set`` parses it back (YAML), e.g. None -> '' and the string '1' -> '"1"'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if yaml.safe_load(value) == value else json.dumps(value)
    return json.dumps(value)
