"""Every results table of docs/results.md, generated from the committed artifacts in docs/reports/.

    python -m ganaug.report.tables docs/reports                          # print every table
    python -m ganaug.report.tables docs/reports --write docs/results.md  # rewrite the tables between their markers

In docs/results.md a table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``. Each starts with one line
naming its artifact, the command that produced it, the device it trained on, its scale and its wall time: from the
artifact where it records them, else from ``provenance.json`` beside it. The papers' numbers printed beside ours come
from ``claims.json``, typed once from the papers. ``tests/report/test_tables.py`` checks that the document and this
module agree, so a number edited by hand fails the tests.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from ganaug.report.artifacts import load, paired, provenance, table
from ganaug.report.format import interval, mean_std, number
from ganaug.report.grid import axis_value, direction_word
from ganaug.report.ssl_tables import ssl_beside_claims, ssl_contest, ssl_methods, ssl_variants, ssl_vs_supervised

MARKER = re.compile(r"<!-- table:(?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- /table -->", re.S)
METRIC_NAMES = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1",
                "roc_auc": "ROC-AUC", "auc": "ROC-AUC", "fid": "FID (small-cnn features)", "kid": "KID",
                "class_consistency": "class consistency", "cas": "CAS", "precision": "precision", "recall": "recall",
                "judge_test_accuracy": "judge test accuracy"}


# --- augment studies -------------------------------------------------------------------------------------------


def augment_paired(reports: Path, artifact: str, classifier: str | None = None) -> list[str]:
    """Every arm of one classifier: the primary metric and its paired differences with each reference arm."""
    data = load(reports, artifact)
    res = data["results"][classifier or next(iter(data["results"]))]
    metric, refs = data["primary_metric"], data["compare_to"]
    best = res.get("vs_best_remedy") or {}
    versus = best.get("comparisons") or {}
    rows = [[arm, mean_std({"mean": m[metric], "std": m["std"][metric]}),
             *(paired(res["comparisons"].get(arm, {}).get(f"vs {ref}", {}).get(metric)) for ref in refs),
             *([paired(versus[arm][metric]) if arm in versus else "best" if arm == best["best"] else ""]
               if versus else [])]
            for arm, m in res["arms"].items()]
    header = ["arm", f"{METRIC_NAMES[metric]} (%)", *(f"vs {ref} (points, 95 % CI)" for ref in refs),
              *([f"vs best remedy, {best['best']} (points, 95 % CI)"] if versus else [])]
    lines = provenance(reports, artifact, data) + table(header, rows)
    if best:
        val = best["validation_balanced_accuracy"]
        lines += ["", f"Best remedy without generated images, chosen on the validation split: `{best['best']}` "
                      f"(validation balanced accuracy {100 * val[best['best']]:.1f} %; the next: " +
                  ", ".join(f"`{k}` {100 * v:.1f} %" for k, v in sorted(((k, v) for k, v in val.items() if k not in
                                                                           versus), key=lambda kv: -kv[1])[1:4]) + ")."]
    if res.get("resolution", {}).get("median") is not None:
        r = res["resolution"]
        lines += ["", f"With {r['seeds']} seeds, the paired differences' spread resolves about "
                      f"{100 * r['median']:.1f} points (median over the comparisons; "
                      f"{100 * r['range'][0]:.1f}-{100 * r['range'][1]:.1f}): smaller true effects read as cannot tell."]
    return lines


def gao_beside_claims(reports: Path) -> list[str]:
    """Gao's three experiments by GAN ratio, its claims beside our arms (test accuracy)."""
    artifact = "augment-gao-cifar10.metrics.json"
    data, claims = load(reports, artifact), load(reports, "claims.json")["gao-cifar10"]
    arms = next(iter(data["results"].values()))["arms"]

    def ours(arm: str) -> str:
        return mean_std({"mean": arms[arm]["accuracy"], "std": arms[arm]["std"]["accuracy"]})

    rows = [[r, *(f"{claims[e][r]:.2f}" for e in ("exp1", "exp2", "exp3")),
             *(ours(f"{a} r={float(r):g}") for a in ("exp1", "exp1+exp2", "exp1+exp2+exp3"))]
            for r in claims["exp1"]]
    rows.append(["no GAN images", f"{claims['baseline']:.2f} (Gao's baseline, \"with traditional augmentation\")",
                 "", "", f"baseline {ours('baseline')}", f"exp2 (classic) {ours('exp2')}",
                 f"exp3 {ours('exp3')}; class-weighted {ours('class-weighted')}"])
    header = ["GAN ratio", "Gao Exp1", "Gao Exp2", "Gao Exp3", "ours: exp1", "ours: exp1+exp2", "ours: exp1+exp2+exp3"]
    return provenance(reports, artifact, data) + table(header, rows)


DCGAN_ARMS = {  # our arm: (its row in the study's Table 1, our label, a short label)
    "baseline": ("original", "original", "original"),
    "exp1 +270/class epoch 30": ("gan-early", "+ GAN (study: epoch 50; ours: epoch 30)", "GAN epoch 30"),
    "exp1 +270/class epoch 60": ("gan-late", "+ GAN (study: epoch 100; ours: epoch 60)", "GAN epoch 60"),
    "strengthened +270/class": ("strengthened", "+ strengthened", "strengthened"),
}


def dcgan_beside_claims(reports: Path) -> list[str]:
    """The DCGAN study's Table 1 beside our accuracies, four classifiers."""
    artifact = "augment-dcgan-study-cifar10.metrics.json"
    data, claims = load(reports, artifact), load(reports, "claims.json")["dcgan-study-cifar10"]
    header, rows = ["training set"], []
    for clf, name in claims["classifiers"].items():
        header += [f"study: {name}", f"ours ({clf})"]
    for arm, (key, label, _) in DCGAN_ARMS.items():
        row = [label]
        for clf in claims["classifiers"]:
            m = data["results"][clf]["arms"][arm]
            row += [f"{claims[key][clf]:.2f}", mean_std({"mean": m["accuracy"], "std": m["std"]["accuracy"]})]
        rows.append(row)
    return provenance(reports, artifact, data) + table(header, rows)


def dcgan_paired(reports: Path) -> list[str]:
    """Each added set against the original data and against the strengthened set, per classifier."""
    artifact = "augment-dcgan-study-cifar10.metrics.json"
    data = load(reports, artifact)
    early, late, strong = "exp1 +270/class epoch 30", "exp1 +270/class epoch 60", "strengthened +270/class"
    pairs = [(early, "baseline"), (late, "baseline"), (strong, "baseline"), (early, strong), (late, strong)]
    rows = [[f"{DCGAN_ARMS[arm][2]} − {DCGAN_ARMS[ref][2]}",
             *(paired(r["comparisons"][arm][f"vs {ref}"][data["primary_metric"]]) for r in data["results"].values())]
            for arm, ref in pairs]
    return provenance(reports, artifact, data) + table(["arm", *data["results"]], rows)


def dcgan_added(reports: Path) -> list[str]:
    """How many images each generator gave per class (the judge labels them) and the training sets' sizes."""
    artifact = "augment-dcgan-study-cifar10.metrics.json"
    data = load(reports, artifact)
    real = sum(data["counts"]["train"])
    rows = [[f"DCGAN {gen}", ", ".join(map(str, counts)), f"{sum(counts):,}", f"{real + sum(counts):,}"]
            for gen, g in data["generators"].items() for counts in g["synthetic_counts"].values()]
    rows += [["strengthened", ", ".join(map(str, c)), f"{sum(c):,}", f"{real + sum(c):,}"]
             for c in data["strengthened_counts"].values()]
    return table(["added set", "images per class (" + ", ".join(data["class_names"]) + ")", "added",
                  "training set"], rows)


def row_share(counts: list[list[int]] | None, row: int, col: int) -> str:
    """``counts[row][col]`` as a percentage of its row (a confusion matrix: how often class ``row`` got answer
    ``col``), or "not recorded" for an artifact written before it was."""
    return f"{100 * counts[row][col] / sum(counts[row]):.1f}" if counts else "not recorded"


def translation(reports: Path, *runs: tuple[str, ...]) -> list[str]:
    """``ganaug translate``'s runs and ``evaluate-gan --images`` of their images, one row per (run, evaluation of
    the translated images[, evaluation of the translations translated back]). How often a judge trained on the
    real training split calls an image the target class: translated images, the control (translated back: the
    translator's artefacts without the translation), real source and real target test images; and how often it
    calls the translated-back images the source, beside its recall of real source images."""
    lines, rows = [], []
    for artifact, evaluation, *control in runs:
        m, e = load(reports, artifact), load(reports, evaluation)
        judge, names = e["feature_classifier"], e["class_names"]
        source, target = names.index(m["source"]), names.index(m["target"])
        back = load(reports, control[0]) if control else None
        confusion = judge.get("test_confusion")  # absent from artifacts written before it was recorded
        back_answers = back["class_consistency"].get("answers") if back else None
        rows.append([f"{m['source']} -> {m['target']}", f"{m['source_images']:,} / {m['target_images']:,}",
                     f"{m['history'][-1]['step']:,}", f"{m['cycle_l1']:.3f}",
                     f"{100 * e['class_consistency']['overall']:.1f}",
                     row_share(back_answers, source, target) if back else "not measured",
                     row_share(confusion, source, target), f"{100 * judge['test_per_class_recall'][target]:.1f}",
                     f"{100 * back['class_consistency']['overall']:.1f}" if back else "not measured",
                     f"{100 * judge['test_per_class_recall'][source]:.1f}", f"{100 * judge['test_accuracy']:.1f}"])
        lines += provenance(reports, artifact, m) + provenance(reports, evaluation, e)
        lines += provenance(reports, control[0], back) if back else []
    return lines + table(
        ["translation", "source / target training images", "steps", "cycle L1 (all sources)",
         "judged target: translated (%)", "judged target: translated back (%)", "judged target: real source (%)",
         "judged target: real target (%)", "judged source: translated back (%)", "judged source: real source (%)",
         "judge test accuracy (%)"], rows)


def segment(reports: Path, artifact: str) -> list[str]:
    """``ganaug segment``: each arm's Dice / IoU / pixel accuracy over the (fold, seed) units, Dice per class, and its
    paired difference in mean Dice with its reference arm."""
    m = load(reports, artifact)
    pct = lambda s: f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"  # noqa: E731
    vs = {arm: next(iter(c.items())) for arm, c in m["comparisons"].items()}
    rows = [[arm, pct(s["mean_dice"]), pct(s["mean_iou"]), pct(s["pixel_accuracy"]), *(pct(d) for d in s["dice"]),
             f"{vs[arm][0]}: {paired(vs[arm][1]['mean_dice'])}" if arm in vs else "—"] for arm, s in m["arms"].items()]
    header = ["arm", "mean Dice (%)", "mean IoU (%)", "pixel accuracy (%)",
              *(f"Dice {n} (%)" for n in m["class_names"]), "mean Dice, paired (points, 95 % CI)"]
    return provenance(reports, artifact, m) + table(header, rows)


# --- demo, GAN evaluation, grids --------------------------------------------------------------------------------

DEMO_ARMS = {"baseline": "baseline: imbalanced real", "augmented": "augmented: imbalanced real + synthetic",
             "reference": "reference: full real training split"}


def demo(reports: Path, artifact: str) -> list[str]:
    """The demo's three training sets and the paired difference, accuracy / balanced accuracy / macro-F1."""
    m = load(reports, artifact)
    keys = ["accuracy", "balanced_accuracy", "macro_f1"]
    rows = [[label, *(mean_std({"mean": m[arm][k], "std": m[arm]["std"][k]}) for k in keys)]
            for arm, label in DEMO_ARMS.items() if arm in m]
    rows.append(["augmented − baseline (points, 95 % CI)", *(paired(m["augmented_vs_baseline"][k]) for k in keys)])
    names, diff = m["class_names"], m["augmented_vs_baseline"]["per_class_recall"]
    recall = "; ".join(f"{names[c]}: {number(m['baseline']['per_class_recall'][c])} -> "
                       f"{number(m['augmented']['per_class_recall'][c])}, {interval(diff[c])}"
                       for c in m["target_classes"])
    consistency = ", ".join(number(c) for c in m["gan"]["class_consistency_per_class"])
    header = ["training set", *(METRIC_NAMES[k] + " (%)" for k in keys)]
    return provenance(reports, artifact, m) + table(header, rows) + [
        "", f"Recall of the cut classes, baseline -> augmented, difference (points, 95 % CI): {recall}. Class "
        f"consistency of the generator: {number(m['gan']['class_consistency'])} % (per class: {consistency})."]


def gan_evaluation(reports: Path, artifact: str) -> list[str]:
    """evaluate-gan's table: every metric of the generated images beside the real test split (the floor)."""
    m = load(reports, artifact)

    def value(v: float | None, std: float | None, key: str) -> str:
        if v is None:
            return "—"
        if isinstance(v, int) or key in ("exact_copies", "modes_found"):
            return str(v)
        text = number(v, key) + (" %" if key != "class_coverage" and number(v, key) != f"{v:.3g}" else "")
        return text + ("" if std is None else f" ± {number(std, key)}")

    rows = [[r["label"], value(r["value"], r["std"], r["key"]), value(r["real"], r["real_std"], r["key"]), r["better"]]
            for r in m["table"]]
    return provenance(reports, artifact, m) + table(["metric", "generated", "real (floor / reference)", "better"], rows)


def plain_classifier(reports: Path, artifact: str, published: str) -> list[str]:
    """An ``augment`` run of plain classifiers (the baseline arm alone): training, validation and test accuracy."""
    data = load(reports, artifact)
    rows = []
    for name, res in data["results"].items():
        c, arm = res["config"], res["arms"]["baseline"]
        val = res["validation_balanced_accuracy"]["baseline"]
        rows.append([f"`{name}`", f"{c['optimizer']} lr {c['lr']:g}, {c['epochs']} epochs, batch {c['batch_size']}",
                     number(res["histories"]["baseline"][-1]["train_acc"], "accuracy"),
                     number(sum(val) / len(val), "accuracy"),
                     mean_std({"mean": arm["accuracy"], "std": arm["std"]["accuracy"]}), str(len(arm["runs"])),
                     published])
    header = ["classifier", "training", "training accuracy (%, last epoch, seed 1)", "validation (%)",
              "test accuracy (%)", "n", "published (train / test)"]
    return provenance(reports, artifact, data) + table(header, rows)


def grid(reports: Path, artifact: str, published: dict[str, str] | None = None, also: tuple[str, ...] = ()) -> list[str]:
    """``ganaug results --json`` of a grid: mean ± std per group and the paired difference to the baseline;
    ``published``: a paper's figure per group (keyed by the group's axis values as the table writes them);
    ``also``: more metrics whose paired difference gets a column, said as higher / lower / cannot tell (for a
    metric where lower is better, such as FD, "helped" would mislead)."""
    data = load(reports, artifact)
    metrics = list(data["table"][0]["metrics"])
    first = metrics[0]
    rows = []
    for g in data["table"]:
        cells = [number(g["metrics"][k]["mean"], k) + " ± " + number(g["metrics"][k]["std"], k) for k in metrics]
        delta = paired(g["vs_baseline"][first], first) if "vs_baseline" in g else "baseline"
        axes = [axis_value(g["axes"].get(a)) for a in data["axes"]]
        more = [f"{interval(g['vs_baseline'][k], k)} {direction_word(g['vs_baseline'][k])}" if "vs_baseline" in g
                else "baseline" for k in also]
        extra = [published.get(", ".join(axes), "—")] if published is not None else []
        rows.append([*axes, str(len(g["repeats"])), *cells, delta, *more, *extra])
    header = [*data["axes"], "n", *(METRIC_NAMES.get(k, k) for k in metrics), f"Δ {METRIC_NAMES.get(first, first)}"
              " vs baseline", *(f"Δ {METRIC_NAMES.get(k, k)}" for k in also),
              *(["published"] if published is not None else [])]
    return provenance(reports, artifact) + table(header, rows)


# The GAN overview's Table 1 (training / validation accuracy) and its text (Model 1: SGD, test "95-97 %").
TABLE1 = {"lr=0.01, model=mlp, optimizer=adam": "98 / 96 %", "lr=0.5, model=mlp, optimizer=adam": "98 / 97 %",
          "lr=0.01, model=mlp-5, optimizer=adam": "98 / 96 %", "lr=0.1, model=mlp, optimizer=sgd": "96-98 / 95-97 %",
          "lr=0.1, model=mlp, optimizer=adam": "97 % (text, Models 2-4)"}


TABLES: dict[str, Callable[[Path], list[str]]] = {
    "demo-digits": lambda r: demo(r, "demo-digits.metrics.json"),
    "gan-evaluation-mnist": lambda r: gan_evaluation(r, "gan-evaluation-mnist.metrics.json"),
    "ssl-hu-table3-mnist": ssl_beside_claims,
    "ssl-hu-table3-mnist-vs-supervised": lambda r: ssl_vs_supervised(r, "ssl-hu-table3-mnist.metrics.json"),
    "ssl-mnist-100-labels-gpu": lambda r: ssl_methods(r, "ssl-mnist-100-labels-gpu.metrics.json"),
    "ssl-mnist-100-labels": lambda r: ssl_contest(r, "ssl-mnist-100-labels.metrics.json", "ssl-mnist-100"),
    "ssl-cifar10-4000-labels": lambda r: ssl_contest(r, "ssl-cifar10-4000-labels.metrics.json", "ssl-cifar10-4000"),
    "translate-fashion-shirt": lambda r: translation(r, tuple(f"translate-fashion-shirt{p}.metrics.json"
                                                              for p in ("", "-eval", "-recon-eval"))),
    "translate-cifar10": lambda r: translation(r, *(tuple(f"translate-cifar10-{pair}{p}.metrics.json"
                                                          for p in ("", "-eval", "-recon-eval"))
                                                    for pair in ("cat-dog", "automobile-truck"))),
    "segment-isbi": lambda r: segment(r, "segment-isbi.metrics.json"),
    "augment-translate-fashion": lambda r: augment_paired(r, "augment-translate-fashion.metrics.json"),
    "ssl-triple-gan-attn-collapse": lambda r: ssl_variants(r, {
        "Hu et al.'s losses (diversity 0)": "ssl-triple-gan-attn-diversity0-mnist.metrics.json",
        "+ mode-seeking term (diversity 1, the default)": "ssl-triple-gan-attn-diversity1-mnist.metrics.json"},
        "triple-gan-attn", "10%"),
    "augment-gao-cifar10": gao_beside_claims,
    "augment-gao-cifar10-paired": lambda r: augment_paired(r, "augment-gao-cifar10.metrics.json"),
    "augment-dcgan-study-cifar10": dcgan_beside_claims,
    "augment-dcgan-study-cifar10-paired": dcgan_paired,
    "augment-dcgan-study-cifar10-added": dcgan_added,
    "augment-longtail-rho100-cifar10": lambda r: augment_paired(r, "augment-longtail-rho100-cifar10.metrics.json"),
    "augment-longtail-rho10-cifar10": lambda r: augment_paired(r, "augment-longtail-rho10-cifar10.metrics.json"),
    "augment-longtail-rho100-remedies-cifar10": lambda r: augment_paired(
        r, "augment-longtail-rho100-remedies-cifar10.metrics.json"),
    "augment-longtail-rho10-remedies-cifar10": lambda r: augment_paired(
        r, "augment-longtail-rho10-remedies-cifar10.metrics.json"),
    "augment-small-cifar10": lambda r: augment_paired(r, "augment-small-cifar10.metrics.json"),
    "augment-digits": lambda r: augment_paired(r, "augment-digits.metrics.json"),
    "smoke-grid": lambda r: grid(r, "smoke-grid.results.json"),
    "gan-losses-grid": lambda r: grid(r, "gan-losses-grid.results.json"),
    "gan-bakeoff": lambda r: grid(r, "gan-bakeoff.results.json"),
    "gan-bakeoff-mnist": lambda r: grid(r, "gan-bakeoff-mnist.results.json"),
    "gan-bakeoff-mnist-biggan": lambda r: grid(r, "gan-bakeoff-mnist-biggan.results.json"),
    "gan-bakeoff-fashion": lambda r: grid(r, "gan-bakeoff-fashion.results.json"),
    "gan-bakeoff-cifar10": lambda r: grid(r, "gan-bakeoff-cifar10.results.json", also=("fid",)),
    "classifier-mlp-mnist": lambda r: grid(r, "classifier-mlp-mnist.results.json", TABLE1),
    "classifier-mlp-fashion-mnist": lambda r: plain_classifier(r, "classifier-mlp-fashion-mnist.metrics.json",
                                                               "91 / 88 %"),
}


PENDING: dict[str, tuple[str, str, str]] = {  # tables whose artifact is not committed yet: (artifact, command, scale)
}


def pending(name: str) -> list[str]:
    """What stands in a table's place until its artifact is committed: the command and the scale, no numbers."""
    artifact, command, scale = PENDING[name]
    return [f"*No artifact committed yet* (`docs/reports/{artifact}`) · `{command}` · scale: {scale}", "",
            "The table returns when its artifact is committed; its earlier numbers had none and are withdrawn."]


def render(reports: Path, name: str) -> str:
    """One table as it stands between its markers (the lines, each ending in a newline)."""
    missing = name in PENDING and not (reports / PENDING[name][0]).exists()
    return "".join(line + "\n" for line in (pending(name) if missing else TABLES[name](reports)))


def fill(document: str, reports: Path) -> str:
    """``document`` with every marked table regenerated from ``reports``."""
    return MARKER.sub(lambda m: f"<!-- table:{m['name']} -->\n{render(reports, m['name'])}<!-- /table -->", document)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", type=Path, help="the folder of committed artifacts, e.g. docs/reports")
    parser.add_argument("--write", type=Path, help="rewrite the marked tables of this markdown file in place")
    parser.add_argument("--table", action="append", help="only these tables (default: all)")
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(fill(args.write.read_text(), args.reports))
        return
    for name in args.table or TABLES:
        sys.stdout.write(f"<!-- table:{name} -->\n{render(args.reports, name)}<!-- /table -->\n\n")


if __name__ == "__main__":
    main()
