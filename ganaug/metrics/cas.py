"""Classification Accuracy Score: train a classifier on generated images only, test it on real images.

CAS (Ravuri & Vinyals 2019) asks whether the generated images carry what a classifier needs to know
about each class: a classifier (ganaug's trainer, with a :class:`ClassifierConfig`) is trained on the
labelled synthetic set alone and evaluated on the real test split. Compare it with the same
classifier trained on the same number of real images; a large gap means the generator misses what
distinguishes the classes, even if its images look right.
"""

from __future__ import annotations

import torch

from ganaug.classifier.trainer import predict_logits, train_classifier
from ganaug.config import ClassifierConfig
from ganaug.data.dataset import ImageDataset
from ganaug.metrics.classification import classification_metrics, roc_points


def classification_accuracy_score(
    synthetic: ImageDataset,
    real_test: ImageDataset,
    cfg: ClassifierConfig,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict:
    """Accuracy, balanced accuracy (and the rest of :func:`heldout_metrics`) on ``real_test`` of a classifier
    trained on ``synthetic`` only, with the labels the images were generated for."""
    if synthetic.class_names != real_test.class_names or synthetic.images.shape[1:] != real_test.images.shape[1:]:
        raise ValueError("synthetic and real test sets must share class names and image shape")
    device = torch.device(device)
    result = train_classifier(cfg, synthetic, seed, device, progress=False, title="CAS classifier")
    metrics = heldout_metrics(result.model, real_test, device)
    return {**metrics, "n_synthetic": len(synthetic), "n_test": len(real_test), "classifier": result.spec["name"], "seed": seed}


def heldout_metrics(model: torch.nn.Module, test: ImageDataset, device: torch.device,
                    offset: torch.Tensor | None = None) -> dict:
    """:func:`classification_metrics` of ``model`` on ``test`` with its class probabilities: also the one-vs-rest
    ROC-AUC and the ROC curves (``roc_curves``, for the report). The one evaluation on a test split of every
    experiment. ``offset`` (K,) is added to the logits first (post-hoc logit adjustment); None: none."""
    logits = predict_logits(model, test.images, device)
    probs = (logits if offset is None else logits + offset).double().softmax(1).numpy()
    metrics = classification_metrics(test.labels.numpy(), probs.argmax(1), test.num_classes, probs)
    return {**metrics, "roc_curves": roc_points(test.labels.numpy(), probs, test.num_classes)}
