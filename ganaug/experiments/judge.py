"""The judge of generated images: the dataset-specific classifier whose features and answers every GAN metric uses.

It is trained on the real training split only (a judge that has seen the test images would flatter the CAS
comparison) and checkpointed beside a ``source.json`` that records what it was trained on, so a re-run reuses
it. A grid can share one (``feature_classifier_dir``): a judge strong enough for CIFAR-10 (80 % on the test
split) takes longer to train than a GAN cell, so the first cell trains it and every other cell reuses it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from ganaug import distributed as dist
from ganaug.augment.classic import ClassicAugment
from ganaug.checkpoint import Checkpoint, exclusive_lock, write_json
from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassicAugConfig, ClassifierConfig, ConfigError, EvaluateGANConfig
from ganaug.data import ImageDataset
from ganaug.experiments.common import images_digest, with_new_defaults
from ganaug.metrics import heldout_metrics
from ganaug.runtime import num_epochs

SHARED_SEED = 0  # a shared judge's seed, whichever run trains it first
# The test accuracy under which a judge is flagged too weak to judge (its features and answers then say more about
# it than about the images): the bake-off's 80 % on CIFAR-10 and 97 % on the digits; 90 % on Fashion-MNIST, where
# good small CNNs reach 91-93 %. Other datasets: no bar, the accuracy is reported.
STRONG_ENOUGH = {"cifar10": 0.80, "mnist": 0.97, "digits": 0.97, "fashion-mnist": 0.90}


def dataset_label(dataset: str) -> str:
    """A short name for feature labels: ``folder:/a/b/pets`` -> ``folder pets``."""
    if dataset.startswith("folder:"):
        return f"folder {Path(dataset.split(':', 1)[1]).name}"
    return dataset


def flips_and_crops(train: ImageDataset) -> ClassicAugment:
    """Random horizontal flips and 1/8-padded crops, no rotation or colour: the judge's optional augmentation."""
    geometric_only = ClassicAugConfig(rotation=0, brightness=0, contrast=0, saturation=0, hue=0)
    return ClassicAugment(geometric_only, train.image_size, train.channels)


def feature_classifier(
    cfg: EvaluateGANConfig, train: ImageDataset, test: ImageDataset, device: torch.device, folder: Path
) -> tuple[torch.nn.Module, dict]:
    """Train (or reuse) the judge on the real training split; return it and its summary.

    Its folder is ``folder`` (the run's own; a checkpoint there trained on other data or with another config is
    discarded and trained again) or ``cfg.feature_classifier_dir`` (shared: trained once with seed 0 under a
    lock, while other runs wait; one trained on other data or with another config is an error, never deleted).
    """
    shared = cfg.feature_classifier_dir is not None
    folder = Path(cfg.feature_classifier_dir).expanduser() if shared else folder
    seed = SHARED_SEED if shared else cfg.seed
    source = {
        "dataset": cfg.dataset,
        "train_images_sha256": images_digest(train.images),
        "train_labels_sha256": images_digest(train.labels),
        "config": cfg.feature_classifier.model_dump(mode="json"),
        "seed": seed,
    }
    if cfg.feature_classifier_augment:
        source["augment"] = "flips and crops"  # only when on: judges trained before the option keep their source
    folder.mkdir(parents=True, exist_ok=True)
    # Under torchrun the ranks train the judge together (a rank blocked on the lock would hang the others'
    # barrier), so the lock guards separate runs only.
    with exclusive_lock(folder / "lock" if shared and not dist.is_distributed() else None):
        retrained_because = checked_source(folder, source, shared)
        fc = cfg.feature_classifier
        epochs = num_epochs(fc.epochs, fc.steps, len(train), fc.batch_size)
        last = folder / "last"
        reused = last.with_suffix(".json").exists() and Checkpoint(last).meta.get("epoch") == epochs
        write_json(folder / "source.json", source)
        transform = flips_and_crops(train).to(device) if cfg.feature_classifier_augment else None
        result = train_classifier(fc, train, seed, device, checkpoint_dir=folder, progress=cfg.progress,
                                  title="feature classifier", transform=transform)
    name = f"{dataset_label(cfg.dataset)} {fc.model} features"
    if "inception" in name.lower():
        name = name.replace("nception", "ncep.")  # ClassifierFeatures refuses names that could pass for Inception
    test_metrics = heldout_metrics(result.model, test, device)
    return result.model, {
        "features": name,
        "model": fc.model,
        "trained_on": f"the real training split ({len(train)} images), seed {seed}",
        "epochs": epochs,
        "augment": source.get("augment"),
        "test_accuracy": test_metrics["accuracy"],
        "strong_enough_at": STRONG_ENOUGH.get(cfg.dataset),  # None: no bar for this dataset
        "test_balanced_accuracy": test_metrics["balanced_accuracy"],
        "test_per_class_recall": test_metrics["per_class_recall"],
        # rows: true class, columns: the judge's answer; e.g. how often a real test cat is called a dog, the
        # number to set beside the share of cats translated into dogs that the judge calls a dog
        "test_confusion": test_metrics["confusion_matrix"],
        "history": result.history,  # per epoch: training loss and accuracy (no validation split here)
        "reused_checkpoint": reused,
        "retrained_because": retrained_because,
        "shared": shared,
        "checkpoint": str(last),
        "config": source["config"],
    }


def checked_source(folder: Path, source: dict, shared: bool) -> str | None:
    """Compare the judge already in ``folder`` (if any) with ``source``: None if it fits or there is none; the
    reason if a run's own judge does not fit (the folder is emptied); a shared one that does not fit is an error."""
    source_path = folder / "source.json"
    if not (folder / "last.json").exists():
        return None
    previous = json.loads(source_path.read_text()) if source_path.exists() else None
    if previous is not None and isinstance(previous.get("config"), dict):  # keys added to ganaug since: defaults
        previous["config"] = with_new_defaults(previous["config"], ClassifierConfig())
    if previous == source:
        return None
    if shared:
        differs = sorted(k for k in {*source, *(previous or {})} if (previous or {}).get(k) != source.get(k))
        raise ConfigError(f"feature_classifier_dir={folder}: the judge there was trained on other data or with "
                          f"another config ({', '.join(differs)} differ); give another folder for this judge")
    shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return "the checkpoint in this folder was trained on other data or with another config"

