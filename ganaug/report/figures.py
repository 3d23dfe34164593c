"""Report figures as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ganaug.data.dataset import ImageDataset  # noqa: E402


def _montage(images: np.ndarray, pad: int = 1) -> np.ndarray:
    """(n, C, H, W) uint8 -> one (H, n*(W+pad), C) strip."""
    n, c, h, w = images.shape
    strip = np.full((h, n * (w + pad) - pad, c), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        strip[:, i * (w + pad) : i * (w + pad) + w] = img.transpose(1, 2, 0)
    return strip


def sample_grid(real: ImageDataset, synthetic: ImageDataset, path: Path, per_class: int = 8) -> Path:
    """One row per class: ``per_class`` real training images on the left, generated ones on the right."""
    rows = real.num_classes
    fig, axes = plt.subplots(rows, 2, figsize=(2 * 0.45 * per_class + 1.5, 0.55 * rows + 0.8), squeeze=False)
    for c in range(rows):
        for col, (ds, title) in enumerate(((real, "real"), (synthetic, "synthetic"))):
            ax = axes[c, col]
            imgs = ds.images[ds.labels == c][:per_class].numpy()
            if len(imgs):
                strip = _montage(imgs)
                ax.imshow(strip[:, :, 0] if strip.shape[2] == 1 else strip, cmap="gray", vmin=0, vmax=255,
                          interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_title(title)
            if col == 0:
                ax.set_ylabel(real.class_names[c], rotation=0, ha="right", va="center")
    fig.tight_layout()
    return _save(fig, path)


def training_curves(gan_history: list[dict], classifier_histories: dict[str, list[dict]], path: Path) -> Path:
    """GAN losses per epoch (left); classifier training loss and validation accuracy per epoch (right)."""
    fig, (ax_gan, ax_cls) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = [r["epoch"] for r in gan_history]
    ax_gan.plot(epochs, [r["loss_d"] for r in gan_history], label="discriminator")
    ax_gan.plot(epochs, [r["loss_g"] for r in gan_history], label="generator")
    ax_gan.set(xlabel="epoch", ylabel="loss", title="GAN (non-saturating loss)")
    ax_gan.legend()
    acc_ax = ax_cls.twinx()
    for name, hist in classifier_histories.items():
        ep = [r["epoch"] for r in hist]
        (line,) = ax_cls.plot(ep, [r["loss"] for r in hist], label=f"{name} loss")
        if "val_acc" in hist[0]:
            acc_ax.plot(ep, [r["val_acc"] for r in hist], "--", color=line.get_color(), label=f"{name} val acc")
    ax_cls.set(xlabel="epoch", ylabel="training loss", title="Classifiers (first repeat)")
    acc_ax.set_ylabel("validation accuracy")
    handles = ax_cls.get_legend_handles_labels()[0] + acc_ax.get_legend_handles_labels()[0]
    ax_cls.legend(handles=handles, fontsize=7, loc="center right")
    fig.tight_layout()
    return _save(fig, path)


def per_class_bars(metrics: dict, arms: tuple[str, ...], class_names: list[str], path: Path) -> Path:
    """Test recall per class for each arm, mean over repeats with +-1 std error bars."""
    x = np.arange(len(class_names))
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(class_names) + 2), 3.6))
    for i, arm in enumerate(arms):
        ax.bar(x + (i - (len(arms) - 1) / 2) * width, metrics[arm]["per_class_recall"], width,
               yerr=metrics[arm]["per_class_recall_std"], capsize=2, label=arm)
    for c in metrics.get("target_classes", []):
        ax.axvspan(c - 0.45, c + 0.45, color="0.9", zorder=0)
    ax.set_xticks(x, class_names, rotation=30 if max(len(n) for n in class_names) > 3 else 0)
    ax.set(ylabel="test recall", ylim=(0, 1.05), title="Recall per class (shaded: classes cut down)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrices(metrics: dict, arms: tuple[str, ...], class_names: list[str], path: Path) -> Path:
    """Row-normalised test confusion matrices, summed over repeats, one panel per arm."""
    fig, axes = plt.subplots(1, len(arms), figsize=(3.6 * len(arms), 3.6))
    for ax, arm in zip(np.atleast_1d(axes), arms):
        cm = np.asarray(metrics[arm]["confusion_matrix"], dtype=float)
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
        ax.set(title=arm, xlabel="predicted", ylabel="true")
        ticks = np.arange(len(class_names))
        ax.set_xticks(ticks, class_names, fontsize=6, rotation=90)
        ax.set_yticks(ticks, class_names, fontsize=6)
    fig.tight_layout()
    return _save(fig, path)


def roc_curves(curves: dict[str, dict], class_names: list[str], path: Path) -> Path:
    """One-vs-rest test ROC curve of every class, one panel per model (``curves[model][class] = {fpr, tpr}``).

    The false positive rate is on a log axis, where classifiers with AUCs near 1 still look different."""
    fig, axes = plt.subplots(1, len(curves), figsize=(3.6 * len(curves), 3.6), squeeze=False)
    for ax, (name, per_class) in zip(axes[0], curves.items()):
        for c, curve in sorted(per_class.items(), key=lambda kv: int(kv[0])):
            ax.plot(curve["fpr"], curve["tpr"], lw=1, label=class_names[int(c)])
        ax.plot([1e-4, 1], [1e-4, 1], ":", color="0.6")
        ax.set(title=name, xlabel="false positive rate (log)", ylabel="true positive rate", xscale="log",
               xlim=(1e-4, 1), ylim=(0, 1.01))  # log: good classifiers differ only at small false positive rates
    axes[0][-1].legend(fontsize=6, loc="lower right", ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def step_curves(histories: dict[str, list[dict]], path: Path) -> Path:
    """Training loss (left) and validation accuracy (right) against the iteration, one line per model."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, hist in histories.items():
        steps = [r["step"] for r in hist]
        ax_loss.plot(steps, [r.get("loss", np.nan) for r in hist], label=name)
        ax_acc.plot(steps, [r.get("val_acc", np.nan) for r in hist], label=name)
    ax_loss.set(xlabel="iteration", ylabel="labelled cross-entropy", yscale="log", title="Training loss")
    ax_acc.set(xlabel="iteration", ylabel="validation accuracy", title="Validation accuracy (curves only)")
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def sample_rows(samples: dict[str, ImageDataset], path: Path, per_row: int = 8) -> Path:
    """Generated images, one panel per model, one row per class (unconditional models: rows of any class)."""
    fig, axes = plt.subplots(1, len(samples), figsize=(2.2 * len(samples) + 1, 0.5 * 10 + 0.8), squeeze=False)
    for ax, (name, ds) in zip(axes[0], samples.items()):
        imgs = ds.images.numpy()
        rows = [_montage(imgs[i : i + per_row]) for i in range(0, len(imgs) - per_row + 1, per_row)]
        grid = np.concatenate(rows, 0)
        ax.imshow(grid[:, :, 0] if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(name, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
