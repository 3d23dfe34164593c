"""What the experiments share: the imbalance profiles, run folders, image digests, and summaries over repeats."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
import yaml
from pydantic import BaseModel

from ganaug import distributed as dist
from ganaug.config import ConfigError, ImbalanceConfig, save_config
from ganaug.data import splits as S
from ganaug.data.dataset import ImageDataset
from ganaug.metrics import memorisation_audit, paired_difference

SCALARS = ("accuracy", "balanced_accuracy", "macro_f1")  # always reported; "auc" too when the runs have it
AUDIT_DROP = ("generated_distances", "test_distances", "flagged")  # long lists kept out of metrics.json


IMBALANCED = 1.5  # largest / smallest class size from which a training split counts as already imbalanced


def imbalance_ratio(counts: list[int]) -> float:
    return max(counts) / max(1, min(counts))


def resolve_imbalance(train: ImageDataset, imb: ImbalanceConfig, balanced_small: str = "none"
                      ) -> tuple[ImbalanceConfig, str]:
    """Turn ``profile: auto`` into the profile this training split gets, and say why in one sentence.

    ``balanced_small``: what auto means for a balanced split of 2-3 classes (augment: "none", keep it whole; the
    demo: "error", since there is nothing to rebalance and cutting 3 of 3 classes leaves no class to target).
    """
    counts, k = train.class_counts(), train.num_classes
    ratio = imbalance_ratio(counts)
    if imb.profile != "auto":
        return imb, f"imbalance profile `{imb.profile}` as configured (before it, the training split's largest / " \
                    f"smallest class = {ratio:.1f})"
    defaults = ImbalanceConfig()
    changed = [k for k in ("classes", "fraction", "rho", "counts") if getattr(imb, k) != getattr(defaults, k)]
    if changed:
        raise ConfigError(f"imbalance.{changed[0]} is set but imbalance.profile is auto, which decides from the data "
                          "whether to cut; say which profile it belongs to, e.g. --set imbalance.profile=reduce")
    if ratio >= IMBALANCED:
        return imb.model_copy(update={"profile": "natural"}), (
            f"the training split is already imbalanced (largest / smallest class = {ratio:.1f} >= {IMBALANCED}), so "
            "it was kept as it is and the classes smaller than the largest were targeted")
    if k >= 4:
        return imb.model_copy(update={"profile": "reduce"}), (
            f"the training split is balanced (largest / smallest class = {ratio:.1f}) with {k} classes, so classes "
            f"{', '.join(map(str, imb.classes))} were cut to {imb.fraction:.0%} (Gao's protocol, \"Enhancing image "
            "classification performance via GAN-based data augmentation\")")
    if balanced_small == "error":
        raise ConfigError(
            f"imbalance.profile=auto: the training split is balanced ({counts} images per class) and has only {k} "
            "classes, so there is no minority class to rebalance; choose a cut, e.g. --set imbalance.profile=reduce "
            "--set imbalance.classes=[0]")
    return imb.model_copy(update={"profile": "none"}), (
        f"the training split is balanced (largest / smallest class = {ratio:.1f}) with only {k} classes, so it was "
        "kept as it is and every class was targeted")


def target_classes(train: ImageDataset, imbalanced: ImageDataset, imb: ImbalanceConfig) -> list[int]:
    """The classes that get synthetic images: those the profile made smaller; under ``natural`` those smaller than
    the largest; under ``none`` all of them."""
    after = imbalanced.class_counts()
    if imb.profile == "natural":
        return [c for c, n in enumerate(after) if n < max(after)]
    if imb.profile == "none":
        return list(range(train.num_classes))
    return [c for c, (n, m) in enumerate(zip(after, train.class_counts())) if n < m]


def imbalance_for(train: ImageDataset, imb: ImbalanceConfig, seed: int, balanced_small: str = "none"
                  ) -> tuple[ImageDataset, list[int], ImbalanceConfig, str]:
    """The imbalanced training split, its target classes, the resolved profile and why; bad cuts are ConfigErrors
    (raised before anything trains or is written)."""
    imb, reason = resolve_imbalance(train, imb, balanced_small)
    key = "imbalance.counts" if imb.profile == "counts" else "imbalance.classes"
    try:
        imbalanced = make_imbalanced(train, imb, seed)
    except ValueError as err:
        raise ConfigError(f"{key}: {err} (classes of this training split: {train.class_names})") from None
    empty = [f"{c} ({name!r})" for c, name in enumerate(train.class_names) if imbalanced.class_counts()[c] == 0]
    if empty:
        raise ConfigError(f"imbalance: class {', '.join(empty)} has no training image left after the imbalance profile "
                          f"{imb.profile!r} (counts {imbalanced.class_counts()}); every class needs at least one")
    targets = target_classes(train, imbalanced, imb)
    after = imbalanced.class_counts()
    if imb.profile not in ("none",) and not any(after[c] < max(after) for c in targets):
        raise ConfigError(f"{key}: the profile {imb.profile!r} leaves no class smaller than the largest (counts "
                          f"{after}), so there is nothing to rebalance; cut fewer classes, e.g. "
                          "--set imbalance.classes=[0]")
    return imbalanced, targets, imb, reason


def make_imbalanced(train: ImageDataset, imb: ImbalanceConfig, seed: int) -> ImageDataset:
    """Apply an imbalance profile to the training split (``auto`` must be resolved first: ``resolve_imbalance``)."""
    if imb.profile == "auto":
        raise ValueError("imbalance profile 'auto' must be resolved against the data first (resolve_imbalance)")
    if imb.profile in ("none", "natural"):
        return train
    if imb.profile == "reduce":
        return S.reduce_classes(train, imb.classes, imb.fraction, seed)
    if imb.profile == "long-tail":
        return S.long_tail(train, imb.rho, seed)
    return S.explicit_counts(train, imb.counts, seed)


def scalars_of(runs: list[dict]) -> tuple[str, ...]:
    """The scalar metrics every run has a value for."""
    return SCALARS + (("auc",) if runs and all(r.get("auc") is not None for r in runs) else ())


def metric_stats(values: list[float]) -> dict:
    """One metric over repeats: mean, std (ddof 1; 0 for one run), n, the 95 % Student-t interval of the mean
    (``low``/``high``; None below ``MIN_SEEDS`` runs or when every run agrees, ``note`` says why) and the values."""
    d = paired_difference(values, [0.0] * len(values))  # the interval of a mean is that of its difference to 0
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": d["mean"], "std": std, "n": d["n"], "low": d["low"], "high": d["high"],
            "confidence": d["confidence"], "note": d["note"], "runs": [float(v) for v in values]}


def summarize(runs: list[dict], scalars: tuple[str, ...] | None = None, layout: str = "flat") -> dict:
    """Runs of one arm (one per seed) -> the summary every study writes to metrics.json.

    Always: ``repeats``, ``metrics`` (each of ``scalars``: :func:`metric_stats` of the runs that have it, None when
    none has), per-class recall (mean and std), per-class AUC when every run has it, the summed confusion matrix
    and ``runs`` (each run's scalars and per-class recall). ``scalars`` defaults to the classification metrics every
    run has (:func:`scalars_of`). ``layout`` adds the shape each study's metrics.json has always had beside it:
    ``flat`` (demo, augment): each metric's mean at the top level, its std under ``std``; ``nested`` (SSL): each
    metric's ``metrics`` entry at the top level.
    """
    scalars = scalars_of(runs) if scalars is None else scalars
    stats = {k: metric_stats(values) if (values := [r[k] for r in runs if r.get(k) is not None]) else None
             for k in scalars}
    recalls = np.array([r["per_class_recall"] for r in runs])
    out: dict = {"repeats": len(runs), "metrics": stats}
    if layout == "flat":
        out.update({k: s and s["mean"] for k, s in stats.items()})
        out["std"] = {k: s and s["std"] for k, s in stats.items()}
    elif layout == "nested":
        out.update(stats)
    else:
        raise ValueError(f"layout {layout!r}: expected flat or nested")
    out["per_class_recall"] = recalls.mean(0).tolist()
    out["per_class_recall_std"] = (recalls.std(0, ddof=1) if len(runs) > 1 else np.zeros(recalls.shape[1])).tolist()
    if all(r.get("per_class_auc") is not None for r in runs):
        aucs = np.array([[np.nan if a is None else a for a in r["per_class_auc"]] for r in runs], dtype=float)
        with warnings.catch_warnings():  # a class without an AUC in every run stays None
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(aucs, 0)
        out["per_class_auc"] = [None if np.isnan(a) else float(a) for a in mean]
    out["confusion_matrix"] = np.sum([r["confusion_matrix"] for r in runs], axis=0).tolist()
    out["runs"] = [{**{k: r.get(k) for k in scalars}, "per_class_recall": r["per_class_recall"]} for r in runs]
    return out


def compare(treatment: list[dict], control: list[dict], num_classes: int, scalars: tuple[str, ...] | None = None
            ) -> dict:
    """Paired differences (same seed) of every metric, overall and per class."""
    if scalars is None:
        scalars = tuple(k for k in scalars_of(treatment) if k in scalars_of(control))
    out = {k: paired_difference([r[k] for r in treatment], [r[k] for r in control]) for k in scalars}
    out["per_class_recall"] = [
        paired_difference([r["per_class_recall"][c] for r in treatment], [r["per_class_recall"][c] for r in control])
        for c in range(num_classes)
    ]
    return out


def versus_best_without_generator(runs: dict[str, list[dict]], val: dict[str, list[float]], with_gan: set[str],
                                  num_classes: int, criterion: str = "balanced_accuracy",
                                  scalars: tuple[str, ...] | None = None) -> dict:
    """The verdict of augment and SSL studies: the arm (or method) without a generator that has the best mean
    validation ``criterion`` over seeds (``val``: its per-seed validation scores; never test), as ``best``; each arm
    in ``with_gan``'s paired test differences against it (``comparisons``, same seed); and, with no GAN arm, the best
    one's differences against a ``baseline`` arm (``vs_baseline``, when there is one and it is not the best).
    ``{}`` when every arm uses a generator."""
    without = [k for k in runs if k not in with_gan]
    if not without:
        return {}
    means = {k: float(np.mean(val[k])) for k in without}
    best = max(without, key=lambda k: means[k])  # the first listed of tied arms
    out = {"best": best, "chosen_by": f"mean validation {criterion.replace('_', ' ')} over seeds",
           f"validation_{criterion}": means,
           "comparisons": {k: compare(runs[k], runs[best], num_classes, scalars) for k in runs if k in with_gan}}
    if not with_gan and "baseline" in runs and best != "baseline":
        out["vs_baseline"] = compare(runs[best], runs["baseline"], num_classes, scalars)
    return out


def seeded_choice(total: int, n: int, seed: int) -> torch.Tensor:
    """At most ``n`` of the positions ``0..total-1``, a seeded random choice, sorted: every seeded subset's draw."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def seeded_subset(ds: ImageDataset, n: int, seed: int) -> ImageDataset:
    """At most ``n`` images of ``ds``, a seeded random choice, in their order in ``ds``."""
    return ds.subset(seeded_choice(len(ds), n, seed))


def trim(audit: dict) -> dict:
    """A leak audit without its long per-image lists."""
    return {k: v for k, v in audit.items() if k not in AUDIT_DROP}


def audit_generated(generated: ImageDataset, train: ImageDataset, test: ImageDataset, n: int, seed: int) -> dict:
    """The memorisation audit (pixels) of at most ``n`` seeded generated images against ``train``, with ``test``'s
    distances to ``train`` as the reference; the closest pairs' ``generated`` index into ``generated`` itself."""
    chosen = seeded_choice(len(generated), n, seed)
    audit = trim(memorisation_audit(generated.images[chosen], train.images, test.images, space="pixels"))
    audit["closest_pairs"] = [{**p, "generated": int(chosen[p["generated"]])} for p in audit["closest_pairs"]]
    return {**audit, "audited": len(chosen), "of": len(generated)}


def images_digest(images: torch.Tensor) -> str:
    """SHA-256 of the pixels of a set of images, so a run records exactly which images a model saw."""
    return hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()


def check_out_folder(out: str | Path, key: str = "out") -> Path:
    """The run folder must be a folder (new, or a run to resume) that can be written: checked before any work."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{key}={out}: is a file; expected a folder (new, or a run folder to resume)")
    parent = next((p for p in out.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise ConfigError(f"{key}={out}: {parent} is a file, so the folder cannot be made under it")
    if not out.exists() and not os.access(parent, os.W_OK):
        raise ConfigError(f"{key}={out}: permission denied: cannot create folders in {parent}")
    if out.exists() and not os.access(out, os.W_OK):
        raise ConfigError(f"{key}={out}: permission denied: cannot write in this folder")
    return out


def claim_run_folder(out: Path, cfg: BaseModel) -> None:
    """Write the resolved config first; refuse to resume a folder that holds a run with another config (other than
    its number of seeds: :func:`free_to_change`).

    A folder with nothing computed yet (a run that failed before or early in training) takes the new config, so
    that the corrected command is not refused. Under torchrun every rank checks (so all stop alike) and rank 0
    writes.
    """
    check_out_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "config.yaml"
    if saved.exists() and has_results(out):
        previous = with_new_defaults(yaml.safe_load(saved.read_text()), cfg)
        current = json.loads(cfg.model_dump_json())
        for key in ("progress", "out", "tensorboard"):  # how a run is watched, not what it computes
            previous.pop(key, None), current.pop(key, None)
        changed = sorted(k for k in differences(previous, current) if not free_to_change(k))
        if changed:
            raise ConfigError(f"{saved} holds a run with a different config ({', '.join(changed[:5])}); resume it "
                              "with the same options or choose another --out")
    dist.barrier()  # every rank has read the old config before rank 0 replaces it
    dist.on_main(save_config, cfg, saved)


def free_to_change(key: str) -> bool:
    """May a resumed run change this dotted config key? The number of seeds (any ``repeats``: seed k is always
    ``seed + k``, whatever the count, so more seeds add runs and reuse the finished ones) and ``scale_note`` (words
    about the scale, not the scale)."""
    return key.rsplit(".", 1)[-1] in ("repeats", "scale_note")


def has_results(out: Path) -> bool:
    """Does ``out`` hold anything computed under its config.yaml (checkpoints, metrics, cells...)? Files every run
    rewrites from its config (config.yaml, splits.json), a grid cell's lock, half-written temporary files and
    TensorBoard logs do not count."""
    ignored = {"config.yaml", "splits.json", "lock"}
    return any(p.is_file() and p.name not in ignored and not p.name.startswith(".")
               and "tensorboard" not in p.relative_to(out).parts for p in out.rglob("*"))


def with_new_defaults(saved: dict, cfg: BaseModel) -> dict:
    """``saved`` (a run's config.yaml) plus the defaults of keys added to ganaug since it was written.

    So a run folder made by an older version resumes, as long as the new keys keep their defaults."""
    out = dict(saved)
    for name, field in type(cfg).model_fields.items():
        value = getattr(cfg, name)
        if name not in out and not field.is_required():
            default = field.get_default(call_default_factory=True)
            out[name] = default.model_dump(mode="json") if isinstance(default, BaseModel) else default
        elif isinstance(value, BaseModel) and isinstance(out.get(name), dict):
            out[name] = with_new_defaults(out[name], value)
    return out


def differences(a: dict, b: dict, prefix: str = "") -> set[str]:
    """The dotted keys whose values differ between two nested dicts."""
    keys = set(a) | set(b)
    out = set()
    for k in keys:
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out |= differences(x, y, f"{prefix}{k}.")
        elif x != y:
            out.add(f"{prefix}{k}")
    return out
