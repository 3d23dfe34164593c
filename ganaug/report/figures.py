"""Report figures as PNG files (matplotlib's object-oriented API: no pyplot state, no display, no backend set).

Each function draws one figure from numbers the experiments already computed and returns its path; the
report modules (demo, augment, ssl, gan_report) share them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ganaug.data.dataset import ImageDataset


def subplots(*grid: int, figsize: tuple[float, float], **kwargs) -> tuple[Figure, Axes | np.ndarray]:
    """``pyplot.subplots`` without pyplot: a standalone Figure (saved as PNG by matplotlib's Agg renderer), so that
    drawing a report never touches the process's matplotlib backend or its list of open figures."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def sample_grid(real: ImageDataset, synthetic: dict[str, ImageDataset], path: Path, per_class: int = 8) -> Path:
    """One row per class: ``per_class`` real training images, then as many of each generated set (one column each)."""
    sets = {"real": real, **synthetic}
    rows = real.num_classes
    fig, axes = subplots(rows, len(sets), figsize=(len(sets) * 0.45 * per_class + 1.5, 0.55 * rows + 0.8),
                             squeeze=False)
    for col, (title, ds) in enumerate(sets.items()):
        for c in range(rows):
            ax = axes[c, col]
            imgs = ds.images[ds.labels == c][:per_class].numpy()
            if len(imgs):
                _show(ax, _montage(imgs))
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_title(title, fontsize=9)
            if col == 0:
                ax.set_ylabel(real.class_names[c], rotation=0, ha="right", va="center")
    fig.tight_layout()
    return _save(fig, path)


def training_curves(histories: dict[str, list[dict]], path: Path, gan_history: list[dict] | None = None,
                    x: str = "epoch") -> Path:
    """Against ``x`` (epoch, or ``step`` for iteration-based trainers): the GAN's losses (when ``gan_history`` is
    given, with ADA's augmentation probability p on a right-hand axis when it was on, and the collapse monitor's
    relative diversity when the history has it), each model's training loss, and its validation accuracy (its
    training accuracy when it has none)."""
    monitored = [r for r in gan_history or [] if "diversity" in r]
    n = 2 + bool(gan_history) + bool(monitored)
    fig, axes = subplots(1, n, figsize=(4.2 * n, 3.5))
    if monitored:
        _curve(axes[1], monitored, "epoch", "diversity", "mean over classes")
        _curve(axes[1], monitored, "epoch", "diversity_min", "least diverse class")
        axes[1].axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
        axes[1].set(xlabel="epoch", ylabel="generated / real diversity", title="Collapse monitor", ylim=(0, None))
        axes[1].legend(fontsize=7)
    if gan_history:
        _curve(axes[0], gan_history, "epoch", "loss_d", "discriminator")
        _curve(axes[0], gan_history, "epoch", "loss_g", "generator")
        axes[0].set(xlabel="epoch", ylabel="loss", title="GAN losses")
        axes[0].legend(fontsize=7)
        if "ada_p" in gan_history[-1]:
            ax_p = axes[0].twinx()
            _curve(ax_p, gan_history, "epoch", "ada_p", "ADA p", color="grey", linestyle="--")
            ax_p.set(ylabel="ADA augmentation probability p", ylim=(0, 1))
            ax_p.legend(fontsize=7, loc="lower right")
    ax_loss, ax_acc = axes[-2], axes[-1]
    accuracy = "validation accuracy"
    for name, hist in histories.items():
        if not hist:
            continue
        key = "val_acc" if "val_acc" in hist[0] else "train_acc"
        accuracy = "validation accuracy" if key == "val_acc" else "training accuracy"
        _curve(ax_loss, hist, x, "loss", name)
        _curve(ax_acc, hist, x, key, name)
    losses = [r["loss"] for h in histories.values() for r in h if "loss" in r]
    wide = losses and min(losses) > 0 and max(losses) > 10 * min(losses)  # a log axis where losses span decades
    ax_loss.set(xlabel=x, ylabel="training loss", title="Training loss", yscale="log" if wide else "linear")
    ax_acc.set(xlabel=x, ylabel=accuracy, title=accuracy.capitalize())
    ax_acc.legend(fontsize=6)
    fig.tight_layout()
    return _save(fig, path)


def class_bars(series: dict[str, tuple[list[float], list[float] | None]], class_names: list[str], path: Path,
               ylabel: str, title: str, shaded: Sequence[int] = ()) -> Path:
    """Grouped bars, one value per class for each series (``name: (values, std or None)``); ``shaded`` classes get a
    grey band behind them."""
    x = np.arange(len(class_names))
    width = 0.8 / len(series)
    fig, ax = subplots(figsize=(max(6, 0.7 * len(class_names) + 2), 3.6))
    for i, (name, (values, std)) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, yerr=std, capsize=2 if std else 0, label=name)
    for c in shaded:
        ax.axvspan(c - 0.45, c + 0.45, color="0.9", zorder=0)
    ax.set_xticks(x, class_names, rotation=30 if max(len(n) for n in class_names) > 3 else 0)
    top = max((max(v) for v, _ in series.values() if len(v)), default=1.0)
    ax.set(ylabel=ylabel, title=title, ylim=(0, 1.3 * top or 1))  # headroom for the legend
    ax.legend(fontsize=7, ncol=min(len(series), 4), loc="upper center")
    fig.tight_layout()
    return _save(fig, path)


def per_class_bars(metrics: dict[str, dict], class_names: list[str], path: Path, shaded: Sequence[int] = ()) -> Path:
    """Test recall per class of each model (``metrics[name]["per_class_recall"]``, with ``per_class_recall_std``
    as error bars where there is one), mean over repeats."""
    series = {name: (m["per_class_recall"], m.get("per_class_recall_std")) for name, m in metrics.items()}
    title = "Test recall per class" + (" (shaded: classes cut down)" if len(shaded) else "")
    return class_bars(series, class_names, path, "test recall", title, shaded)


def confusion_matrices(metrics: dict[str, dict], class_names: list[str], path: Path) -> Path:
    """Row-normalised test confusion matrices (``metrics[name]["confusion_matrix"]``), one panel per model."""
    fig, axes = _panels(len(metrics))
    ticks = np.arange(len(class_names))
    for ax, (name, m) in zip(axes, metrics.items()):
        cm = np.asarray(m["confusion_matrix"], dtype=float)
        ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), vmin=0, vmax=1, cmap="Blues")
        ax.set_title(name, fontsize=9)
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_xticks(ticks, class_names, fontsize=6, rotation=90)
        ax.set_yticks(ticks, class_names, fontsize=6)
    fig.tight_layout()
    return _save(fig, path)


def roc_curves(curves: dict[str, dict], class_names: list[str], path: Path) -> Path:
    """One-vs-rest test ROC curve of every class, one panel per model (``curves[model][class] = {fpr, tpr}``).

    The false positive rate is on a log axis, where classifiers with AUCs near 1 still look different."""
    fig, axes = _panels(len(curves))
    for ax, (name, per_class) in zip(axes, curves.items()):
        for c, curve in sorted(per_class.items(), key=lambda kv: int(kv[0])):
            ax.plot(curve["fpr"], curve["tpr"], lw=1, label=class_names[int(c)])
        ax.plot([1e-4, 1], [1e-4, 1], ":", color="0.6")
        ax.set_title(name, fontsize=9)
        ax.set(xlabel="false positive rate (log)", ylabel="true positive rate", xscale="log", xlim=(1e-4, 1),
               ylim=(0, 1.01))
    axes[-1].legend(fontsize=6, loc="lower right", ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def pair_grid(left: torch.Tensor, right: torch.Tensor, pairs: list[dict], keys: tuple[str, str], titles: tuple[str, str],
              path: Path, threshold: float | None = None, per_row: int = 4) -> Path:
    """Each pair side by side (``left[pair[keys[0]]]`` | ``right[pair[keys[1]]]``) under its distance, ``per_row``
    pairs a row, drawn as one montage; pairs at or below ``threshold`` are marked as flagged (the leak audit's
    closest pairs)."""
    c, h, w = left.shape[1:]
    pad, gap = max(1, w // 4), max(1, w // 8)  # between pairs / between the two images of a pair
    cell_w, cell_h = 2 * w + gap + pad, h + pad
    n = max(len(pairs), 1)
    rows, cols = math.ceil(n / per_row), min(n, per_row)
    canvas = np.full((rows * cell_h - pad, cols * cell_w - pad, c), 255, dtype=np.uint8)
    for i, pair in enumerate(pairs):
        y, x = (i // per_row) * cell_h, (i % per_row) * cell_w
        canvas[y : y + h, x : x + w] = left[pair[keys[0]]].numpy().transpose(1, 2, 0)
        canvas[y : y + h, x + w + gap : x + 2 * w + gap] = right[pair[keys[1]]].numpy().transpose(1, 2, 0)
    scale = 0.35 * max(1.0, 28 / h) * h / 28  # inches per image: small images drawn larger
    fig, ax = subplots(figsize=(max(4.0, canvas.shape[1] / h * scale * 2.2), canvas.shape[0] / h * scale * 2.2 + 0.6))
    _show(ax, canvas)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for i, pair in enumerate(pairs):
        y, x = (i // per_row) * cell_h, (i % per_row) * cell_w
        flagged = threshold is not None and pair["distance"] <= threshold
        ax.text(x + w + gap / 2, y - 0.5, f"d={pair['distance']:.3f}{' flagged' if flagged else ''}", ha="center",
                va="bottom", fontsize=7, color="crimson" if flagged else "black")
    ax.set_title(f"left: {titles[0]}, right: {titles[1]}\n(rms pixel distance d, [0, 1] units)", fontsize=8, pad=12)
    fig.tight_layout()
    return _save(fig, path)


def difference_intervals(rows: list[tuple[str, float, float | None, float | None]], path: Path, xlabel: str) -> Path:
    """A forest plot: one row per (label, mean, low, high) paired difference, with its interval and a line at 0."""
    fig, ax = subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, (_, mean, low, high) in zip(y, rows):
        color = "0.5" if low is None or low <= 0 <= high else ("tab:green" if low > 0 else "tab:red")
        if low is not None:
            ax.plot([100 * low, 100 * high], [yi, yi], color=color, lw=2)
        ax.plot([100 * mean], [yi], "o", color=color)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.set_xlabel(f"{xlabel} (points)")
    fig.tight_layout()
    return _save(fig, path)


def _curve(ax: Axes, history: list[dict], x: str, y: str, label: str, **style) -> None:
    """``history``'s ``y`` against ``x`` (NaN where a row lacks it); dots too when there are few points."""
    ax.plot([r[x] for r in history], [r.get(y, np.nan) for r in history], marker="o" if len(history) < 20 else None,
            markersize=3, label=label, **style)


def _montage(images: np.ndarray, pad: int = 1) -> np.ndarray:
    """(n, C, H, W) uint8 -> one (H, n*(W+pad), C) strip."""
    n, c, h, w = images.shape
    strip = np.full((h, n * (w + pad) - pad, c), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        strip[:, i * (w + pad) : i * (w + pad) + w] = img.transpose(1, 2, 0)
    return strip


def _show(ax: Axes, image: np.ndarray) -> None:
    """An (H, W, C) uint8 image, grey or RGB, pixel for pixel, without ticks."""
    ax.imshow(image[:, :, 0] if image.shape[2] == 1 else image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])


def _panels(n: int, cols: int = 4, size: float = 3.6) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` square panels, at most ``cols`` a row; the unused cells of the last row are hidden."""
    rows, cols = math.ceil(n / cols), min(n, cols)
    fig, axes = subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def image_rows(rows: dict[str, torch.Tensor], path: Path) -> Path:
    """One labelled strip per entry of ``rows`` (uint8 (n, C, H, W) images, the same n): e.g. source | translated |
    reconstructed, column by column."""
    fig, axes = subplots(len(rows), 1, figsize=(1.0 + 0.9 * len(next(iter(rows.values()))), 1.2 * len(rows)),
                         squeeze=False)
    for ax, (title, images) in zip(axes[:, 0], rows.items()):
        _show(ax, _montage(images.numpy()))
        ax.set_ylabel(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def loss_curves(history: list[dict], keys: Sequence[str], path: Path, x: str = "step") -> Path:
    """The ``keys`` of a trainer's history against ``x``, one line each."""
    fig, ax = subplots(figsize=(6, 3.5))
    for key in keys:
        _curve(ax, history, x, key, key)
    ax.set_xlabel(x), ax.legend(fontsize=8), fig.tight_layout()
    return _save(fig, path)
