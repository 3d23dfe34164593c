"""``ganaug augment``'s data and checks: the splits, every option checked against the data before anything trains,
a reused generator's fit, and the leak check of what the models saw."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ganaug.checkpoint import Checkpoint
from ganaug.classifier.trainer import build_classifier
from ganaug.config import AugmentConfig, ConfigError
from ganaug.data import ImageDataset
from ganaug.data import splits as S
from ganaug.data.imageset import read_image_set
from ganaug.experiments.common import imbalance_for, seeded_subset
from ganaug.experiments.run import hold_out_validation, load_data
from ganaug.gan.sampling import generator_mismatches
from ganaug.runtime import num_epochs


@dataclass
class Data:
    train: ImageDataset  # the training split, validation held out
    val: ImageDataset
    test: ImageDataset
    imbalanced: ImageDataset  # what the GAN, the judge and every arm's real part are drawn from
    targets: list[int]  # classes that get synthetic images
    counts: dict[str, list[int]]
    val_is_own_split: bool
    imbalance: dict[str, str]  # the profile used (auto resolved), the configured one, and why, in words


@dataclass
class Generator:
    """A source of generated images: a GAN (G, D, z_dim), or a set of images a user supplied (``images``)."""

    G: torch.nn.Module | None
    D: torch.nn.Module | None
    z_dim: int
    info: dict
    images: ImageDataset | None = None


def supplied_images(cfg: AugmentConfig, data: Data) -> Generator:
    """``cfg.synthetic`` read and checked against the data; every target class must have images in it."""
    images = read_image_set(cfg.synthetic, data.train, key="synthetic")
    counts = images.class_counts()
    lacking = [data.train.class_names[c] for c in data.targets if not counts[c]]
    if lacking:
        raise ConfigError(f"synthetic {cfg.synthetic}: no images of target class {lacking[0]!r}; supply images of "
                          f"every target class ({[data.train.class_names[c] for c in data.targets]}) or set "
                          "target_classes")
    info = {"source": f"images supplied from {cfg.synthetic} (no GAN trained in this run)", "conditional": True,
            "supplied_class_counts": counts}
    return Generator(None, None, 0, info, images)


def prepare_data(cfg: AugmentConfig) -> Data:
    """Load, scale down, split and imbalance the data; resolve the target classes. Bad options are ConfigErrors."""
    loaded = load_data(cfg.data)
    official = loaded.train
    cap = None if cfg.train_per_class is None else lambda ds: cap_per_class(ds, cfg.train_per_class, cfg.seed)
    splits = hold_out_validation(loaded, cfg.data.val_fraction, cfg.seed, shrink=cap)
    train, val = splits.train, splits.val
    used = train.class_counts() if splits.own_val else [a + b for a, b in zip(train.class_counts(), val.class_counts())]
    test = loaded.test if cfg.test_per_class is None else cap_per_class(loaded.test, cfg.test_per_class, cfg.seed)
    imbalanced, targets, imbalance, reason = imbalance_for(train, cfg.imbalance, cfg.seed)
    if cfg.target_classes is not None:
        targets = [resolve_class(c, train.class_names) for c in cfg.target_classes]
    if cfg.translate_from is not None:
        resolve_class(cfg.translate_from, train.class_names, "translate_from")  # a wrong name fails before training
    counts = {
        "official_train": official.class_counts(),
        "train_used": used,  # the (capped) training split before the validation cut
        "train": train.class_counts(),
        "imbalanced_train": imbalanced.class_counts(),
        "val": val.class_counts(),
        "test": test.class_counts(),
        "official_test": loaded.test.class_counts(),
    }
    return Data(train, val, test, imbalanced, sorted(set(targets)), counts, splits.own_val,
                {"profile": imbalance.profile, "configured": cfg.imbalance.profile, "reason": reason})


def cap_per_class(ds: ImageDataset, cap: int, seed: int) -> ImageDataset:
    """At most ``cap`` seeded random images of each class (indices still point into ``ds``'s source split)."""
    return S.take_per_class(ds, [min(n, cap) for n in ds.class_counts()], seed)[0]


def resolve_class(value: int | str, names: list[str], key: str = "target_classes") -> int:
    """A class given by name or index -> its index; anything else is a ConfigError naming ``key`` and the classes."""
    if isinstance(value, str) and value in names:
        return names.index(value)
    index = value if isinstance(value, int) else int(value) if value.isdigit() else -1
    if not 0 <= index < len(names):
        raise ConfigError(f"{key}: unknown class {value!r}; expected an index in 0..{len(names) - 1} "
                          f"or one of {names}")
    return index


def check_classifiers(cfg: AugmentConfig, train: ImageDataset) -> dict:
    """Every classifier config of the grid, each built once for this data so a bad name or option fails now."""
    configs = cfg.classifier_configs()
    for name, ccfg in {**configs, "judge": cfg.classifier}.items():
        try:
            build_classifier(ccfg, train.image_size, train.channels, train.num_classes)
        except KeyError as err:
            raise ConfigError(f"classifiers: {err.args[0]}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"classifier {ccfg.model!r} cannot be built for {train.image_size} px, "
                              f"{train.channels} channel(s), {train.num_classes} classes: {err}") from None
    return configs


def check_gan_epochs(cfg: AugmentConfig, n_train: int) -> None:
    if not cfg.gan_epochs:
        return
    total = num_epochs(cfg.gan.epochs, cfg.gan.steps, n_train, cfg.gan.batch_size)
    if max(cfg.gan_epochs) > total:
        raise ConfigError(f"gan_epochs {cfg.gan_epochs}: the GAN trains for {total} epochs (gan.epochs={cfg.gan.epochs}, "
                          f"gan.steps={cfg.gan.steps} on {n_train} images); set gan.epochs >= {max(cfg.gan_epochs)}")


def check_reused_generator(cfg: AugmentConfig, data: Data, device: torch.device) -> Generator:
    """Load ``cfg.generator`` and check it against the data; a mismatch, or a generator known to have seen this
    run's validation images, is a ConfigError."""
    from ganaug.experiments.evaluate_gan import load_checked_generator, resolve_checkpoint

    path = resolve_checkpoint(cfg.generator)
    G, meta, info = load_checked_generator(path, use_ema=True)
    z_dim = int(meta["config"]["z_dim"])
    problems, made = generator_mismatches(G.to(device), meta, z_dim, data.train, device)
    if problems:
        raise ConfigError(f"generator {path} does not match dataset {cfg.data.dataset!r} (data.image_size="
                          f"{cfg.data.image_size}, data.channels={cfg.data.channels}): " + "; ".join(problems) +
                          ". Use a generator trained on this data, or resize the data as it was for training.")
    seen = recorded_gan_images(path)
    overlap = None
    if seen is not None and not data.val_is_own_split:
        overlap = len(set(seen) & set(data.val.indices.tolist()))
        if overlap:
            raise ConfigError(f"generator {path} was trained on {overlap} images of this run's validation split "
                              "(its run's splits.json); reuse a generator from a `ganaug augment` run with the same "
                              "dataset, seed and data options, or let this run train one")
    D = Checkpoint(path).build("discriminator").to(device).eval()
    info.update(made, source=str(path), training_images_recorded=seen is not None, validation_images_seen=overlap)
    return Generator(G, D, z_dim, info)


def recorded_gan_images(path: Path) -> list[int] | None:
    """The training-split positions a checkpoint's GAN saw, from its run folder's splits.json (None if unrecorded)."""
    splits = path.parent.parent.parent / "splits.json"  # RUN/checkpoints/gan/last -> RUN/splits.json
    if not splits.is_file():
        return None
    recorded = json.loads(splits.read_text())
    return recorded.get("gan")


def audit_subset(test: ImageDataset, cfg: AugmentConfig) -> ImageDataset:
    """A seeded subset of at most ``audit_samples`` test images: the reference distances of the leak audit."""
    return seeded_subset(test, cfg.audit_samples, cfg.seed)


def leak_check(data: Data, added: list[ImageDataset]) -> dict:
    """No validation or test image in any model's training data: by positions (the real images every arm and the
    GAN train on come from the imbalanced training split, which is disjoint from the validation split), and by
    pixel hashes (exact copies of validation/test images among the training or the generated images)."""
    train_pos = set(data.imbalanced.indices.tolist())
    val_overlap = 0 if data.val_is_own_split else len(train_pos & set(data.val.indices.tolist()))
    if val_overlap or not train_pos <= set(data.train.indices.tolist()):
        raise RuntimeError(f"leak: {val_overlap} validation images in the training data; this is a bug, please report")
    digest = lambda ds: {hashlib.sha256(img.contiguous().numpy().tobytes()).hexdigest() for img in ds.images}  # noqa: E731
    real, val, test = digest(data.imbalanced), digest(data.val), digest(data.test)
    generated: set[str] = set().union(*(digest(a) for a in added)) if added else set()
    return {
        "validation_positions_in_training_data": val_overlap,
        "validation_images_identical_to_a_training_image": len(val & real),
        "test_images_identical_to_a_training_image": len(test & real),
        "generated_images_identical_to_a_validation_image": len(generated & val),
        "generated_images_identical_to_a_test_image": len(generated & test),
        "note": "identical real images across splits are duplicates in the dataset itself (see split_duplicates)",
    }
