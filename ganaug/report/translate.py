"""The ``ganaug translate`` report: what was translated into what, the images, the losses."""

from __future__ import annotations

from pathlib import Path

import torch

from ganaug.report import figures
from ganaug.report.format import quick_banner
from ganaug.report.html import write_report


def write_translate_report(out: Path, m: dict, grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> Path:
    """``grid``: uint8 source, translated and reconstructed images (the same n)."""
    source, target = m["source"], m["target"]
    fig_dir = out / "figures"
    figures.image_rows({source: grid[0], f"-> {target}": grid[1], f"-> {source} again": grid[2]},
                       fig_dir / "translations.png")
    figures.loss_curves(m["history"], ("loss_g", "loss_d", "loss_cycle", "loss_identity"), fig_dir / "losses.png")
    last = m["history"][-1]
    lines = [
        f"# ganaug translate: {source} -> {target} on {m['dataset']} (CycleGAN)",
        "",
        *quick_banner(m["quick"]),
        f"A CycleGAN (Zhu et al. 2017) trained for {last['step']:,} steps on {m['source_images']:,} images of "
        f"`{source}` and {m['target_images']:,} of `{target}` (unpaired) translated every `{source}` image into "
        f"`{target}`: {m['translated']:,} images in `translated/`. Translated back, they differ from the originals "
        f"by {m['cycle_l1']:.3f} on average (mean absolute difference in [-1, 1] pixel units; 0: a perfect cycle).",
        "",
        "Whether a translated image looks like its target class is for a judge to say: `ganaug evaluate-gan --images "
        "translated/ --dataset ...` scores a folder of images against a dataset. `reconstructed/` holds the "
        "translations translated back, as the source class: the control, since a judge may call an image the target "
        "for a translator's artefacts (blur, colour shifts) alone; if it calls the reconstructions the source about "
        "as often as real source images, the artefacts did not decide its answer.",
        "",
        "![translations](figures/translations.png)",
        "",
        "Each column: a source image, its translation, and the translation translated back.",
        "",
        "![losses](figures/losses.png)",
        "",
        f"Final losses: adversarial (generators) {last['loss_g']:.3f}, discriminators {last['loss_d']:.3f}, cycle "
        f"{last['loss_cycle']:.3f}, identity {last['loss_identity']:.3f}. Training took "
        f"{m['timings'].get('training_seconds', 0):.0f} s on {m['device']}.",
        "",
        f"Command: `{m['command']}`",
    ]
    return write_report(out, "\n".join(lines) + "\n", f"ganaug translate: {source} -> {target}")
