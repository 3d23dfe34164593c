"""The ``translate`` strategy's images: each target class filled with the training images of one source class
(``translate_from``; by default the largest), translated into it by a CycleGAN (Zhu et al. 2017) trained on the two
classes of the imbalanced training split.

An unpaired class-to-class translation keeps the variety of the majority class (its poses, backgrounds, strokes) and
takes the look of the minority class. One CycleGAN per target class; each checkpoints and resumes on its own. The
translated images then go through what any generated set does in ``augment``: the mixing plan, post-processing, the
judge's class consistency and the memorisation audit (which here also tells how much of a translated image is its
source image).
"""

from __future__ import annotations

import torch

from ganaug.config import AugmentConfig
from ganaug.data import ImageDataset, to_float
from ganaug.data.export import folder_name
from ganaug.experiments.augment_data import Data, Generator, resolve_class
from ganaug.experiments.run import Run
from ganaug.experiments.translate import translate_all
from ganaug.gan.cyclegan import train_cyclegan

KEY = "translated"  # the generator key of the translated images (arms: "translate <mix>")


def translated_images(cfg: AugmentConfig, data: Data, run: Run) -> Generator:
    """Train a CycleGAN from the source class to each target class and translate all of the source class's images."""
    train = data.imbalanced
    names = train.class_names
    largest = cfg.translate_from is None
    source = max(range(train.num_classes), key=train.class_counts().__getitem__) if largest else \
        resolve_class(cfg.translate_from, names, "translate_from")
    real = train.images[train.labels == source]
    images, labels, translators = [], [], {}
    for c in data.targets:
        if c == source:  # the source class is not translated into itself
            continue
        folder = run.out / "checkpoints" / "cyclegan" / folder_name(names[c])
        result = train_cyclegan(cfg.cyclegan, to_float(real), to_float(train.images[train.labels == c]),
                                cfg.seed + c, run.device, folder, cfg.progress)
        images.append(translate_all(result.G, real, run.device))
        labels.append(torch.full((len(real),), c, dtype=torch.int64))
        translators[names[c]] = {"checkpoint": str(folder / "last"), "history": result.history}
    made = ImageDataset(torch.cat(images), torch.cat(labels), list(names)) if images else \
        ImageDataset(train.images[:0], train.labels[:0], list(names))
    which = "the largest class" if largest else "the class chosen by translate_from"
    info = {"source": f"{which} ({names[source]!r}, {len(real)} images) of the imbalanced training split, "
                      "translated into each target class by a CycleGAN trained here", "architecture": "cyclegan",
            "conditional": True, "labelled_by": "the class each image was translated into",
            "translated_from": names[source], "translators": translators}
    return Generator(None, None, 0, info, made)
