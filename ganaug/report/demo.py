"""The demo's report: report.md (readable as text) and report.html (the same, self-contained, with figures)."""

from __future__ import annotations

from pathlib import Path

from ganaug.config import DemoConfig
from ganaug.data.dataset import ImageDataset
from ganaug.report import figures
from ganaug.report.format import direction, interval, pct, quick_banner
from ganaug.report.html import precision_note, write_report

ARMS = ("baseline", "augmented", "reference")
ARM_LABELS = {
    "baseline": "baseline: imbalanced real",
    "augmented": "augmented: imbalanced real + synthetic",
    "reference": "reference: full real training split",
}
METRIC_LABELS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1",
                 "auc": "ROC-AUC"}


def answer(d: dict, what: str) -> str:
    """Plain words for a paired difference: helped / hurt / no clear difference at this number of repeats."""
    way = direction(d)
    if way is None:
        return (f"this run cannot say whether the synthetic data changed {what} ({d.get('note') or 'no interval'}): "
                f"{what} changed by {100 * d['mean']:+.1f} points")
    if way == "higher":
        return f"the synthetic data **helped**: {what} rose by {interval(d)} points"
    if way == "lower":
        return f"the synthetic data **hurt**: {what} changed by {interval(d)} points"
    return f"**no clear difference** in {what}: {interval(d)} points, an interval that includes zero"


def write_demo_report(out: Path, cfg: DemoConfig, m: dict, images: dict[str, ImageDataset], command: str) -> Path:
    """Write figures, report.md and report.html into ``out``; return the path of report.html.

    ``images``: ``real`` (the full training split), ``judged`` (the generator's samples of every class),
    ``synthetic`` (the set added to training), ``gan_train`` (the GAN's training images) and ``test_audit`` (the
    test images of the leak audit), which the leak audit's closest pairs index into.
    """
    names = m["class_names"]
    arms = m.get("arms", ARMS)  # no reference arm when the training split was kept as it is
    fig_dir = out / "figures"
    figures.sample_grid(images["real"], {"synthetic": images["judged"]}, fig_dir / "samples.png")
    figures.training_curves(m["classifier_histories"], fig_dir / "curves.png", gan_history=m["gan"]["history"])
    figures.per_class_bars({arm: m[arm] for arm in arms}, names, fig_dir / "per_class_recall.png", m["target_classes"])
    figures.confusion_matrices({arm: m[arm] for arm in arms}, names, fig_dir / "confusion.png")
    figures.roc_curves(m["roc_curves"], names, fig_dir / "roc.png")

    diff = m["augmented_vs_baseline"]
    repeats = m["baseline"]["repeats"]
    targets = ", ".join(names[c] for c in m["target_classes"]) or "none"
    imbalance = m.get("imbalance", {"profile": cfg.imbalance.profile, "reason": ""})
    lines = [
        f"# ganaug demo: does {'GAN' if not cfg.synthetic else 'supplied-image'} rebalancing help on {m['dataset']}?",
        "",
        *quick_banner(cfg.quick),
        f"**Answer.** On the untouched test split, {answer(diff['balanced_accuracy'], 'balanced accuracy')} "
        f"(augmented minus baseline, mean over {repeats} paired seeds, 95% t-interval).",
        "",
        *precision_note(m.get("precision_fallbacks")),
        "## Setup",
        "",
        f"- Dataset `{m['dataset']}`; imbalance profile `{imbalance['profile']}`: {imbalance['reason']}. "
        f"Target classes (topped up with synthetic images): {targets}.",
        ("- The conditional GAN was trained on the imbalanced training split only; " if not cfg.synthetic else
         f"- The synthetic images were supplied ({cfg.synthetic}; no GAN was trained); ")
        + "the validation split was held out of the training split; the test split was used for evaluation only.",
        "- " + (f"Generator: `{cfg.gan.architecture}`, {len(m['gan']['history'])} epochs, loss `{cfg.gan.loss}`. "
                if not cfg.synthetic else "")
        + f"Classifier: `{cfg.classifier.model}`, {repeats} seeds per training set.",
        f"- Wall time: {m['timings']['total_seconds']:.0f} s on `{m['device']}` "
        f"(GAN {m['timings'].get('gan_seconds', 0):.0f} s, classifiers {m['timings']['classifier_seconds']:.0f} s).",
        "",
        "| class | full train | imbalanced train | synthetic added | validation | test |",
        "|---|---|---|---|---|---|",
    ]
    counts = m["counts"]
    for c, name in enumerate(names):
        lines.append(
            f"| {name} | {counts['full_train'][c]} | {counts['imbalanced_train'][c]} | {counts['synthetic'][c]} "
            f"| {counts['val'][c]} | {counts['test'][c]} |"
        )
    keys = [k for k in METRIC_LABELS if all(k in m[arm] for arm in arms)]  # ROC-AUC: when every test class is there
    lines += [
        "",
        f"## Test results (%, mean ± std over {repeats} seeds)",
        "",
        "| training set | " + " | ".join(METRIC_LABELS[k] for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for arm in arms:
        cells = [f"{pct(m[arm][k])} ± {pct(m[arm]['std'][k])}" for k in keys]
        lines.append(f"| {ARM_LABELS[arm]} | " + " | ".join(cells) + " |")
    lines.append("| **augmented − baseline** (points, 95% CI) | " + " | ".join(interval(diff[k]) for k in keys) + " |")

    consistency = m["gan"]["class_consistency_per_class"]
    lines += [
        "",
        "## Per class: test recall (%) and class consistency of the generator",
        "",
        "| class | " + " | ".join(arms) + " | augmented − baseline (points, 95% CI) | class consistency |",
        "|---|" + "---|" * (len(arms) + 2),
    ]
    for c, name in enumerate(names):
        mark = " (target)" if c in m["target_classes"] else ""
        recalls = " | ".join(pct(m[arm]["per_class_recall"][c]) for arm in arms)
        lines.append(f"| {name}{mark} | {recalls} | {interval(diff['per_class_recall'][c])} | {pct(consistency[c])} |")
    lines += [
        "",
        "![recall per class](figures/per_class_recall.png)",
        "",
        "## Generator",
        "",
        f"**Class consistency {pct(m['gan']['class_consistency'])}%**: the share of "
        f"{cfg.judge_samples_per_class} " + ("fresh samples" if not cfg.synthetic else "supplied images")
        + f" per class that the {m['gan']['judge']} assigns to the class "
        + ("the generator was asked for" if not cfg.synthetic else "they are labelled with")
        + " (the classification judgement of Hu, Zeng and Tian).",
        "",
        "![real and synthetic samples per class](figures/samples.png)",
        "",
        "## Training curves",
        "",
        "![training curves](figures/curves.png)",
        "",
        "## Confusion matrices (test, summed over seeds, row-normalised)",
        "",
        "![confusion matrices](figures/confusion.png)",
        "",
        "## ROC curves (test, first seed, one class against the rest)",
        "",
        "![ROC curves](figures/roc.png)",
        "",
    ]
    lines += leak_section(m["leak_audit"], images, fig_dir)
    lines += [
        "## Reproduce",
        "",
        f"```\n{command}\n```",
        "",
        "Files: `metrics.json` (every number above), `config.yaml` (the resolved config), `synthetic/` (the generated "
        "images added to training), `checkpoints/` (safetensors + JSON)"
        + (", `tensorboard/` (event files: `tensorboard --logdir` it)." if cfg.tensorboard else "."),
        "",
    ]
    return write_report(out, "\n".join(lines), f"ganaug demo: {m['dataset']}")


def leak_section(leak: dict, images: dict[str, ImageDataset], fig_dir: Path) -> list[str]:
    """The leak audit in words, with its closest pairs side by side."""
    audit, dup = leak["memorisation"], leak["split_duplicates"]
    lines = ["## Leak audit", ""]
    if audit is None:
        lines += ["No synthetic images were added, so there is nothing to audit for memorisation.", ""]
    else:
        figures.pair_grid(images["synthetic"].images, images["gan_train"].images, audit["closest_pairs"],
                          ("generated", "train"), ("synthetic image", "nearest GAN training image"),
                          fig_dir / "closest_synthetic_train.png", threshold=audit["threshold"])
        lines += [
            f"Memorisation: {pct(audit['flagged_share'])}% of {audit['audited']} synthetic images (of the "
            f"{audit['of']} added) are closer to their nearest GAN training image than the closest "
            f"{audit['percentile']:g}% of test images are to theirs (threshold {audit['threshold']:.3f}, rms pixel "
            f"distance); {audit['exact_copies']} are exact copies. Median distance: synthetic "
            f"{audit['generated_median']:.3f}, test {audit['test_median']:.3f}. A share well above "
            f"{audit['percentile']:g}% would mean the generator copies its training images.",
            "",
            "![closest synthetic and training images](figures/closest_synthetic_train.png)",
            "",
        ]
    figures.pair_grid(images["test_audit"].images, images["gan_train"].images, dup["closest_pairs"], ("test", "train"),
                      ("test image", "nearest training image"), fig_dir / "closest_test_train.png",
                      threshold=dup["near_threshold"])
    lines += [
        f"Split duplicates: of {dup['n_test']} test images, {dup['exact_test_images']} are byte-identical to a "
        f"training image and {len(dup['near_pairs'])} more lie within {dup['near_threshold']:g} of one "
        f"({pct(dup['duplicated_test_share'])}%): test metrics on them measure memory, not generalisation.",
        "",
        "![closest test and training images](figures/closest_test_train.png)",
        "",
    ]
    return lines
