"""The semi-supervised study's report: report.md and a self-contained report.html with its figures."""

from __future__ import annotations

from pathlib import Path

import torch

from ganaug.config import SSLConfig
from ganaug.data.dataset import ImageDataset
from ganaug.report import figures
from ganaug.report.format import direction, interval, mean_std, pct, quick_banner, verdict
from ganaug.report.html import precision_note, write_report

COLUMNS = {"accuracy": "accuracy", "macro_precision": "macro precision", "macro_recall": "macro recall",
           "macro_f1": "macro-F1", "roc_auc": "ROC-AUC (OvR)"}


def write_ssl_report(out: Path, cfg: SSLConfig, m: dict, results: dict[str, dict[str, list[dict]]], command: str,
                     real: ImageDataset) -> Path:
    """Write figures, report.md and report.html into ``out``; return the path of report.html. ``real``: the training
    split, whose images stand beside the generated ones."""
    names, summary = m["class_names"], m["results"]
    tags = list(m["labeled"])
    first = tags[0]
    fig_dir = out / "figures"
    figures.roc_curves({a: runs[first][0]["roc_curves"] for a, runs in results.items()}, names, fig_dir / "roc.png")
    figures.training_curves({a: runs[first][0]["history"] for a, runs in results.items()}, fig_dir / "curves.png",
                            x="step")
    figures.confusion_matrices({a: summary[a][first] for a in results}, names, fig_dir / "confusion.png")
    figures.per_class_bars({a: summary[a][first] for a in results}, names, fig_dir / "per_class_recall.png")
    samples = {sample_title(a, runs[first][0]): generated_samples(runs[first][0], names)
               for a, runs in results.items() if "samples" in runs[first][0]}
    if samples:
        figures.sample_grid(real, samples, fig_dir / "samples.png")

    repeats = cfg.repeats
    fallbacks = [{"trainer": f"{a} ({tag}, seed {run['seed']})", **run["precision_fallback"]}
                 for a, by_tag in results.items() for tag, runs in by_tag.items() for run in runs
                 if run.get("precision_fallback")]
    lines = [
        headline(m),
        "",
        *quick_banner(cfg.quick),
        *verdict_section(m),
        f"Test-split metrics in % (mean ± std over {repeats} repeats; each repeat draws its own labelled subset and "
        f"seed, shared by all algorithms). {cfg.steps:,} iterations of {cfg.batch_size} labelled + "
        f"{cfg.unlabeled_batch_size} unlabelled images" + unlabeled_note(m, cfg.unlabeled_batch_size) +
        "; the final networks are evaluated (no early stopping; fixmatch and freematch: their EMA copy).",
        "",
        *precision_note(fallbacks),
        "| labelled | algorithm | " + " | ".join(COLUMNS.values()) + " | class consistency | diversity | FID | IS "
        "| train s |",
        "|---" * (len(COLUMNS) + 7) + "|",
    ]
    for tag in tags:
        for a in results:
            s = summary[a][tag]
            cells = [mean_std(s[k]) for k in COLUMNS]
            gen = [mean_std(s["class_consistency"]), mean_std(s.get("diversity"), 1, 2), mean_std(s["fid"], 1, 2),
                   mean_std(s["inception_score"], 1, 2)]
            lines.append(f"| {tag} ({m['labeled'][tag]['total']:,}) | {a} | " + " | ".join(cells + gen) +
                         f" | {s['train_seconds']['mean']:.0f} |")
    comparisons = m["vs_supervised"]
    if comparisons:
        lines += ["", "## Against the supervised floor", "",
                  "Paired differences in accuracy and macro-F1 (algorithm minus `supervised` on the same split and seed), "
                  "percentage points with 95% t-intervals.", "",
                  "| labelled | algorithm | accuracy | macro-F1 |", "|---|---|---|---|"]
        for tag in tags:
            for a, per in comparisons.items():
                lines.append(f"| {tag} | {a} | {interval(per[tag]['accuracy'])} | {interval(per[tag]['macro_f1'])} |")
    judge = m["judge"]
    if judge and judge["test_accuracy"] is not None:
        lines += ["", f"Generation metrics use a judge: {judge['name']}, trained on {judge['trained_on']}, "
                  f"test accuracy {100 * judge['test_accuracy']:.1f}%. Class consistency is the share of generated images "
                  "the judge assigns to the class they were generated for (the \"generation quality\" of Hu, Zeng & Tian; n/a for "
                  "unconditional generators). Diversity is the collapse monitor's relative within-class diversity at the "
                  "last evaluation (mean pairwise distance of fixed-noise samples in D's features over that of the "
                  "labelled images: about 1 when the generator varies as the data does, 0 when it ignores its noise). "
                  "FID and IS are on the judge's features, not Inception's: compare them only within this report."]
    lines += [
        "", f"## Per class, curves, ROC and confusion ({first} labelled)", "",
        "Test recall per class (mean over repeats):", "", "![recall per class](figures/per_class_recall.png)", "",
        "Training loss and validation accuracy (first repeat):", "", "![training curves](figures/curves.png)", "",
        "One-vs-rest test ROC curves (first repeat):", "", "![ROC curves](figures/roc.png)", "",
        "Test confusion matrices (summed over repeats, row-normalised):", "",
        "![confusion matrices](figures/confusion.png)",
    ]
    if samples:
        lines += ["", "## Real and generated images (first repeat)", "",
                  "Real training images (left), then each generator's, one row per class (for an unconditional "
                  "generator the rows are not classes).", "", "![real and generated images](figures/samples.png)"]
    lines += ["", "## Reproduce", "", f"```\n{command}\n```", "",
              "Labelled images per class: " + "; ".join(f"{t}: {m['labeled'][t]['per_class']}" for t in tags) + ". "
              f"Device: {m['device']}. Wall time: {m['total_seconds']:.0f} s."]
    return write_report(out, "\n".join(lines) + "\n", f"ganaug ssl: {m['dataset']}")


def unlabeled_note(m: dict, default: int) -> str:
    """`` (fixmatch: 448)``: the methods whose unlabelled batch differs from ``unlabeled_batch_size`` (mu x B)."""
    other = {a: n for a, n in m.get("unlabeled_per_step", {}).items() if n != default}
    return f" ({', '.join(f'{a}: {n}' for a, n in other.items())}, mu x the labelled batch)" if other else ""


def headline(m: dict) -> str:
    """The report's first line: each GAN method against the best method without a generator, in words (why there
    is no interval, e.g. too few seeds, said once at the end)."""
    pairs = [(tag, v["best"], gan, d["accuracy"]) for tag, v in m.get("vs_best_without_generator", {}).items() if v
             for gan, d in v["comparisons"].items()]
    said = [f"`{gan}` vs the best without a generator (`{best}`) at {tag}: "
            + ("cannot tell" if direction(d) is None else verdict(d).replace("**", "")) for tag, best, gan, d in pairs]
    why = sorted({d.get("note") or "no interval" for *_, d in pairs if direction(d) is None})
    return (f"# ganaug ssl on {m['dataset']}: " + ("; ".join(said) + (f" ({'; '.join(why)})" if why else "")
            if said else "no GAN method met a method without a generator here (the verdict needs both kinds)"))


def verdict_section(m: dict) -> list[str]:
    """Is a GAN worth it? Each GAN method against the method without a generator that scored best on validation."""
    rows = [(tag, v, gan, d) for tag, v in m.get("vs_best_without_generator", {}).items() if v
            for gan, d in v["comparisons"].items()]
    if not rows:
        return []
    lines = ["## Is a generator worth it?", "",
             "Each GAN method against the method without a generator with the best mean validation accuracy (chosen "
             "on the validation split, never on test), test accuracy paired by repeat (same labelled split and seed), "
             "percentage points with the 95% t-interval: helped (above 0), did not help (below 0), cannot tell.", "",
             "| labelled | GAN method | best without a generator (validation accuracy) | test accuracy difference | "
             "verdict |", "|---|---|---|---|---|"]
    for tag, v, gan, d in rows:
        best = f"`{v['best']}` ({pct(v['validation_accuracy'][v['best']])}%)"
        lines.append(f"| {tag} | `{gan}` | {best} | {interval(d['accuracy'])} | {verdict(d['accuracy'])} |")
    return lines + [""]


def generated_samples(run: dict, names: list[str], per_row: int = 8) -> ImageDataset:
    """A run's saved samples as a dataset; an unconditional generator's (all labelled 0) are dealt into rows of
    ``per_row``, one row per class slot, so that the grid shows them all."""
    images = torch.tensor(run["samples"]["images"], dtype=torch.uint8)
    labels = torch.tensor(run["samples"]["labels"])
    if run.get("class_consistency") is None:  # unconditional: the labels say nothing
        labels = torch.arange(len(labels)) // per_row % len(names)
    return ImageDataset(images, labels, names)


def sample_title(algorithm: str, run: dict) -> str:
    return algorithm if run.get("class_consistency") is not None else f"{algorithm} (unconditional)"
