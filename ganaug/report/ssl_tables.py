"""The semi-supervised tables of docs/results.md (``ganaug ssl``'s artifacts); ``ganaug.report.tables`` lists them."""

from __future__ import annotations

from pathlib import Path

from ganaug.report.artifacts import load, paired, provenance, table
from ganaug.report.format import mean_std


def ssl_beside_claims(reports: Path) -> list[str]:
    """Hu, Zeng & Tian's Table 3 beside ours: accuracy, macro-F1, ROC-AUC, generation quality vs class consistency."""
    artifact = "ssl-hu-table3-mnist.metrics.json"
    data, claims = load(reports, artifact), load(reports, "claims.json")["hu-table3"]
    rows = []
    for amount in data["labeled"]:
        for method, by_amount in data["results"].items():
            r, claim = by_amount[amount], claims["accuracy"][amount].get(method)
            quality = claims["generation_quality"][amount].get(method)
            consistency = mean_std(r["class_consistency"]) if r["class_consistency"] else (
                "n/a (unconditional)" if method == "semi-gan" else "—")
            rows.append([amount, method + (" (floor)" if method == "supervised" else ""),
                         "—" if claim is None else f"{claim:.1f}", mean_std(r["accuracy"]), mean_std(r["macro_f1"]),
                         mean_std(r["roc_auc"]), "—" if quality is None else f"{quality:.1f}", consistency])
    header = ["labelled", "method", "**Hu et al. claim** accuracy", "**ours** accuracy (mean ± std)", "macro-F1",
              "ROC-AUC (OvR)", "**Hu et al. claim** \"generation quality\"", "**ours** class consistency"]
    return provenance(reports, artifact) + table(header, rows)


def ssl_variants(reports: Path, artifacts: dict[str, str], method: str, amount: str) -> list[str]:
    """One method at one labelled amount in several runs (e.g. with and without a loss term), each its own artifact:
    test accuracy, class consistency and the collapse monitor's diversity, beside Hu et al.'s claims."""
    claims = load(reports, "claims.json")["hu-table3"]
    rows, lines = [], []
    for label, artifact in artifacts.items():
        r = load(reports, artifact)["results"][method][amount]
        rows.append([label, mean_std(r["accuracy"]), mean_std(r["class_consistency"]), mean_std(r.get("diversity"), 1, 2),
                     mean_std(r["fid"], 1, 2), str(r["repeats"])])
        lines += [*provenance(reports, artifact)[:1], ""]
    rows.append([f"**Hu et al. claim** ({amount} labels)", f"{claims['accuracy'][amount][method]:.1f}",
                 f"{claims['generation_quality'][amount][method]:.1f} (\"generation quality\")", "—", "—", "—"])
    return lines + table(["run", "test accuracy (%)", "class consistency (%)", "diversity (1 = as varied as the "
                                 "data)", "FID (judge features)", "repeats"], rows)


def ssl_vs_supervised(reports: Path, artifact: str) -> list[str]:
    """Every method minus the supervised floor, accuracy points, paired over the repeats."""
    data = load(reports, artifact)
    methods = [m for m in data["vs_supervised"]]
    rows = [[amount, *(paired(data["vs_supervised"][m][amount]["accuracy"]) for m in methods)]
            for amount in data["labeled"]]
    return table(["labelled", *methods], rows)


def ssl_methods(reports: Path, artifact: str) -> list[str]:
    """One labelled amount: each method's test accuracy, macro-F1 and training time."""
    data = load(reports, artifact)
    rows = [[f"{m} ({amount})", mean_std(r[amount]["accuracy"]), mean_std(r[amount]["macro_f1"]),
             f"{r[amount]['train_seconds']['mean']:,.0f}"]
            for amount in data["labeled"] for m, r in data["results"].items()]
    return provenance(reports, artifact) + table(["method", "test accuracy (%)", "macro-F1 (%)", "train s per run"],
                                                 rows)


def ssl_contest(reports: Path, artifact: str, claims_key: str) -> list[str]:
    """The semi-supervised contest at one labelled amount: each method's test error and accuracy, the published error
    (another protocol and scale), and each GAN method against the best method without a generator (chosen on
    validation), paired over the repeats."""
    data, claims = load(reports, artifact), load(reports, "claims.json")[claims_key]
    rows = []
    for amount in data["labeled"]:
        versus = data["vs_best_without_generator"].get(amount) or {}
        for m, r in data["results"].items():
            acc = r[amount]["accuracy"]
            err = {"mean": 1 - acc["mean"], "std": acc["std"]}
            against = ("**best without a generator** (validation)" if m == versus.get("best") else
                       paired(versus.get("comparisons", {}).get(m, {}).get("accuracy")) if data["uses_generator"][m]
                       else "")
            claim = claims["error"].get(m)
            rows.append([m, "yes" if data["uses_generator"][m] else "no", mean_std(err, digits=2), mean_std(acc),
                         "—" if claim is None else f"{claim:g}", against,
                         f"{r[amount]['train_seconds']['mean']:,.0f}"])
    header = ["method", "generator", "**ours** test error (%)", "**ours** accuracy (%)",
              f"**published** error (%), {claims['protocol']}", "accuracy vs the best without a generator (points)",
              "train s per run"]
    return provenance(reports, artifact) + table(header, rows)
