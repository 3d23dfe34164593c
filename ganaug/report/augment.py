"""``ganaug augment``'s report: report.md (readable as text) and report.html (the same, self-contained, with figures)."""

from __future__ import annotations

from pathlib import Path

from ganaug.config import AugmentConfig
from ganaug.data.dataset import ImageDataset
from ganaug.paths import slug
from ganaug.report import figures
from ganaug.report.format import interval, pct, quick_banner, verdict
from ganaug.report.html import precision_note, write_report

METRICS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1", "auc": "ROC-AUC"}
PRIMARY = "balanced_accuracy"


def write_augment_report(out: Path, cfg: AugmentConfig, m: dict, real: ImageDataset,
                         synthetic: dict[tuple[str, str], ImageDataset], test_audit: ImageDataset) -> Path:
    """Write figures, report.md and report.html into ``out``; return the path of report.html.

    ``real``: the imbalanced training split (the GAN's images); ``synthetic``: each (generator, mixing plan)'s set;
    ``test_audit``: the test images of the leak audit. The leak audit's closest pairs index into these.
    """
    names, fig_dir = m["class_names"], out / "figures"
    lines = [f"# ganaug augment: does it help on {m['dataset']}?", "", *quick_banner(cfg.quick)]
    lines += answer(m) + [""] + precision_note(m.get("precision_fallbacks")) + setup(cfg, m)
    for clf, res in m["results"].items():
        lines += classifier_section(clf, res, m, names, fig_dir)
    lines += generator_section(m, real, synthetic, fig_dir)
    lines += duplicates_section(m["split_duplicates"], real, test_audit, fig_dir)
    lines += [
        "## Reproduce", "", f"```\n{m['command']}\n```", "",
        "Files: `metrics.json` (every number above, per repeat), `config.yaml` (the resolved config), `splits.json` "
        "(the training-split positions of every image the GAN and the classifiers trained on, and of the validation "
        "split), `checkpoints/` (safetensors + JSON)"
        + (", `tensorboard/` (event files: `tensorboard --logdir` it)." if cfg.tensorboard else "."), "",
    ]
    return write_report(out, "\n".join(lines), f"ganaug augment: {m['dataset']}")


def answer(m: dict) -> list[str]:
    """The first lines: generated images against the best remedy without them, then each arm against each
    reference, on the primary metric, in words, and the smallest difference the seeds resolve."""
    lines = best_remedy_lines(m)
    lines += [f"**Each arm against its references** ({METRICS[PRIMARY]} on the untouched test split, difference "
              "paired by seed with its 95% t-interval, in percentage points):", ""]
    for clf, res in m["results"].items():
        for arm, comps in res["comparisons"].items():
            if not comps:
                continue
            words = "; ".join(f"{ref}: {verdict(d[PRIMARY])}, {interval(d[PRIMARY])}" for ref, d in comps.items())
            lines.append(f"- `{clf}` · **{arm}** {words}")
    return lines + resolution_lines(m)


def best_remedy_lines(m: dict) -> list[str]:
    """The report's first answer: does any arm with GAN images beat the best arm without them (chosen on
    validation), paired by seed on test? With no GAN arm: the best remedy and how it did against the baseline."""
    verdicts = {clf: res["vs_best_remedy"] for clf, res in m["results"].items() if res.get("vs_best_remedy")}
    if not verdicts:
        return []
    gan = any(v["comparisons"] for v in verdicts.values())
    lines = ["**Do generated images add anything over the best remedy without them?** " +
             ("Each arm with GAN images against the arm without them that scored best on the validation split "
              f"({METRICS[PRIMARY]}), paired by seed, on the test split:" if gan else
              "No arm here uses generated images. The best remedy on the validation split "
              f"({METRICS[PRIMARY]}), against the baseline on the test split:"), ""]
    for clf, v in verdicts.items():
        flattered = v["best"] in m["results"][clf].get("posthoc_taus", {})  # its tau was fit on the same split
        best = (f"`{v['best']}` (validation {pct(v['validation_balanced_accuracy'][v['best']])}%"
                + (", its tau chosen on the same split, which flatters it" if flattered else "") + ")")
        for arm, d in v["comparisons"].items():
            lines.append(f"- `{clf}` · **{arm}** vs best remedy {best}: {verdict(d[PRIMARY])}, {interval(d[PRIMARY])}")
        if not gan:
            d = v.get("vs_baseline")
            lines.append(f"- `{clf}` · best remedy {best}" + (f": vs baseline {verdict(d[PRIMARY])}, "
                                                              f"{interval(d[PRIMARY])}" if d else
                                                              " (the baseline itself, or no baseline arm)"))
    return lines + [""]


def resolution_lines(m: dict) -> list[str]:
    """One line per classifier: the smallest difference its seeds' observed spread resolves (the interval's
    half-width, t * sd / sqrt(n)); smaller true differences read "cannot tell"."""
    lines = []
    for clf, res in m["results"].items():
        r = res.get("resolution")
        if r and r["median"] is not None:
            lo, hi = r["range"]
            lines.append(f"- `{clf}`: with {r['seeds']} seeds, the observed spread of the paired differences resolves "
                         f"a {METRICS[r['metric']]} difference of about {pct(r['median'])} points (median of "
                         f"{len(r['per_comparison'])} comparisons, {pct(lo)}–{pct(hi)}; t_0.975,n-1 · sd / √n): a "
                         "smaller true difference reads \"cannot tell\".")
        elif r and r["per_comparison"]:
            lines.append(f"- `{clf}`: with {r['seeds']} seeds no difference can be resolved (an interval needs 3).")
    return [""] + lines if lines else []


def setup(cfg: AugmentConfig, m: dict) -> list[str]:
    names, counts = m["class_names"], m["counts"]
    targets = ", ".join(names[c] for c in m["target_classes"])
    lines = ["## Setup", ""]
    if m["scale"]:
        lines.append(f"- **Scale `{m['scale']['name']}`**: {m['scale']['note'] or 'no note in the config'}")
    if m["variant"]:
        v = m["variant"]
        overrides = ", ".join(f"`{k}={val}`" for k, val in v["set"].items()) or "nothing"
        lines.append(f"- **Variant `{v['name']}`**: {v['note'] or 'no note'} (sets {overrides}).")
    if counts["train_used"] != counts["official_train"]:
        lines.append(f"- **Scaled down**: {sum(counts['train_used'])} of the {sum(counts['official_train'])} official "
                     f"training images used (`train_per_class={cfg.train_per_class}`).")
    if counts["test"] != counts["official_test"]:
        lines.append(f"- **Scaled down**: evaluated on {sum(counts['test'])} of the {sum(counts['official_test'])} test "
                     f"images (`test_per_class={cfg.test_per_class}`).")
    imb = cfg.imbalance
    resolved = m.get("imbalance") or {"profile": imb.profile, "reason": ""}
    detail = {"reduce": f"classes {imb.classes} cut to {imb.fraction:g}", "long-tail": f"long tail, rho {imb.rho:g}",
              "counts": f"counts {imb.counts}", "none": "none", "natural": "kept as it is",
              }[resolved["profile"]] + (f" ({resolved['reason']})" if resolved["reason"] else "")
    lines += [
        f"- Dataset `{m['dataset']}`; imbalance: {detail}; target classes (get synthetic images): {targets}; "
        f"mixing `{m['mixing']['mode']}`" + (" (GAN ratio = share of a target class's training images that are "
                                             "synthetic, as in Gao's study)" if m["mixing"]["mode"] == "ratio" else "") + ".",
        "- The validation split was held out of the training split before the imbalance; "
        + (f"the generated images were supplied ({cfg.synthetic}), no GAN trained; the judge classifier trained"
           if cfg.synthetic else "the GAN and the judge classifier trained")
        + " on the imbalanced training split only; the test split was used for evaluation only.",
        f"- Leak check: {leak_line(m['leak_check'])}",
        f"- Classifiers: {', '.join(f'`{c}`' for c in m['results'])}, {repeats(m)} seeds per arm, paired by seed. "
        f"Wall time {m['timings']['total_seconds']:.0f} s on `{m['device']}` (GAN {m['timings']['gan_seconds']:.0f} s, "
        f"synthetic sets {m['timings']['synthetic_seconds']:.0f} s, classifiers {m['timings']['classifier_seconds']:.0f} s).",
        "", "Arms:", "",
    ]
    lines += [f"- `{a['key']}`: {a['description']}" for a in m["arms"]]
    plans = m["mixing"]["plans"]
    lines += ["", "| class | train | imbalanced train | validation | test | " +
              " | ".join(f"{k}: real + synthetic" for k in plans) + " |",
              "|---|---|---|---|---|" + "---|" * len(plans)]
    for c, name in enumerate(names):
        cells = " | ".join(f"{p['real'][c]} + {p['synthetic'][c]}" for p in plans.values())
        mark = " (target)" if c in m["target_classes"] else ""
        lines.append(f"| {name}{mark} | {counts['train'][c]} | {counts['imbalanced_train'][c]} | {counts['val'][c]} "
                     f"| {counts['test'][c]} | {cells} |")
    return lines + [""]


def leak_line(lc: dict) -> str:
    return (f"{lc['validation_positions_in_training_data']} validation images among the training images (by position); "
            f"{lc['generated_images_identical_to_a_test_image']} generated images identical to a test image, "
            f"{lc['generated_images_identical_to_a_validation_image']} to a validation image; "
            f"{lc['test_images_identical_to_a_training_image']} test images identical to a training image "
            "(duplicates in the dataset itself).")


def repeats(m: dict) -> str:
    return "/".join(sorted({str(r["config"]["repeats"]) for r in m["results"].values()}))


def classifier_section(clf: str, res: dict, m: dict, names: list[str], fig_dir: Path) -> list[str]:
    arms = res["arms"]
    keys = [k for k in METRICS if all(k in a for a in arms.values())]
    n = next(iter(arms.values()))["repeats"]
    lines = [f"## `{clf}`: test results (%, mean ± std over {n} seeds)", "",
             "| arm | " + " | ".join(METRICS[k] for k in keys) + " |", "|---|" + "---|" * len(keys)]
    for arm, s in arms.items():
        lines.append(f"| {arm} | " + " | ".join(f"{pct(s[k])} ± {pct(s['std'][k])}" for k in keys) + " |")
    refs = list(dict.fromkeys(ref for comps in res["comparisons"].values() for ref in comps))
    lines += ["", f"Paired differences (points, 95% CI) and what they say, on {METRICS[PRIMARY]} "
              "(the other metrics are in metrics.json):", "",
              "| arm | " + " | ".join(f"{ref}: difference | {ref}: verdict" for ref in refs) + " |",
              "|---|" + "---|---|" * len(refs)]
    for arm, comps in res["comparisons"].items():
        if not comps:
            continue
        cells = [f"{interval(comps[r][PRIMARY])} | {verdict(comps[r][PRIMARY])}" if r in comps else "- | -" for r in refs]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    shown = range(len(names)) if len(names) <= 12 else m["target_classes"]
    lines += ["", "Test recall per class (%, mean over seeds; classes marked * got synthetic images):", "",
              "| arm | " + " | ".join(names[c] + ("*" if c in m["target_classes"] else "") for c in shown) + " |",
              "|---|" + "---|" * len(shown)]
    for arm, s in arms.items():
        lines.append(f"| {arm} | " + " | ".join(pct(s["per_class_recall"][c]) for c in shown) + " |")
    bars = figures.per_class_bars(arms, names, fig_dir / f"{clf}-recall.png", m["target_classes"])
    rows = [(f"{arm} {ref}", d[PRIMARY]["mean"], d[PRIMARY]["low"], d[PRIMARY]["high"])
            for arm, comps in res["comparisons"].items() for ref, d in comps.items()]
    lines += ["", f"![recall per class]({bars.relative_to(fig_dir.parent)})", ""]
    if rows:
        forest = figures.difference_intervals(rows, fig_dir / f"{clf}-differences.png", f"{METRICS[PRIMARY]} difference")
        lines += [f"![paired differences]({forest.relative_to(fig_dir.parent)})", ""]
    gan_history = next((g["history"] for g in m["generators"].values() if g.get("history")), None)
    curves = figures.training_curves(res["histories"], fig_dir / f"{clf}-curves.png", gan_history=gan_history)
    confusion = figures.confusion_matrices(arms, names, fig_dir / f"{clf}-confusion.png")
    lines += [("GAN losses, then each arm's training loss and validation accuracy (first seed):" if gan_history else
               "Each arm's training loss and validation accuracy (first seed):"), "",
              f"![training curves]({curves.relative_to(fig_dir.parent)})", "",
              "Test confusion matrices (summed over seeds, row-normalised):", "",
              f"![confusion matrices]({confusion.relative_to(fig_dir.parent)})", ""]
    if res.get("roc_curves"):
        roc = figures.roc_curves(res["roc_curves"], names, fig_dir / f"{clf}-roc.png")
        lines += ["One-vs-rest test ROC curves (first seed):", "", f"![ROC curves]({roc.relative_to(fig_dir.parent)})", ""]
    return lines


def generator_section(m: dict, real: ImageDataset, synthetic: dict[tuple[str, str], ImageDataset],
                      fig_dir: Path) -> list[str]:
    """Per generator: its candidate pool, class consistency and memorisation audit of each set, real and generated
    images per class, and the audit's closest generated / training pairs."""
    if not m["generators"]:
        return []
    lines = ["## Generators and their images", ""]
    for key, g in m["generators"].items():
        pool = g["pool"]
        epoch = f"; epoch {g['epoch']}" if g.get("epoch") is not None else ""
        drawn = (f"{pool['candidates_drawn']} ready-made images (supplied or translated)" if pool.get("supplied") else
                 f"Candidates drawn: {pool['candidates_drawn']} in {pool['rounds']} round(s)")
        lines += [f"### {key}", "",
                  f"- Source: {g['source']}{epoch}; labels: {pool['labelled_by']}.",
                  f"- {drawn}; colour matched: "
                  f"{pool['colour_matched']}; quality filter: {pool['filtered_by']} (drop {pool['drop_fraction']:g}); "
                  f"near-duplicate threshold: {pool['dedup_threshold']}."]
        if any(pool["shortfall_per_class"]):
            lines.append(f"- **Shortfall**: {pool['shortfall_per_class']} candidates per class could not be drawn "
                         + ("(the ready-made set holds too few of those classes)" if pool.get("supplied") else
                            "(the generator rarely makes those classes)") + "; those sets are smaller than planned.")
        lines += ["", "| set | class consistency | memorised (flagged share) | exact copies | median distance to train "
                  "(generated / test) |", "|---|---|---|---|---|"]
        for mix, audit in g["leak_audit"].items():
            cc = g["class_consistency"].get(mix)
            lines.append(f"| {mix} | {pct(cc['overall']) if cc else 'n/a'} | {pct(audit['flagged_share'])}% of "
                         f"{audit['audited']} | {audit['exact_copies']} | {audit['generated_median']:.3f} / "
                         f"{audit['test_median']:.3f} |")
        lines += ["", f"Class consistency is judged by {g['judge']}. The memorisation audit flags generated images "
                  "closer to the training images than the closest 1% of test images are (pixels, rms).", ""]
        sets = {mix: s for (gen, mix), s in synthetic.items() if gen == key and len(s)}
        name = slug(key)
        grid = figures.sample_grid(real, sets, fig_dir / f"samples-{name}.png")
        lines += ["Real training images (left), then each set's generated images, one row per class:", "",
                  f"![real and generated images]({grid.relative_to(fig_dir.parent)})", ""]
        for mix, audit in g["leak_audit"].items():
            pairs = figures.pair_grid(sets[mix].images, real.images, audit["closest_pairs"], ("generated", "train"),
                                      ("generated image", "nearest GAN training image"),
                                      fig_dir / f"closest-{name}-{slug(mix)}.png", threshold=audit["threshold"])
            lines += [f"The closest generated / training pairs of `{mix}` ({audit['audited']} audited):", "",
                      f"![closest generated and training images]({pairs.relative_to(fig_dir.parent)})", ""]
    return lines


def duplicates_section(dup: dict, train: ImageDataset, test_audit: ImageDataset, fig_dir: Path) -> list[str]:
    """Test images that are (nearly) training images: the dataset's own duplicates, with the closest pairs."""
    pairs = figures.pair_grid(test_audit.images, train.images, dup["closest_pairs"], ("test", "train"),
                              ("test image", "nearest training image"), fig_dir / "closest-test-train.png",
                              threshold=dup["near_threshold"])
    return ["## Train / test duplicates", "",
            f"Of {dup['n_test']} test images (a seeded choice), {dup['exact_test_images']} are byte-identical to an "
            f"imbalanced-training image and {len(dup['near_pairs'])} more lie within {dup['near_threshold']:g} of one "
            f"({pct(dup['duplicated_test_share'])}%): test metrics on them measure memory, not generalisation.", "",
            f"![closest test and training images]({pairs.relative_to(fig_dir.parent)})", ""]

