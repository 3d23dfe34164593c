"""The evaluate-gan report's main table: the label of every reported number, and the rows (generated against real).

Every feature-based label goes through ``report_label``, so a number computed on a classifier's features is never
called plain "FID". The rows go into metrics.json (``table``), which the report and ``ganaug run``'s grid read.
"""

from __future__ import annotations

from ganaug.metrics import report_label


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
