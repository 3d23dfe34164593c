"""Semi-supervised study: every algorithm x every labelled amount x ``repeats`` seeds, on the same splits.

1. load the dataset; hold out a validation split (curves only) from the training split; the test split
   is only evaluated on, the validation split also chooses the best method without a generator (step 5);
2. per labelled amount and repeat, draw the labelled images per class (seed + repeat); every other
   training image is unlabelled; all algorithms of that repeat get the same split (paired comparison);
3. train each algorithm with the shared trainer; evaluate its classifier on the test split: accuracy,
   balanced accuracy, macro precision / recall / F1, one-vs-rest ROC-AUC, confusion matrix;
4. for GAN methods, score generated images with a judge classifier trained on the whole labelled
   training split (used for scoring only): class consistency (the "generation quality" of Hu, Zeng & Tian) for
   conditional generators, FID / KID / IS on the judge's features;
5. the verdict: each GAN method against the method without a generator with the best mean validation accuracy,
   paired by repeat on test accuracy, with its 95 % interval (helped / did not help / cannot tell);
6. write metrics.json, figures, report.md and report.html (its first line states the verdict).

Each run's result is saved as soon as it is done, so re-running the command skips finished runs and
resumes an interrupted one from its last checkpoint.

Under torchrun every rank runs the study, the trainers (algorithms and judge) train distributed, the
evaluations run on every rank alike, and rank 0 writes every file.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from ganaug import distributed as dist
from ganaug.checkpoint import write_json
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import ConfigError, SSLConfig
from ganaug.data import ImageDataset, to_uint8
from ganaug.data import splits as S
from ganaug.experiments.common import compare, images_digest, seeded_subset, summarize, versus_best_without_generator
from ganaug.experiments.run import Run, hold_out_validation, load_data
from ganaug.gan.sampling import generate
from ganaug.metrics import ClassifierFeatures, class_consistency, generative_metrics, heldout_metrics
from ganaug.report.ssl import write_ssl_report
from ganaug.runlog import RunLog
from ganaug.runtime import check_precision, resolve_device
from ganaug.ssl import ALGORITHMS
from ganaug.ssl.trainer import train_ssl

SCALARS = ("accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1", "roc_auc")
GENERATIVE = ("class_consistency", "fid", "kid", "inception_score", "diversity")  # diversity: the collapse monitor's
FLOOR = "supervised"


def labeled_counts(value: float, class_counts: list[int], class_names: list[str]) -> list[int]:
    """Labelled images per class for ``labeled``: a fraction (<= 1) of each class, or a total (> 1) split equally.

    Raises ConfigError when a class would get no labelled image, or more than it has.
    """
    k = len(class_counts)
    if value <= 0:
        raise ConfigError(f"labeled={value}: expected a fraction in (0, 1] or a whole number of labelled images")
    if value <= 1:
        counts = [round(n * value) for n in class_counts]
    else:
        if value != int(value) or int(value) % k:
            raise ConfigError(f"labeled={value:g}: a number of labels must be a whole multiple of the {k} classes, "
                              f"so every class gets the same number (e.g. {10 * k})")
        counts = [int(value) // k] * k
    for c, (want, have) in enumerate(zip(counts, class_counts)):
        if want == 0:
            raise ConfigError(f"labeled={value:g}: class {class_names[c]!r} would get no labelled image "
                              f"(it has {have} training images); use at least {1 / have:.3g}")
        if want > have:
            raise ConfigError(f"labeled={value:g}: class {class_names[c]!r} needs {want} labelled images, "
                              f"but the training split has only {have}")
    return counts


def label_tag(value: float) -> str:
    """'10%' for a fraction, '100 labels' for a count: the key of a labelled amount in results."""
    return f"{100 * value:g}%" if value <= 1 else f"{int(value)} labels"


def evaluate_classifier(model: torch.nn.Module, test: ImageDataset, device: torch.device) -> tuple[dict, dict]:
    """Test-split metrics (see SCALARS, plus per-class recall and the confusion matrix) and the ROC curves."""
    m = heldout_metrics(model, test, device)
    m["roc_auc"] = m.pop("auc")  # the mean one-vs-rest AUC, under the name the SSL reports use
    return m, m.pop("roc_curves")


def evaluate_generator(generator: torch.nn.Module, judge: torch.nn.Module, real: ImageDataset, per_class: int,
                       z_dim: int, seed: int, device: torch.device, judge_name: str) -> dict:
    """Class consistency (conditional generators only) and FID / KID / IS on the judge's features."""
    k = real.num_classes
    conditional = getattr(generator, "num_classes", 0) > 0
    counts = [per_class] * k if conditional else [per_class * k]
    x, y = generate(generator, counts, z_dim, seed, device)
    out: dict = {"class_consistency": None, "class_consistency_per_class": None}
    if conditional:
        cc = class_consistency(predict(judge, x, device), y, k)
        out.update(class_consistency=cc["overall"], class_consistency_per_class=cc["per_class"])
    ref = seeded_subset(real, len(x), seed)
    gm = generative_metrics(ClassifierFeatures(judge, judge_name, device=device), ref.images, x,
                            kid_subset_size=min(1000, len(x)))
    out.update(fid=gm["fid"]["fid"], kid=gm["kid"]["kid_mean"], inception_score=(gm["inception_score"] or {}).get("is_mean"),
               features=gm["features"])
    return out


def plan_ssl(cfg: SSLConfig) -> tuple[ImageDataset, ImageDataset, ImageDataset, dict[float, list[int]]]:
    """Train / validation / test splits and the labelled images per class of every ``labeled`` value.

    Every check that can fail happens here, before anything is trained or written: a ConfigError names the
    labelled amount and the class, or the precision or batch size the device or process count cannot take.
    """
    device = resolve_device(cfg.device)
    check_precision("precision", cfg.precision, device)
    check_precision("judge.precision", cfg.judge.precision, device)
    sizes = {"batch_size": cfg.batch_size, "unlabeled_batch_size": cfg.unlabeled_batch_size,
             "judge.batch_size": cfg.judge.batch_size}
    for key, size in sizes.items():  # under torchrun, split over the processes
        dist.check_batch_size(key, size)
    splits = hold_out_validation(load_data(cfg.data), cfg.data.val_fraction, cfg.seed)
    train, val = splits.train, splits.val
    plans = {v: labeled_counts(v, train.class_counts(), train.class_names) for v in cfg.labeled}
    for v, counts in plans.items():
        if sum(counts) == len(train):
            needs = [a for a in cfg.algorithms if ALGORITHMS.get(a).uses_unlabeled]
            if needs:
                raise ConfigError(f"labeled={v:g} labels every training image, so {', '.join(needs)} would have no "
                                  "unlabelled image to learn from; use a smaller labelled amount")
    return train, val, splits.test, plans


def run_ssl(cfg: SSLConfig, command: str = "ganaug ssl") -> Path:
    """Run the study into ``cfg.out``; return the path of report.html. Re-running resumes."""
    run = Run(cfg)
    device, out = run.device, run.out
    train, val, test, plans = plan_ssl(cfg)
    run.claim()

    judge_name = f"{cfg.data.dataset} {cfg.judge.model} features"
    judges: list[torch.nn.Module] = []

    def judge() -> torch.nn.Module | None:
        """The judge of generated images, trained on first use (never when every run is already done)."""
        if not cfg.generation_metrics:
            return None
        if not judges:
            judges.append(train_classifier(cfg.judge, train, cfg.seed, device, val=val, progress=cfg.progress,
                                           checkpoint_dir=out / "checkpoints" / "judge", title="judge",
                                           log=run.log("judge")).model)
        return judges[0]

    results: dict[str, dict[str, list[dict]]] = {}
    for value in cfg.labeled:
        tag = label_tag(value)
        for repeat in range(cfg.repeats):
            seed = cfg.seed + repeat
            labeled, unlabeled = S.take_per_class(train, plans[value], seed)
            for algorithm in cfg.algorithms:
                name = Path(algorithm) / tag.replace(" ", "-").replace("%", "pct") / f"repeat-{repeat}"
                path = (out / "runs" / name).with_suffix(".json")
                if not path.exists():
                    scorer = judge() if ALGORITHMS.get(algorithm).is_gan else None
                    done = one_run(cfg, algorithm, labeled, unlabeled, val, test, seed, device, path.parent, scorer,
                                   judge_name, train, run.log(str(name)))
                    dist.on_main(write_json, path, done)
                results.setdefault(algorithm, {}).setdefault(tag, []).append(final_diversity(json.loads(path.read_text())))

    scalars = (*SCALARS, *GENERATIVE, "val_accuracy", "train_seconds")
    summary = {a: {tag: summarize(runs, scalars, layout="nested") for tag, runs in per.items()}
               for a, per in results.items()}
    comparisons = {a: {tag: compare(runs, results[FLOOR][tag], test.num_classes, SCALARS) for tag, runs in per.items()}
                   for a, per in results.items() if a != FLOOR and FLOOR in results}
    metrics = {
        "dataset": cfg.data.dataset,
        "class_names": test.class_names,
        "labeled": {label_tag(v): {"value": v, "per_class": plans[v], "total": sum(plans[v])} for v in cfg.labeled},
        "counts": {"train": train.class_counts(), "val": val.class_counts(), "test": test.class_counts()},
        "results": summary,
        f"vs_{FLOOR}": comparisons,
        "uses_generator": {a: ALGORITHMS.get(a).is_gan for a in cfg.algorithms},
        "unlabeled_per_step": {a: unlabeled_per_step(cfg, a) for a in cfg.algorithms},
        "vs_best_without_generator": {tag: verdict(results, tag, test.num_classes) for tag in map(label_tag, cfg.labeled)},
        "judge": {"name": judge_name, "test_accuracy": judge_accuracy(results),
                  "trained_on": "the whole labelled training split (scoring only)"} if cfg.generation_metrics else None,
        "steps": cfg.steps,
        "device": str(device),
        "total_seconds": run.elapsed()["total_seconds"],
        "images_sha256": {"train": images_digest(train.images), "val": images_digest(val.images),
                          "test": images_digest(test.images)},
    }
    run.write_json("metrics.json", metrics)
    return run.report(write_ssl_report, cfg, metrics, results, command, train)


def unlabeled_per_step(cfg: SSLConfig, algorithm: str) -> int:
    """Unlabelled images per iteration: mu x ``batch_size`` for FixMatch-style methods, else ``unlabeled_batch_size``."""
    mu = getattr(ALGORITHMS.get(algorithm).Options.model_validate(cfg.options.get(algorithm, {})), "mu", None)
    return cfg.unlabeled_batch_size if mu is None else mu * cfg.batch_size


def verdict(results: dict[str, dict[str, list[dict]]], tag: str, num_classes: int) -> dict:
    """Each GAN method against the method without a generator of best mean validation accuracy, paired by repeat on
    the test split (``ganaug.experiments.common.versus_best_without_generator``); {} without both kinds."""
    runs = {a: per[tag] for a, per in results.items()}
    if any("val_accuracy" not in r for rs in runs.values() for r in rs):  # a run saved before val_accuracy existed
        return {}
    with_gan = {a for a in runs if ALGORITHMS.get(a).is_gan}
    val = {a: [r["val_accuracy"] for r in rs] for a, rs in runs.items()}
    return versus_best_without_generator(runs, val, with_gan, num_classes, criterion="accuracy", scalars=SCALARS)


def one_run(cfg: SSLConfig, algorithm: str, labeled: ImageDataset, unlabeled: ImageDataset, val: ImageDataset,
            test: ImageDataset, seed: int, device: torch.device, run_dir: Path, judge, judge_name: str,
            train: ImageDataset, log: RunLog | None = None) -> dict:
    """Train one algorithm on one split with one seed; its test metrics, ROC curves, curves and timings.
    ``log``: the run's TensorBoard log (None: none)."""
    tic = time.perf_counter()
    ckpt_dir = run_dir / f"checkpoints-{seed}"
    extra: dict = {"device": str(device)}
    res = train_ssl(cfg, algorithm, labeled, unlabeled, seed, device, val=val, checkpoint_dir=ckpt_dir,
                    progress=cfg.progress, log=log)
    seconds = time.perf_counter() - tic
    m, curves = evaluate_classifier(res.algorithm.classifier(), test, device)
    m["val_accuracy"] = float((predict(res.algorithm.classifier(), val.images, device) == val.labels).float().mean())
    m["uses_generator"] = ALGORITHMS.get(algorithm).is_gan
    G = res.algorithm.generator()
    if G is not None and judge is not None:
        z_dim = res.algorithm.opt.z_dim
        m.update(evaluate_generator(G, judge, train, cfg.generated_per_class, z_dim, seed, device, judge_name))
        extra["judge_test_accuracy"] = float((predict(judge, test.images, device) == test.labels).float().mean())
        if seed == cfg.seed:  # the first repeat's samples go into the report
            x, y = generate(G, [8] * test.num_classes if G.num_classes else [8 * test.num_classes], z_dim, seed + 1, device)
            m["samples"] = {"images": to_uint8(x).tolist(), "labels": y.tolist()}
    if not cfg.keep_checkpoints and dist.is_main():
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return {**m, **extra, "roc_curves": curves, "history": res.history, "precision_fallback": res.precision_fallback,
            "seed": seed, "train_seconds": seconds,
            "labeled_sha256": images_digest(labeled.images), "unlabeled_count": len(unlabeled)}


def final_diversity(run: dict) -> dict:
    """The run with its generator's last relative within-class diversity (the collapse monitor's, in its history)
    as a metric beside class consistency; a run without a generator is returned as it is."""
    rows = [row for row in run.get("history", []) if "diversity" in row]
    return {**run, "diversity": rows[-1]["diversity"]} if rows else run


def judge_accuracy(results: dict[str, dict[str, list[dict]]]) -> float | None:
    """The judge's test accuracy, as recorded by the runs it scored (None when no GAN run was scored)."""
    values = [r["judge_test_accuracy"] for per in results.values() for runs in per.values() for r in runs
              if "judge_test_accuracy" in r]
    return float(np.mean(values)) if values else None

