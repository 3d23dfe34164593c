"""``ganaug augment``: Gao's GAN-based augmentation study and the DCGAN study on any dataset, leak-proof, with paired intervals.

1. load the dataset (at most ``train_per_class`` / ``test_per_class`` images per class: CPU-sized studies); hold
   out a validation split of the training split; the test split is only ever evaluated on;
2. imbalance the training split and resolve the target classes; check every option against the data (classes,
   classifiers, the GAN, a reused generator's image size / channels / classes) before anything trains;
3. train the GAN on the imbalanced training split only (or load ``generator``), keeping the ``gan_epochs`` ones;
4. plan the mixing (one plan per GAN ratio), build the synthetic sets (one post-processed candidate pool per
   generator) and the DCGAN study's strengthened sets; audit every generated set for memorisation;
5. train every classifier x arm x repeat, paired by seed, with the arm's training set and hooks; score it on the
   validation split (balanced accuracy: it picks the best remedy and a post-hoc tau) and evaluate it on the test
   split (accuracy, balanced accuracy, macro-F1, per-class recall, one-vs-rest ROC-AUC);
6. paired differences of every arm against each ``compare_to`` arm, and of every GAN arm against the best arm
   without GAN images (``ganaug.experiments.augment_eval``); metrics.json, report.md, report.html.

Under torchrun every rank runs the study, the GAN and classifiers train distributed, everything else runs
on every rank alike (seeded), and rank 0 writes every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ganaug.augment.classic import strengthened
from ganaug.augment.mixing import MixPlan, plan_add, plan_balance, plan_ratio
from ganaug.augment.sampling import inverse_frequency_weights
from ganaug.augment.strategies import STRATEGIES, Ingredients, Strategy, plan
from ganaug import distributed as dist
from ganaug.augment.synthetic import Pool, build_pool, image_pool
from ganaug.experiments.augment_translate import KEY as TRANSLATED, translated_images
from ganaug.checkpoint import Checkpoint
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import AugmentConfig, GANConfig
from ganaug.data import ImageDataset
from ganaug.data import splits as S
from ganaug.experiments.augment_data import (
    Data, Generator, audit_subset, check_classifiers, check_gan_epochs, check_reused_generator, leak_check, prepare_data,
    supplied_images,
)
from ganaug.experiments.augment_eval import resolution, score, versus_best_remedy
from ganaug.experiments.common import audit_generated, compare, images_digest, summarize, trim
from ganaug.experiments.run import Run
from ganaug.gan.sampling import load_generator
from ganaug.gan.trainer import build_gan, train_gan
from ganaug.metrics import class_consistency, split_duplicates
from ganaug.paths import slug
from ganaug.runtime import check_precision, resolve_device


@dataclass
class Arm:
    key: str
    strategy: Strategy
    mix: str | None  # key of the mixing plan (None: no synthetic images)
    generator: str | None  # key of the generator (None: no GAN images)


@dataclass
class Prepared:
    """Everything decided before training: the data, the classifiers, the strategies, the mixing plans, the arms."""

    data: Data
    classifiers: dict
    strategies: dict[str, Strategy]
    plans: dict[str, MixPlan]
    arms: list[Arm]
    gan_cfg: GANConfig | None  # None: no arm uses GAN images
    reused: Generator | None  # a GAN checkpoint (``generator``) or a supplied image set (``synthetic``) to use
    translates: bool = False  # an arm uses the ``translate`` strategy's images (CycleGANs trained in this run)


def prepare_run(cfg: AugmentConfig, device: torch.device) -> Prepared:
    """Load the data and make every check that can fail (a ConfigError naming the key), before anything is written."""
    data = prepare_data(cfg)
    classifiers = check_classifiers(cfg, data.train)
    strategies = {name: STRATEGIES.create(name) for name in dict.fromkeys([*cfg.compare_to, *cfg.strategies])}
    needs_gan = any(s.synthetic == "gan" for s in strategies.values())
    translates = any(s.synthetic == "translated" for s in strategies.values())
    gan_cfg = cfg.gan.model_copy(update={"snapshot_epochs": sorted({*cfg.gan.snapshot_epochs, *cfg.gan_epochs})})
    reused = None
    if needs_gan and cfg.generator:
        reused = check_reused_generator(cfg, data, device)
    elif needs_gan and cfg.synthetic:
        reused = supplied_images(cfg, data)
    if needs_gan and reused is None:
        build_gan(gan_cfg, data.train.image_size, data.train.channels, data.train.num_classes)  # bad options fail here
        check_gan_epochs(cfg, len(data.imbalanced))
    plans = mixing_plans(cfg, data.imbalanced.class_counts(), data.targets)
    keys = [] if not needs_gan else [reused_key(cfg)] if reused else [f"epoch {e}" for e in cfg.gan_epochs] or ["last"]
    return Prepared(data, classifiers, strategies, plans, make_arms(strategies, plans, keys),
                    gan_cfg if needs_gan else None, reused, translates)


def dry_run(cfg: AugmentConfig) -> str:
    """What the run would train, after every check, without training or writing anything."""
    p = prepare_run(cfg, resolve_device(cfg.device))
    counts = p.data.counts
    lines = [f"dataset {cfg.data.dataset}: {sum(counts['train'])} training images ({sum(counts['imbalanced_train'])} "
             f"after the imbalance), {sum(counts['val'])} validation, {sum(counts['test'])} test; target classes "
             f"{p.data.targets}",
             "GAN: " + ("none" if p.gan_cfg is None else f"images supplied from {cfg.synthetic}" if cfg.synthetic
                        else f"reused {cfg.generator}" if p.reused else
                        f"{cfg.gan.architecture}, trained here" + (f", generators of epochs {cfg.gan_epochs}"
                                                                   if cfg.gan_epochs else ""))]
    if p.gan_cfg is not None or p.translates:  # the mixing plans only matter to arms with generated images
        lines += [f"mixing {key}: real {list(plan.real)}, synthetic {list(plan.synthetic)}"
                  for key, plan in p.plans.items()]
    runs = sum(c.repeats for c in p.classifiers.values()) * len(p.arms)
    lines += [f"arms ({len(p.arms)}): {', '.join(a.key for a in p.arms)}",
              f"classifiers: {', '.join(p.classifiers)}; {runs} classifier trainings"
              + (" + the judge" if p.gan_cfg is not None or p.translates else "")]
    return "\n".join(lines)


def run_augment(cfg: AugmentConfig, command: str = "ganaug augment") -> Path:
    """Run the study into ``cfg.out`` and return the path of ``report.html``; a re-run resumes from checkpoints."""
    run = Run(cfg)
    device, out = run.device, run.out

    # 1-2. Data and every check that can fail, before the run folder is written or anything trains.
    check_precision("classifier.precision", cfg.classifier.precision, device)
    check_precision("gan.precision", cfg.gan.precision, device)
    dist.check_batch_size("classifier.batch_size", cfg.classifier.batch_size)  # under torchrun: split over the processes
    dist.check_batch_size("gan.batch_size", cfg.gan.batch_size)
    prepared = prepare_run(cfg, device)
    data, classifiers, strategies, plans, arms = (prepared.data, prepared.classifiers, prepared.strategies,
                                                  prepared.plans, prepared.arms)
    needs_gan, reused = prepared.gan_cfg is not None, prepared.reused
    run.say(f"imbalance: {data.imbalance['reason']}")
    run.claim()
    splits = {  # positions in the official training split (val: in its own split if it has one; test: in the test split)
        "gan": data.imbalanced.indices.tolist(),
        "train": data.train.indices.tolist(),
        "val": data.val.indices.tolist(),
        "val_is_own_split": data.val_is_own_split,
        "test": data.test.indices.tolist(),
    }
    run.write_json("splits.json", splits)

    # 3. Generators, trained on the imbalanced training split only; the judge (teacher) classifier likewise.
    generators: dict[str, Generator] = {}
    with run.timed("gan_seconds"):
        if needs_gan:
            generators = ({reused_key(cfg): reused} if reused else
                          trained_generators(cfg, prepared.gan_cfg, data.imbalanced, run))
        if prepared.translates:
            generators[TRANSLATED] = translated_images(cfg, data, run)
    judge = None
    fallbacks = [{"trainer": f"GAN ({key})", **g.info["precision_fallback"]}  # trainers that went from bf16 to fp32
                 for key, g in generators.items() if g.info.get("precision_fallback")]
    if generators:  # class-weighted, so that the rare classes it judges are not the ones it is biased against
        weights = inverse_frequency_weights(data.imbalanced.labels, data.imbalanced.num_classes)
        judged = train_classifier(cfg.classifier, data.imbalanced, cfg.seed, device, val=data.val,
                                  class_weights=weights, checkpoint_dir=out / "checkpoints" / "judge",
                                  progress=cfg.progress, title="judge", log=run.log("judge"))
        judge = judged.model
        fallbacks += [{"trainer": "judge", **judged.precision_fallback}] if judged.precision_fallback else []

    # 4. Mixing plans, synthetic and strengthened sets, and the leak audit of every generated set.
    with run.timed("synthetic_seconds"):
        largest = [max(p.synthetic[c] for p in plans.values()) for c in range(data.imbalanced.num_classes)]
        pools = {key: image_pool(g.images, largest, data.imbalanced, cfg.postprocess, cfg.seed + 1, device, judge,
                                 g.info.get("labelled_by", "the supplied labels"))
                 if g.images is not None else
                 build_pool(g.G, g.z_dim, largest, data.imbalanced, cfg.postprocess, cfg.seed + 1, device, judge, g.D)
                 for key, g in generators.items()}
        synthetic = {(g, m): pool.take(list(p.synthetic), cfg.postprocess.drop_fraction)
                     for g, pool in pools.items() for m, p in plans.items()}
        uses_strengthened = any(s.synthetic == "strengthened" for s in strategies.values())
        strong = {m: strengthened(data.imbalanced, list(p.synthetic), cfg.classic, cfg.seed + 3)
                  for m, p in plans.items()} if uses_strengthened else {}
        real_kept = {m: S.take_per_class(data.imbalanced, p.real, cfg.seed + 2)[0] for m, p in plans.items()}
        test_audit = audit_subset(data.test, cfg)  # the leak audit's reference images
        generator_metrics = {key: describe_generator(generators[key], pools[key], judge, synthetic, key, data,
                                                     test_audit, cfg, device) for key in generators}

    # 5. Classifiers: every arm and repeat, paired by seed; evaluated on the untouched test split.
    K = data.test.num_classes
    with run.timed("classifier_seconds"):
        results, digests, real_positions = train_classifiers(cfg, run, data, classifiers, arms, real_kept, synthetic,
                                                             strong, fallbacks)

    # 6. Everything in metrics.json, then the report.
    metrics = {
        "dataset": cfg.data.dataset,
        "seed": cfg.seed,
        "command": command,
        "class_names": data.test.class_names,
        "scale": {"name": cfg.scale, "note": cfg.scale_note} if cfg.scale else None,
        "variant": preset_summary(cfg.variant, cfg.variants),
        "target_classes": data.targets,
        "imbalance": data.imbalance,
        "counts": data.counts,
        "compare_to": cfg.compare_to,
        "primary_metric": "balanced_accuracy",
        "mixing": {"mode": cfg.mixing, "plans": {
            key: {"ratio": ratio_of(key), "real": list(p.real), "synthetic": list(p.synthetic),
                  "achieved_ratio_per_class": [float(p.synthetic_share(c)) for c in range(K)]}
            for key, p in plans.items()}},
        "arms": [{"key": a.key, "strategy": a.strategy.name, "description": a.strategy.description, "mix": a.mix,
                  "generator": a.generator} for a in arms],
        "generators": generator_metrics,
        "strengthened_counts": {m: s.class_counts() for m, s in strong.items()},
        "split_duplicates": trim(split_duplicates(data.imbalanced.images, test_audit.images)),
        "results": results,
        "precision_fallbacks": fallbacks,
        "training_images_sha256": {
            "gan_and_judge": images_digest(data.imbalanced.images) if needs_gan and not reused else None,
            "arms": digests,
            "val": images_digest(data.val.images),
            "test": images_digest(data.test.images),
        },
        "leak_check": leak_check(data, list(synthetic.values()) + list(strong.values())),
        "timings": run.elapsed(),
        "device": str(device),
    }
    run.write_json("metrics.json", metrics)
    run.write_json("splits.json", {**splits, "arms_real_images": real_positions})
    from ganaug.report.augment import write_augment_report

    return run.report(write_augment_report, cfg, metrics, data.imbalanced, synthetic, test_audit)


def train_classifiers(cfg: AugmentConfig, run: Run, data: Data, classifiers: dict, arms: list[Arm], real_kept: dict,
                      synthetic: dict, strong: dict, fallbacks: list[dict]) -> tuple[dict, dict, dict]:
    """Every classifier x arm x repeat, paired by seed, evaluated on the untouched test split: the results per
    classifier (summaries, paired comparisons, curves), and what the first repeat of each arm trained on."""
    K = data.test.num_classes
    results, digests, real_positions = {}, {}, {}
    for name, ccfg in classifiers.items():
        runs: dict[str, list[dict]] = {arm.key: [] for arm in arms}
        val_scores: dict[str, list[float]] = {arm.key: [] for arm in arms}
        taus: dict[str, list[float]] = {}
        histories, roc, sampler_log = {}, {}, {}
        for repeat in range(ccfg.repeats):
            seed = cfg.seed + repeat
            for arm in arms:
                ingredients = Ingredients(
                    data.imbalanced,
                    real_kept.get(arm.mix),
                    synthetic.get((arm.generator, arm.mix)),
                    strong.get(arm.mix),
                    cfg.classic,
                    cfg.sampling,
                    cfg.remedies,
                )
                p = plan(arm.strategy, ingredients)
                folder = Path(slug(name)) / slug(arm.key) / str(repeat)
                res = train_classifier(
                    ccfg, p.train, seed, run.device, val=data.val, progress=cfg.progress,
                    title=f"{name} {arm.key} #{repeat + 1}", checkpoint_dir=run.out / "checkpoints" / folder, log=run.log(str(folder)),
                    transform=p.transform, sampler=p.sampler, class_weights=p.class_weights, loss=p.loss, mix=p.mix,
                )
                if res.precision_fallback:
                    fallbacks.append({"trainer": f"{name} {arm.key} #{repeat + 1}", **res.precision_fallback})
                scores, val_score, tau = score(res.model, p, data.val, data.test, run.device, cfg.remedies.posthoc_taus)
                runs[arm.key].append(scores)
                val_scores[arm.key].append(val_score)
                if tau is not None:
                    taus.setdefault(arm.key, []).append(tau)
                if repeat == 0:
                    histories[arm.key] = res.history
                    roc[arm.key] = scores.pop("roc_curves")
                    digests[arm.key] = {"images_sha256": images_digest(p.train.images), "images": len(p.train),
                                        "class_counts": p.train.class_counts()}
                    real_positions[arm.key] = p.train.indices[p.train.indices >= 0].tolist()
                    if p.sampler is not None:
                        sampler_log[arm.key] = {"final_class_shares": p.sampler.class_shares().tolist(),
                                                "validation_errors_per_epoch": p.sampler.history}
        summaries = {key: summarize(r) for key, r in runs.items()}
        refs = {arm.key: references(arm, arms, cfg) for arm in arms}
        comparisons = {key: {f"vs {ref}": compare(runs[key], runs[ref], K) for ref in refs[key]} for key in refs}
        verdict = versus_best_remedy(runs, val_scores, {a.key for a in arms if a.strategy.uses_generator}, K)
        pairs = [(k, r) for k in refs for r in refs[k]] + [(k, verdict["best"]) for k in verdict.get("comparisons", {})]
        results[name] = {"config": ccfg.model_dump(mode="json"), "arms": summaries, "comparisons": comparisons,
                         "validation_balanced_accuracy": val_scores, "posthoc_taus": taus,
                         "vs_best_remedy": verdict, "resolution": resolution(runs, pairs),
                         "histories": histories, "roc_curves": roc, "weighted_sampling": sampler_log}
    return results, digests, real_positions


def trained_generators(cfg: AugmentConfig, gan_cfg: GANConfig, train: ImageDataset, run: Run) -> dict:
    """Train the GAN on ``train`` (the imbalanced training split); the last generator, or those of ``gan_epochs``."""
    folder, device = run.out / "checkpoints" / "gan", run.device
    result = train_gan(gan_cfg, train, cfg.seed, device, folder, cfg.progress, log=run.log("gan"))
    base = {"source": "trained in this run on the imbalanced training split", "architecture": cfg.gan.architecture,
            "conditional": cfg.gan.conditional, "history": result.history,
            "precision_fallback": result.precision_fallback}
    if not cfg.gan_epochs:
        return {"last": Generator(result.generator, result.discriminator, cfg.gan.z_dim,
                                  {**base, "epoch": len(result.history)})}
    out_generators = {}
    for epoch in cfg.gan_epochs:
        path = folder / f"epoch-{epoch:04d}"
        G, _ = load_generator(path, use_ema=True)
        D = Checkpoint(path).build("discriminator")
        out_generators[f"epoch {epoch}"] = Generator(G.to(device).eval(), D.to(device).eval(), cfg.gan.z_dim,
                                                     {**base, "epoch": epoch, "checkpoint": str(path)})
    return out_generators


def reused_key(cfg: AugmentConfig) -> str:
    """The name of a generator this run did not train: a supplied image set or a reused checkpoint."""
    return "supplied" if cfg.synthetic else "reused"


def mixing_plans(cfg: AugmentConfig, counts: list[int], targets: list[int]) -> dict[str, MixPlan]:
    """One plan per GAN ratio (``mixing: ratio``), or the single balance / add plan, by a readable key."""
    if cfg.mixing == "ratio":
        return {f"r={r:g}": plan_ratio(counts, targets, r) for r in dict.fromkeys(cfg.ratios)}
    if cfg.mixing == "balance":
        return {"balanced": plan_balance(counts, targets)}
    return {f"+{cfg.add_per_class}/class": plan_add(counts, targets, cfg.add_per_class)}


def ratio_of(key: str) -> float | None:
    return float(key[2:]) if key.startswith("r=") else None


def make_arms(strategies: dict[str, Strategy], plans: dict, generators: list[str]) -> list[Arm]:
    """The reference arms first, then each asked strategy x mixing plan (x generator where it uses GAN images)."""
    arms: list[Arm] = []
    for name, s in strategies.items():
        if not s.uses_mixing:
            arms.append(Arm(name, s, None, None))
            continue
        for m in plans:
            for g in ([TRANSLATED] if s.synthetic == "translated" else generators if s.uses_generator else [None]):
                suffix = f" {g}" if g is not None and len(generators) > 1 else ""
                arms.append(Arm(f"{name} {m}{suffix}", s, m, g))
    return arms


def references(arm: Arm, arms: list[Arm], cfg: AugmentConfig) -> list[str]:
    """The arms ``arm`` is compared with: one per ``compare_to`` strategy (for an arm of those, only the ones listed
    before it). A reference that adds images is taken at the arm's mixing plan, so that GAN images are compared with
    as many strengthened images; an arm without a plan meets such a reference only when there is one plan."""
    refs = cfg.compare_to
    name = arm.strategy.name
    keys = []
    for ref in refs[: refs.index(name)] if name in refs else refs:
        candidates = [a for a in arms if a.strategy.name == ref]
        if candidates and candidates[0].mix is not None:
            plans = {a.mix for a in candidates}
            mix = arm.mix if arm.mix is not None else (plans.pop() if len(plans) == 1 else None)
            candidates = [a for a in candidates if a.mix == mix and a.generator in (None, arm.generator)]
        keys += [a.key for a in candidates[:1]]
    return keys


def describe_generator(gen: Generator, pool: Pool, judge, synthetic: dict, key: str, data: Data,
                       test_audit: ImageDataset, cfg: AugmentConfig, device: torch.device) -> dict:
    """Where the generator came from, its candidate pool, class consistency and the leak audit of each set it made
    (closest pairs: ``generated`` indexes the set, ``train`` the imbalanced training split)."""
    K = data.test.num_classes
    sets = {m: s for (g, m), s in synthetic.items() if g == key}
    consistency = {}
    for m, s in sets.items():
        if len(s):
            consistency[m] = class_consistency(predict(judge, s.images, device), s.labels, K)
    audits = {m: audit_generated(s, data.imbalanced, test_audit, cfg.audit_samples, cfg.seed)
              for m, s in sets.items() if len(s)}
    return {
        **{k: v for k, v in gen.info.items() if k != "gan_config"},
        "pool": pool.info,
        "synthetic_counts": {m: s.class_counts() for m, s in sets.items()},
        "class_consistency": consistency,
        "judge": f"a {cfg.classifier.model} trained on the imbalanced real training split (the generator's data) with "
                 f"a class-weighted loss, seed {cfg.seed}" + ("; it also labelled these images, so consistency says little" if not
                                  pool.info["conditional"] else ""),
        "leak_audit": audits,
    }


def preset_summary(name: str | None, presets: dict) -> dict | None:
    return None if name is None else {"name": name, "note": presets[name].note, "set": presets[name].set}
