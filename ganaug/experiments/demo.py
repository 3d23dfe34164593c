"""The main job: does GAN rebalancing help a classifier trained on an imbalanced split?

1. load the dataset; hold out a validation split; the test split is never touched until evaluation;
2. make the training split imbalanced: a split that is imbalanced already is kept as it is (profile
   ``natural``); a balanced one with >= 4 classes gets Gao's protocol (classes {0, 1, 2} cut to 10 %);
3. train a conditional GAN on that imbalanced training split only (or read the images a user supplies,
   ``synthetic``: any model's, checked against the data);
4. generate images of the target classes (the cut ones, or those below the largest) up to the largest class;
5. train the classifier on (a) the imbalanced real data, (b) real + synthetic, (c) when classes were cut, the
   full real training split (the reference: the upper bound and the judge of the generator; for data kept as
   it is, the baseline judges), ``repeats`` seeds each;
6. evaluate on the test split; audit the synthetic images for memorisation (their nearest training images
   against the test images') and the splits for duplicates; write metrics.json, figures, report.md and
   report.html (and TensorBoard event files with ``tensorboard: true``).
"""

from __future__ import annotations

from pathlib import Path

from ganaug import distributed as dist
from ganaug.classifier.trainer import predict, train_classifier
from ganaug.config import ConfigError, DemoConfig
from ganaug.data import ImageDataset, concat, to_float, to_uint8
from ganaug.data import splits as S
from ganaug.data.dataset import DatasetSplits
from ganaug.data.export import write_image_folder
from ganaug.data.imageset import read_image_set
from ganaug.gan.trainer import build_gan, train_gan
from ganaug.gan.sampling import generate
from ganaug.experiments.common import (
    audit_generated, compare, images_digest, imbalance_for, seeded_subset, summarize, trim,
)
from ganaug.experiments.run import Run, hold_out_validation, load_data
from ganaug.metrics import class_consistency, heldout_metrics, split_duplicates
from ganaug.report.demo import write_demo_report

ARMS = ("baseline", "augmented", "reference")  # imbalanced real | + synthetic | full real training split
AUDIT_SAMPLES = 1000  # synthetic (and test) images in the leak audit, a seeded choice


def check_demo(cfg: DemoConfig) -> DatasetSplits:
    """Load the data and build the GAN, so a missing file or a bad architecture option fails before anything is written."""
    if cfg.synthetic is not None:  # no GAN: the supplied images are checked once the training split is known
        return load_data(cfg.data)
    if not cfg.gan.conditional:
        raise ConfigError("gan.conditional=false: the demo generates images of chosen classes, which needs a "
                          "class-conditional GAN; leave gan.conditional true (ganaug augment labels unconditional "
                          "samples with a judge classifier)")
    data = load_data(cfg.data)
    build_gan(cfg.gan, data.train.image_size, data.train.channels, data.train.num_classes)
    return data


def run_demo(cfg: DemoConfig, command: str = "ganaug demo") -> Path:
    """Run the whole study into ``cfg.out`` and return the path of ``report.html``.

    Re-running the same command into the same folder resumes from the checkpoints it finds.
    """
    run = Run(cfg)
    device, out = run.device, run.out

    # 1. Data. The validation split comes out of the training split; the test split is only evaluated on.
    splits = hold_out_validation(check_demo(cfg), cfg.data.val_fraction, cfg.seed)
    full_train, val, test = splits.train, splits.val, splits.test

    # 2. Imbalance the training split, or keep it when it is imbalanced already; checked before anything is written.
    imbalanced, targets, imbalance, reason = imbalance_for(full_train, cfg.imbalance, cfg.seed, balanced_small="error")
    largest = max(imbalanced.class_counts())
    synth_counts = [largest - n if c in targets else 0 for c, n in enumerate(imbalanced.class_counts())]
    if not sum(synth_counts):
        raise ConfigError(f"imbalance.profile={cfg.imbalance.profile}: every class of the training split has "
                          f"{largest} images, so there is nothing to rebalance; choose a cut, e.g. "
                          "--set imbalance.profile=reduce --set imbalance.classes=[0]")
    arms = ARMS if imbalance.profile not in ("natural", "none") else ("baseline", "augmented")  # no uncut split
    supplied = read_image_set(cfg.synthetic, imbalanced, key="synthetic") if cfg.synthetic else None
    run.say(f"imbalance: {reason}")
    run.claim()

    # 3. The GAN sees the imbalanced training split and nothing else.
    gan, fallbacks = None, []
    if supplied is None:
        with run.timed("gan_seconds"):
            gan = train_gan(cfg.gan, imbalanced, cfg.seed, device, out / "checkpoints" / "gan", cfg.progress,
                            log=run.log("gan"))
        fallbacks = [{"trainer": "GAN", **gan.precision_fallback}] if gan.precision_fallback else []

    # 4. Rebalance: top each target class up to the largest class with generated (or supplied) images.
    if supplied is None:
        x, y = generate(gan.generator, synth_counts, cfg.gan.z_dim, cfg.seed + 1, device)
        synthetic = ImageDataset(to_uint8(x) if len(y) else imbalanced.images[:0], y, imbalanced.class_names)
    else:
        synthetic = take_supplied(supplied, synth_counts, cfg.seed + 1)
        short = [n - h for n, h in zip(synth_counts, synthetic.class_counts())]
        if any(short):
            run.say(f"synthetic {cfg.synthetic}: too few images for {short} more per class; those classes stay "
                    "smaller than the largest")
    dist.on_main(write_image_folder, synthetic, out / "synthetic")
    training_sets = {"baseline": imbalanced, "augmented": concat(imbalanced, synthetic), "reference": full_train}
    training_sets = {arm: training_sets[arm] for arm in arms}

    # 5. Classifiers, paired by seed across arms.
    with run.timed("classifier_seconds"):
        results: dict[str, list[dict]] = {arm: [] for arm in arms}
        histories: dict[str, list[dict]] = {}
        roc: dict[str, dict] = {}
        models = {}
        for repeat in range(cfg.classifier.repeats):
            for arm in arms:
                seed = cfg.seed + repeat
                res = train_classifier(
                    cfg.classifier, training_sets[arm], seed, device, val=val,
                    checkpoint_dir=out / "checkpoints" / f"classifier-{arm}-{repeat}", progress=cfg.progress,
                    title=f"{arm} #{repeat + 1}", log=run.log(f"classifier-{arm}-{repeat}"),
                )
                if res.precision_fallback:
                    fallbacks.append({"trainer": f"classifier {arm} #{repeat + 1}", **res.precision_fallback})
                # 6. Evaluate on the untouched test split.
                scores = heldout_metrics(res.model, test, device)
                results[arm].append(scores)
                if repeat == 0:
                    histories[arm], models[arm] = res.history, res.model
                    roc[arm] = scores.pop("roc_curves")

    # A classifier of real images judges the generator: fresh samples of every class, labelled by the class asked for.
    # The reference (full real training split) when there is one; for data kept as it is, the baseline, which saw
    # every real training image.
    judge_arm = "reference" if "reference" in arms else "baseline"
    judge = models[judge_arm]
    judged_counts = [cfg.judge_samples_per_class] * test.num_classes
    if supplied is None:
        jx, jy = generate(gan.generator, judged_counts, cfg.gan.z_dim, cfg.seed + 2, device)
    else:
        judged = take_supplied(supplied, judged_counts, cfg.seed + 2)
        jx, jy = to_float(judged.images), judged.labels  # as generated images are
    consistency = class_consistency(predict(judge, jx, device), jy, test.num_classes)
    used = class_consistency(predict(judge, synthetic.images, device), synthetic.labels, test.num_classes)

    # The leak audit: synthetic images too close to the GAN's training images; test images duplicated in training.
    test_audit = seeded_subset(test, AUDIT_SAMPLES, cfg.seed)
    leak = {
        "memorisation": audit_generated(synthetic, imbalanced, test_audit, AUDIT_SAMPLES, cfg.seed) if len(synthetic)
        else None,
        "split_duplicates": trim(split_duplicates(imbalanced.images, test_audit.images)),
        "test_images_audited": len(test_audit),
    }

    metrics = {
        "dataset": cfg.data.dataset,
        "seed": cfg.seed,
        "class_names": test.class_names,
        "target_classes": targets,
        "imbalance": {"profile": imbalance.profile, "configured": cfg.imbalance.profile, "reason": reason},
        "arms": list(arms),
        "counts": {
            "full_train": full_train.class_counts(),
            "imbalanced_train": imbalanced.class_counts(),
            "synthetic": synthetic.class_counts(),
            "val": val.class_counts(),
            "test": test.class_counts(),
        },
        **{arm: summarize(results[arm]) for arm in arms},
        "augmented_vs_baseline": compare(results["augmented"], results["baseline"], test.num_classes),
        "gan": {
            "class_consistency": consistency["overall"],
            "class_consistency_per_class": consistency["per_class"],
            "class_consistency_of_used_samples": used["per_class"],
            "judge": f"{judge_arm} classifier (seed repeat 1), trained on "
                     + ("the full real training split" if judge_arm == "reference" else "the real training split"),
            "history": gan.history if gan is not None else [],
            "source": f"images supplied from {cfg.synthetic} (no GAN trained)" if supplied is not None else
            f"a {cfg.gan.architecture} trained in this run on the imbalanced training split",
        },
        "classifier_histories": histories,
        "precision_fallbacks": fallbacks,  # trainers that went from bf16 to fp32 on a non-finite loss
        "roc_curves": roc,  # first repeat, test split, one-vs-rest per class
        "leak_audit": leak,  # closest pairs: generated -> synthetic/, train -> the GAN's training images
        "training_images_sha256": {  # what each model saw; the GAN trained on the baseline's images only
            "gan_and_baseline": images_digest(imbalanced.images),
            "augmented": images_digest(training_sets["augmented"].images),
            **({"reference": images_digest(full_train.images)} if "reference" in arms else {}),
            "val": images_digest(val.images),
            "test": images_digest(test.images),
        },
        "timings": run.elapsed(),
        "device": str(device),
    }
    run.write_json("metrics.json", metrics)
    run.write_json("splits.json", {  # positions in the official training split (val: in its own split)
        "gan_and_baseline": imbalanced.indices.tolist(),
        "reference": full_train.indices.tolist(),
        "val": val.indices.tolist(),
        "val_is_own_split": splits.own_val,
    })

    images = {"real": full_train, "judged": ImageDataset(to_uint8(jx), jy, test.class_names), "synthetic": synthetic,
              "gan_train": imbalanced, "test_audit": test_audit}
    return run.report(write_demo_report, cfg, metrics, images, command)


def take_supplied(supplied: ImageDataset, counts: list[int], seed: int) -> ImageDataset:
    """A seeded choice of ``counts[c]`` supplied images of each class c (all it has, where it has fewer)."""
    have = supplied.class_counts()
    return S.take_per_class(supplied, [min(n, h) for n, h in zip(counts, have)], seed)[0]
