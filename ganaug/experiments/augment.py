"""``ganaug augment``: the augmentation studies of 002 and 003 on any dataset, leak-proof, with paired intervals.

1. load the dataset (at most ``train_per_class`` / ``test_per_class`` images per class: CPU-sized studies); hold
   out a validation split of the training split; the test split is only ever evaluated on;
2. imbalance the training split and resolve the target classes; check every option against the data (classes,
   classifiers, the GAN, a reused generator's image size / channels / classes) before anything trains;
3. train the GAN on the imbalanced training split only (or load ``generator``), keeping the ``gan_epochs`` ones;
4. plan the mixing (one plan per GAN ratio), build the synthetic sets (one post-processed candidate pool per
   generator) and 003's strengthened sets; audit every generated set for memorisation;
5. train every classifier x arm x repeat, paired by seed, with the arm's training set and hooks; evaluate on
   the test split (accuracy, balanced accuracy, macro-F1, per-class recall, one-vs-rest ROC-AUC);
6. paired differences of every arm against each ``compare_to`` arm; metrics.json, report.md, report.html.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ganaug.augment.classic import strengthened
from ganaug.augment.mixing import MixPlan, plan_add, plan_balance, plan_ratio
from ganaug.augment.sampling import inverse_frequency_weights
from ganaug.augment.strategies import STRATEGIES, Ingredients, Strategy, plan
from ganaug.augment.synthetic import Pool, build_pool
from ganaug.checkpoint import Checkpoint, write_json
from ganaug.classifier.trainer import build_classifier, predict, predict_logits, train_classifier
from ganaug.config import AugmentConfig, ConfigError, GANConfig
from ganaug.data import ImageDataset, load_dataset
from ganaug.data import splits as S
from ganaug.experiments.common import claim_run_folder, compare, images_digest, make_imbalanced, summarize
from ganaug.gan.sampling import generator_mismatches, load_generator
from ganaug.gan.trainer import build_gan, train_gan
from ganaug.metrics import class_consistency, classification_metrics, memorisation_audit, split_duplicates
from ganaug.runtime import num_epochs, resolve_device

AUDIT_DROP = ("generated_distances", "test_distances", "flagged")  # long lists kept out of metrics.json


@dataclass
class Data:
    train: ImageDataset  # the training split, validation held out
    val: ImageDataset
    test: ImageDataset
    imbalanced: ImageDataset  # what the GAN, the judge and every arm's real part are drawn from
    targets: list[int]  # classes that get synthetic images
    counts: dict[str, list[int]]
    val_is_own_split: bool


@dataclass
class Generator:
    G: torch.nn.Module
    D: torch.nn.Module | None
    z_dim: int
    info: dict


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
    reused: Generator | None


def prepare_run(cfg: AugmentConfig, device: torch.device) -> Prepared:
    """Load the data and make every check that can fail (a ConfigError naming the key), before anything is written."""
    data = prepare_data(cfg)
    classifiers = check_classifiers(cfg, data.train)
    strategies = {name: STRATEGIES.create(name) for name in dict.fromkeys([*cfg.compare_to, *cfg.strategies])}
    needs_gan = any(s.uses_generator for s in strategies.values())
    gan_cfg = cfg.gan.model_copy(update={"snapshot_epochs": sorted({*cfg.gan.snapshot_epochs, *cfg.gan_epochs})})
    reused = check_reused_generator(cfg, data, device) if needs_gan and cfg.generator else None
    if needs_gan and reused is None:
        build_gan(gan_cfg, data.train.image_size, data.train.channels, data.train.num_classes)  # bad options fail here
        check_gan_epochs(cfg, len(data.imbalanced))
    plans = mixing_plans(cfg, data.imbalanced.class_counts(), data.targets)
    keys = [] if not needs_gan else ["reused"] if reused else [f"epoch {e}" for e in cfg.gan_epochs] or ["last"]
    return Prepared(data, classifiers, strategies, plans, make_arms(strategies, plans, keys),
                    gan_cfg if needs_gan else None, reused)


def dry_run(cfg: AugmentConfig) -> str:
    """What the run would train, after every check, without training or writing anything."""
    p = prepare_run(cfg, resolve_device(cfg.device))
    counts = p.data.counts
    lines = [f"dataset {cfg.data.dataset}: {sum(counts['train'])} training images ({sum(counts['imbalanced_train'])} "
             f"after the imbalance), {sum(counts['val'])} validation, {sum(counts['test'])} test; target classes "
             f"{p.data.targets}",
             "GAN: " + ("none" if p.gan_cfg is None else f"reused {cfg.generator}" if p.reused else
                        f"{cfg.gan.architecture}, trained here" + (f", generators of epochs {cfg.gan_epochs}"
                                                                   if cfg.gan_epochs else ""))]
    lines += [f"mixing {key}: real {list(plan.real)}, synthetic {list(plan.synthetic)}" for key, plan in p.plans.items()]
    runs = sum(c.repeats for c in p.classifiers.values()) * len(p.arms)
    lines += [f"arms ({len(p.arms)}): {', '.join(a.key for a in p.arms)}",
              f"classifiers: {', '.join(p.classifiers)}; {runs} classifier trainings"
              + (" + the judge" if p.gan_cfg is not None else "")]
    return "\n".join(lines)


def run_augment(cfg: AugmentConfig, command: str = "ganaug augment") -> Path:
    """Run the study into ``cfg.out`` and return the path of ``report.html``; a re-run resumes from checkpoints."""
    tic = time.perf_counter()
    timings: dict[str, float] = {}
    device = resolve_device(cfg.device)

    # 1-2. Data and every check that can fail, before the run folder is written or anything trains.
    prepared = prepare_run(cfg, device)
    data, classifiers, strategies, plans, arms = (prepared.data, prepared.classifiers, prepared.strategies,
                                                  prepared.plans, prepared.arms)
    needs_gan, reused = prepared.gan_cfg is not None, prepared.reused
    out = Path(cfg.out)
    claim_run_folder(out, cfg)
    splits = {  # positions in the official training split (val: in its own split if it has one; test: in the test split)
        "gan": data.imbalanced.indices.tolist(),
        "train": data.train.indices.tolist(),
        "val": data.val.indices.tolist(),
        "val_is_own_split": data.val_is_own_split,
        "test": data.test.indices.tolist(),
    }
    write_json(out / "splits.json", splits)

    # 3. Generators, trained on the imbalanced training split only; the judge (teacher) classifier likewise.
    t = time.perf_counter()
    generators: dict[str, Generator] = {}
    if needs_gan:
        generators = {"reused": reused} if reused else trained_generators(cfg, prepared.gan_cfg, data.imbalanced,
                                                                          device, out)
    timings["gan_seconds"] = time.perf_counter() - t
    judge = None
    if needs_gan:  # class-weighted, so that the rare classes it judges are not the ones it is biased against
        weights = inverse_frequency_weights(data.imbalanced.labels, data.imbalanced.num_classes)
        judge = train_classifier(cfg.classifier, data.imbalanced, cfg.seed, device, val=data.val, class_weights=weights,
                                 checkpoint_dir=out / "checkpoints" / "judge", progress=cfg.progress, title="judge").model

    # 4. Mixing plans, synthetic and strengthened sets, and the leak audit of every generated set.
    t = time.perf_counter()
    largest = [max(p.synthetic[c] for p in plans.values()) for c in range(data.imbalanced.num_classes)]
    pools = {key: build_pool(g.G, g.z_dim, largest, data.imbalanced, cfg.postprocess, cfg.seed + 1, device, judge, g.D)
             for key, g in generators.items()}
    synthetic = {(g, m): pool.take(list(p.synthetic), cfg.postprocess.drop_fraction)
                 for g, pool in pools.items() for m, p in plans.items()}
    uses_strengthened = any(s.synthetic == "strengthened" for s in strategies.values())
    strong = {m: strengthened(data.imbalanced, list(p.synthetic), cfg.classic, cfg.seed + 3)
              for m, p in plans.items()} if uses_strengthened else {}
    real_kept = {m: S.take_per_class(data.imbalanced, p.real, cfg.seed + 2)[0] for m, p in plans.items()}
    generator_metrics = {key: describe_generator(generators[key], pools[key], judge, synthetic, key, data, cfg, device)
                         for key in generators}
    timings["synthetic_seconds"] = time.perf_counter() - t

    # 5. Classifiers: every arm and repeat, paired by seed; evaluated on the untouched test split.
    K = data.test.num_classes
    t = time.perf_counter()
    results, digests, real_positions = {}, {}, {}
    for name, ccfg in classifiers.items():
        runs: dict[str, list[dict]] = {arm.key: [] for arm in arms}
        histories, sampler_log = {}, {}
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
                )
                p = plan(arm.strategy, ingredients)
                res = train_classifier(
                    ccfg, p.train, seed, device, val=data.val, progress=cfg.progress, title=f"{name} {arm.key} #{repeat + 1}",
                    checkpoint_dir=out / "checkpoints" / slug(name) / slug(arm.key) / str(repeat),
                    transform=p.transform, sampler=p.sampler, class_weights=p.class_weights,
                )
                probs = predict_logits(res.model, data.test.images, device).softmax(1)
                runs[arm.key].append(classification_metrics(data.test.labels, probs.argmax(1), K, probs.numpy()))
                if repeat == 0:
                    histories[arm.key] = res.history
                    digests[arm.key] = {"images_sha256": images_digest(p.train.images), "images": len(p.train),
                                        "class_counts": p.train.class_counts()}
                    real_positions[arm.key] = p.train.indices[p.train.indices >= 0].tolist()
                    if p.sampler is not None:
                        sampler_log[arm.key] = {"final_class_shares": p.sampler.class_shares().tolist(),
                                                "validation_errors_per_epoch": p.sampler.history}
        summaries = {key: summarize(r) for key, r in runs.items()}
        comparisons = {arm.key: {f"vs {ref}": compare(runs[arm.key], runs[ref], K) for ref in references(arm, arms, cfg)}
                       for arm in arms}
        results[name] = {"config": ccfg.model_dump(mode="json"), "arms": summaries, "comparisons": comparisons,
                         "histories": histories, "weighted_sampling": sampler_log}
    timings["classifier_seconds"] = time.perf_counter() - t

    # 6. Everything in metrics.json, then the report.
    metrics = {
        "dataset": cfg.data.dataset,
        "seed": cfg.seed,
        "command": command,
        "class_names": data.test.class_names,
        "scale": {"name": cfg.scale, "note": cfg.scale_note} if cfg.scale else None,
        "variant": preset_summary(cfg.variant, cfg.variants),
        "target_classes": data.targets,
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
        "split_duplicates": trim(split_duplicates(data.imbalanced.images, audit_subset(data.test, cfg).images)),
        "results": results,
        "training_images_sha256": {
            "gan_and_judge": images_digest(data.imbalanced.images) if needs_gan and not reused else None,
            "arms": digests,
            "val": images_digest(data.val.images),
            "test": images_digest(data.test.images),
        },
        "leak_check": leak_check(data, list(synthetic.values()) + list(strong.values())),
        "timings": {**timings, "total_seconds": time.perf_counter() - tic},
        "device": str(device),
    }
    write_json(out / "metrics.json", metrics)
    write_json(out / "splits.json", {**splits, "arms_real_images": real_positions})
    from ganaug.report.augment import write_augment_report

    samples = {key: synthetic[(key, max(plans, key=lambda m: sum(plans[m].synthetic)))] for key in generators}
    return write_augment_report(out, cfg, metrics, data.imbalanced, samples)


def prepare_data(cfg: AugmentConfig) -> Data:
    """Load, scale down, split and imbalance the data; resolve the target classes. Bad options are ConfigErrors."""
    d = cfg.data
    loaded = load_dataset(d.dataset, d.data_dir, d.download, d.image_size, d.channels)
    official = loaded.train
    full = official if cfg.train_per_class is None else cap_per_class(official, cfg.train_per_class, cfg.seed)
    if loaded.val is not None:
        train, val = full, loaded.val
    else:
        train, val = S.validation_split(full, d.val_fraction, cfg.seed)
    test = loaded.test if cfg.test_per_class is None else cap_per_class(loaded.test, cfg.test_per_class, cfg.seed)
    try:
        imbalanced = make_imbalanced(train, cfg.imbalance, cfg.seed)
    except ValueError as err:
        key = "imbalance.counts" if cfg.imbalance.profile == "counts" else "imbalance.classes"
        raise ConfigError(f"{key}: {err} (dataset {d.dataset!r}, classes {train.class_names})") from None
    empty = [f"{c} ({n!r})" for c, n in enumerate(train.class_names) if imbalanced.class_counts()[c] == 0]
    if empty:
        raise ConfigError(f"imbalance: class {', '.join(empty)} has no training image left after the imbalance profile "
                          f"{cfg.imbalance.profile!r} (counts {imbalanced.class_counts()}); every class needs at least one")
    if cfg.target_classes is None:
        targets = [c for c, (n, m) in enumerate(zip(imbalanced.class_counts(), train.class_counts())) if n < m]
        targets = targets or list(range(train.num_classes))
    else:
        targets = [resolve_class(c, train.class_names) for c in cfg.target_classes]
    counts = {
        "official_train": official.class_counts(),
        "train_used": full.class_counts(),
        "train": train.class_counts(),
        "imbalanced_train": imbalanced.class_counts(),
        "val": val.class_counts(),
        "test": test.class_counts(),
        "official_test": loaded.test.class_counts(),
    }
    return Data(train, val, test, imbalanced, sorted(set(targets)), counts, loaded.val is not None)


def cap_per_class(ds: ImageDataset, cap: int, seed: int) -> ImageDataset:
    """At most ``cap`` seeded random images of each class (indices still point into ``ds``'s source split)."""
    return S.take_per_class(ds, [min(n, cap) for n in ds.class_counts()], seed)[0]


def resolve_class(value: int | str, names: list[str]) -> int:
    """A class given by name or index -> its index; anything else is a ConfigError listing the classes."""
    if isinstance(value, str) and value in names:
        return names.index(value)
    index = value if isinstance(value, int) else int(value) if value.isdigit() else -1
    if not 0 <= index < len(names):
        raise ConfigError(f"target_classes: unknown class {value!r}; expected an index in 0..{len(names) - 1} "
                          f"or one of {names}")
    return index


def check_classifiers(cfg: AugmentConfig, train: ImageDataset) -> dict:
    """Every classifier config of the grid, each built once for this data so a bad name or option fails now."""
    configs = cfg.classifier_configs()
    for name, ccfg in {**configs, "judge": cfg.classifier}.items():
        try:
            build_classifier(ccfg, train.image_size, train.channels, train.num_classes)
        except KeyError as err:
            raise ConfigError(f"classifiers: {err.args[0]}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"classifier {ccfg.model!r} cannot be built for {train.image_size} px, "
                              f"{train.channels} channel(s), {train.num_classes} classes: {err}") from None
    return configs


def check_gan_epochs(cfg: AugmentConfig, n_train: int) -> None:
    if not cfg.gan_epochs:
        return
    total = num_epochs(cfg.gan.epochs, cfg.gan.steps, n_train, cfg.gan.batch_size)
    if max(cfg.gan_epochs) > total:
        raise ConfigError(f"gan_epochs {cfg.gan_epochs}: the GAN trains for {total} epochs (gan.epochs={cfg.gan.epochs}, "
                          f"gan.steps={cfg.gan.steps} on {n_train} images); set gan.epochs >= {max(cfg.gan_epochs)}")


def check_reused_generator(cfg: AugmentConfig, data: Data, device: torch.device) -> Generator:
    """Load ``cfg.generator`` and check it against the data; a mismatch, or a generator known to have seen this
    run's validation images, is a ConfigError."""
    from ganaug.experiments.evaluate_gan import load_checked_generator, resolve_checkpoint

    path = resolve_checkpoint(cfg.generator)
    G, meta, info = load_checked_generator(path, use_ema=True)
    z_dim = int(meta["config"]["z_dim"])
    problems, made = generator_mismatches(G.to(device), meta, z_dim, data.train, device)
    if problems:
        raise ConfigError(f"generator {path} does not match dataset {cfg.data.dataset!r} (data.image_size="
                          f"{cfg.data.image_size}, data.channels={cfg.data.channels}): " + "; ".join(problems) +
                          ". Use a generator trained on this data, or resize the data as it was for training.")
    seen = recorded_gan_images(path)
    overlap = None
    if seen is not None and not data.val_is_own_split:
        overlap = len(set(seen) & set(data.val.indices.tolist()))
        if overlap:
            raise ConfigError(f"generator {path} was trained on {overlap} images of this run's validation split "
                              "(its run's splits.json); reuse a generator from a `ganaug augment` run with the same "
                              "dataset, seed and data options, or let this run train one")
    D = Checkpoint(path).build("discriminator").to(device).eval()
    info.update(made, source=str(path), training_images_recorded=seen is not None, validation_images_seen=overlap)
    return Generator(G, D, z_dim, info)


def recorded_gan_images(path: Path) -> list[int] | None:
    """The training-split positions a checkpoint's GAN saw, from its run folder's splits.json (None if unrecorded)."""
    splits = path.parent.parent.parent / "splits.json"  # RUN/checkpoints/gan/last -> RUN/splits.json
    if not splits.is_file():
        return None
    recorded = json.loads(splits.read_text())
    return recorded.get("gan")


def trained_generators(cfg: AugmentConfig, gan_cfg: GANConfig, train: ImageDataset, device: torch.device, out: Path) -> dict:
    """Train the GAN on ``train`` (the imbalanced training split); the last generator, or those of ``gan_epochs``."""
    folder = out / "checkpoints" / "gan"
    result = train_gan(gan_cfg, train, cfg.seed, device, folder, cfg.progress)
    base = {"source": "trained in this run on the imbalanced training split", "architecture": cfg.gan.architecture,
            "conditional": cfg.gan.conditional, "history": result.history}
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
            for g in (generators if s.uses_generator else [None]):
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


def describe_generator(gen: Generator, pool: Pool, judge, synthetic: dict, key: str, data: Data, cfg: AugmentConfig,
                       device: torch.device) -> dict:
    """Where the generator came from, its candidate pool, class consistency and the leak audit of each set it made."""
    K = data.test.num_classes
    sets = {m: s for (g, m), s in synthetic.items() if g == key}
    consistency = {}
    for m, s in sets.items():
        if len(s):
            consistency[m] = class_consistency(predict(judge, s.images, device), s.labels, K)
    test_audit = audit_subset(data.test, cfg)
    audits = {}
    for m, s in sets.items():
        if len(s) < 1:
            continue
        sub = s.subset(torch.randperm(len(s), generator=torch.Generator().manual_seed(cfg.seed))[: cfg.audit_samples])
        audits[m] = {**trim(memorisation_audit(sub.images, data.imbalanced.images, test_audit.images, space="pixels")),
                     "audited": len(sub), "of": len(s)}
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


def audit_subset(test: ImageDataset, cfg: AugmentConfig) -> ImageDataset:
    """A seeded subset of at most ``audit_samples`` test images: the reference distances of the leak audit."""
    perm = torch.randperm(len(test), generator=torch.Generator().manual_seed(cfg.seed))
    return test.subset(perm[: cfg.audit_samples].sort().values)


def trim(audit: dict) -> dict:
    return {k: v for k, v in audit.items() if k not in AUDIT_DROP}


def leak_check(data: Data, added: list[ImageDataset]) -> dict:
    """No validation or test image in any model's training data: by positions (the real images every arm and the
    GAN train on come from the imbalanced training split, which is disjoint from the validation split), and by
    pixel hashes (exact copies of validation/test images among the training or the generated images)."""
    train_pos = set(data.imbalanced.indices.tolist())
    val_overlap = 0 if data.val_is_own_split else len(train_pos & set(data.val.indices.tolist()))
    if val_overlap or not train_pos <= set(data.train.indices.tolist()):
        raise RuntimeError(f"leak: {val_overlap} validation images in the training data; this is a bug, please report")
    digest = lambda ds: {hashlib.sha256(img.contiguous().numpy().tobytes()).hexdigest() for img in ds.images}  # noqa: E731
    real, val, test = digest(data.imbalanced), digest(data.val), digest(data.test)
    generated: set[str] = set().union(*(digest(a) for a in added)) if added else set()
    return {
        "validation_positions_in_training_data": val_overlap,
        "validation_images_identical_to_a_training_image": len(val & real),
        "test_images_identical_to_a_training_image": len(test & real),
        "generated_images_identical_to_a_validation_image": len(generated & val),
        "generated_images_identical_to_a_test_image": len(generated & test),
        "note": "identical real images across splits are duplicates in the dataset itself (see split_duplicates)",
    }


def preset_summary(name: str | None, presets: dict) -> dict | None:
    return None if name is None else {"name": name, "note": presets[name].note, "set": presets[name].set}


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+=-]+", "_", text).strip("_")
