"""The evaluate-gan report: report.md (readable as text) and report.html (the same, self-contained, with figures)."""

from __future__ import annotations

from pathlib import Path

from ganaug.data.dataset import ImageDataset
from ganaug.report import figures
from ganaug.report.format import fmt, pct
from ganaug.report.html import write_report


def write_gan_report(out: Path, m: dict, train: ImageDataset, synthetic: ImageDataset, test: ImageDataset) -> Path:
    """Write figures, report.md and report.html into ``out``; return the path of report.html."""
    names = m["class_names"]
    g, s, fc = m["generator"], m["samples"], m["feature_classifier"]
    fig_dir = out / "figures"
    figures.sample_grid(train, {"generated": synthetic}, fig_dir / "samples.png")
    mc, audit, dup = m["mode_collapse"], m["memorisation"], m["split_duplicates"]
    shares = {"real training split": (mc["real_share"], None), "generated (as judged)": (mc["generated_share"], None)}
    figures.class_bars(shares, names, fig_dir / "class_histograms.png", "share of images", "Class histograms")
    figures.pair_grid(synthetic.images, train.images, audit["closest_pairs"], ("generated", "train"),
                      ("generated", "nearest training image"), fig_dir / "closest_generated_train.png",
                      threshold=audit["threshold"])
    figures.pair_grid(test.images, train.images, dup["closest_pairs"], ("test", "train"),
                      ("test image", "nearest training image"), fig_dir / "closest_test_train.png",
                      threshold=dup["near_threshold"])
    figures.training_curves({"feature classifier": fc.get("history", [])}, fig_dir / "curves.png",
                            gan_history=m.get("gan_history"))
    cas = {"trained on generated (CAS)": m["cas"], "trained on as many real": m["cas_real_same_size"]}
    figures.per_class_bars(cas, names, fig_dir / "cas_recall.png")
    figures.confusion_matrices(cas, names, fig_dir / "cas_confusion.png")
    figures.roc_curves({k: v["roc_curves"] for k, v in cas.items()}, names, fig_dir / "cas_roc.png")

    kind = "class-conditional" if g["conditional"] else "unconditional"
    source = (f"- Checkpoint `{m['checkpoint']}` (epoch {g['epoch']}), {kind} `{g['architecture']}` generator, "
              f"{'EMA weights' if g['weights'] == 'generator_ema' else 'raw weights'}"
              f"{' (the checkpoint also has EMA weights)' if g['has_ema'] and g['weights'] == 'generator' else ''}; "
              f"{g['image_size']}x{g['image_size']} px, {g['channels']} channel(s), z_dim {g['z_dim']}.")
    if m.get("images"):
        source = (f"- Images supplied from `{m['images']}` (made by any model; no generator was sampled): "
                  f"{sum(g['supplied_class_counts'])} images, {g['image_size']}x{g['image_size']} px, "
                  f"{g['channels']} channel(s).")
    lines = [
        f"# GAN evaluation: `{g['architecture']}` on {m['dataset']}",
        "",
        source,
        f"- {s['total']} generated images"
        + (f" (at most {s['per_class']} per class, labelled by the supplied labels)" if m.get("images")
           else f" ({s['per_class']} per class, labelled by the class asked for)" if g["conditional"]
           else " (labelled by the feature classifier's prediction)")
        + f", seed {m['seed']}" + (f", truncation psi {s['truncation_psi']}." if not m.get("images") else "."),
        f"- Real reference for FID/KID/PRDC: {s['reference']}; real test split: {s['test_size']} images.",
        f"- **Features: {m['features']}.** A `{fc['model']}` classifier trained on {fc['trained_on']} "
        f"(test accuracy {pct(fc['test_accuracy'], '%')}"
        f"{', checkpoint reused' if fc['reused_checkpoint'] else ''}){judge_strength(fc, m['dataset'])}; its "
        "penultimate layer gives the features, its "
        "head the class judgements. Numbers on these features are **not** Inception numbers and compare only with "
        "numbers computed with the same features at the same sample sizes.",
    ]
    if m["inception"] is None:
        lines.append("- No Inception-v3 metrics: give `--inception-weights` (pt_inception-2015-12-05-6726825d.pth) "
                     "to add them.")
    lines += [
        "",
        "## Metrics",
        "",
        "The *real data* column is what real images score on the same measure: for the feature metrics, the real "
        "test split against the same reference (the floor a perfect generator reaches at these sample sizes); for "
        "the CAS, the same classifier trained on as many real training images.",
        "",
        "| metric | generated | real data | better |",
        "|---|---|---|---|",
    ]
    for row in m["table"]:
        value = fmt(row["value"]) + (f" ± {fmt(row['std'], 2)}" if row["std"] is not None else "")
        real = fmt(row["real"]) + (f" ± {fmt(row['real_std'], 2)}" if row["real_std"] is not None else "")
        lines.append(f"| {row['label']} | {value} | {real} | {row['better']} |")

    lines += [
        "",
        "## Samples per class",
        "",
        "Real training images (left) and generated images (right), one row per class"
        + ("." if g["conditional"] else ", generated ones placed by the feature classifier's judgement."),
        "",
        "![real and generated samples per class](figures/samples.png)",
        "",
        "## Per class",
        "",
    ]
    consistency = m["class_consistency"]
    header = "| class | class consistency | generated share (judged) | real share | feature classifier test recall |"
    lines += [header, "|---|---|---|---|---|"]
    for c, name in enumerate(names):
        cc = pct(consistency["per_class"][c], '%') if consistency else "–"
        lines.append(f"| {name} | {cc} | {pct(mc['generated_share'][c], '%')} | {pct(mc['real_share'][c], '%')} "
                     f"| {pct(fc['test_per_class_recall'][c], '%')} |")
    if consistency:
        lines += ["", f"Class consistency: the share of generated images of each class that the feature classifier "
                  f"assigns to the class asked for; overall **{pct(consistency['overall'], '%')}**."]
    missing = ", ".join(names[c] for c in mc["missing_classes"]) or "none"
    lines += [
        "",
        f"Mode collapse: {mc['modes_found']} of {len(names)} classes found among the generated images (a class counts "
        f"when it receives at least {pct(mc['min_share'], '%')} of them); missing: {missing}. "
        f"KL(real ‖ generated) {fmt(mc['kl_real_generated'])} nats, Jensen-Shannon {fmt(mc['js_divergence'])} bits.",
        *intensity_line(m.get("pixel_intensity")),
        "",
        "![class histograms](figures/class_histograms.png)",
        "",
        "## Classification accuracy score",
        "",
        f"A `{m['cas']['classifier']}` trained on the {m['cas']['n_synthetic']} generated images alone (CAS: "
        f"{pct(m['cas']['accuracy'], '%')} test accuracy), against the same classifier trained on "
        f"{m['cas_real_same_size']['n_real']} real training images ({pct(m['cas_real_same_size']['accuracy'], '%')}), both "
        f"tested on the {m['cas']['n_test']} real test images: test recall per class, confusion matrices "
        "(row-normalised) and one-vs-rest ROC curves.",
        "",
        "![CAS recall per class](figures/cas_recall.png)",
        "",
        "![CAS confusion matrices](figures/cas_confusion.png)",
        "",
        "![CAS ROC curves](figures/cas_roc.png)",
        "",
        "## Training curves",
        "",
        ("The GAN's losses per epoch (from the checkpoint), then " if m.get("gan_history") else "")
        + ("the collapse monitor's relative within-class diversity at each checkpoint epoch (mean pairwise distance "
           "of fixed-noise samples in D's features over that of real images of the class: 1 varies like the data, 0 "
           "ignores the noise), then " if any("diversity" in r for r in m.get("gan_history") or []) else "")
        + "the feature classifier's training loss and accuracy per epoch.",
        "",
        "![training curves](figures/curves.png)",
        "",
        "## Memorisation audit",
        "",
        f"Each generated image's distance to its nearest training image, against the test images' distances to "
        f"theirs (rms pixel difference, [0, 1] units). **{pct(audit['flagged_share'], '%')} of the generated images "
        f"({len(audit['flagged'])} of {audit['n_generated']}) are flagged**: closer to the training set than "
        f"{fmt(audit['percentile'])}% of test images are (threshold {fmt(audit['threshold'])}). "
        f"Exact copies: {audit['exact_copies']}. Median distance: generated {fmt(audit['generated_median'])}, "
        f"test {fmt(audit['test_median'])}. A share well above {fmt(audit['percentile'])}% would mean the generator "
        "copies its training images.",
        "",
        f"The {len(audit['closest_pairs'])} closest generated / training pairs:",
        "",
        "![closest generated and training images](figures/closest_generated_train.png)",
        "",
        "## Train / test split duplicates",
        "",
        f"{dup['exact_test_images']} test images are byte-identical to a training image and {len(dup['near_pairs'])} "
        f"more are within {fmt(dup['near_threshold'])} of one ({pct(dup['duplicated_test_share'], '%')} of the "
        f"{dup['n_test']} test images): test metrics on them measure memory, not generalisation.",
        "",
        "![closest test and training images](figures/closest_test_train.png)",
        "",
        "## Reproduce",
        "",
        f"```\n{m['command']}\n```",
        "",
        f"Wall time {m['timings']['total_seconds']:.0f} s on `{m['device']}`. Files: `metrics.json` (every number "
        "above, with its label and the full distance lists), `config.yaml` (the resolved config), "
        "`feature-classifier/` (the feature classifier's checkpoint, reused by a re-run).",
        "",
    ]
    return write_report(out, "\n".join(lines), f"ganaug evaluate-gan: {g['architecture']} on {m['dataset']}")


def intensity_line(pi: dict | None) -> list[str]:
    """The pixel-intensity histograms' divergences (absent from reports written before they were measured)."""
    if not pi:
        return []
    return ["", f"Pixel-intensity histograms ({pi['bins']} bins over 0-255, real reference vs generated): "
            f"KL(real ‖ generated) {fmt(pi['kl_real_generated'])} nats, Jensen-Shannon {fmt(pi['js_divergence'])} bits."]


def judge_strength(fc: dict, dataset: str) -> str:
    """`` — too weak to judge (under the 80 % a cifar10 judge needs)`` for a judge under its dataset's bar, else ''."""
    bar = fc.get("strong_enough_at")
    if bar is None or fc["test_accuracy"] >= bar:
        return ""
    return f" — **too weak to judge** (under the {pct(bar, '%')} a {dataset} judge needs: its numbers are weak witnesses)"
