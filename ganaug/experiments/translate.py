"""``ganaug translate``: CycleGAN between two domains, each a class of the dataset's training split or a folder of
images, then every source image translated into the target domain (written as PNGs) and a report.

The test split is not used. The report shows source | translated | reconstructed (translated back) images and the
training curves; a translation keeps the source image's layout and takes the target domain's look.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganaug.config import TranslateConfig
from ganaug.data import ImageDataset, to_float, to_uint8
from ganaug.data.export import write_image_folder
from ganaug.data.folder import read_images
from ganaug.errors import ConfigError
from ganaug.experiments.run import Run, load_data
from ganaug.gan.cyclegan import train_cyclegan
from ganaug.report.translate import write_translate_report


def domain(value: str, key: str, train: ImageDataset) -> tuple[str, torch.Tensor]:
    """(name, uint8 images) of ``--from``/``--to``: a class by index or name, or ``folder:PATH``."""
    if value.startswith("folder:"):
        path = Path(value.split(":", 1)[1]).expanduser()
        return path.name, read_images(path, train.image_size, train.channels)
    names = train.class_names
    index = names.index(value) if value in names else int(value) if value.isdigit() else -1
    if not 0 <= index < len(names):
        raise ConfigError(f"{key} {value!r}: expected a class index in 0..{len(names) - 1}, one of {names}, "
                          "or folder:PATH")
    return names[index], train.images[train.labels == index]


@torch.no_grad()
def translate_all(net: torch.nn.Module, images: torch.Tensor, device: torch.device, batch: int = 256) -> torch.Tensor:
    """``net`` applied to uint8 images, in batches; returns uint8 images."""
    out = [to_uint8(net(to_float(images[i : i + batch]).to(device)).cpu()) for i in range(0, len(images), batch)]
    return torch.cat(out)


def run_translate(cfg: TranslateConfig, command: str = "") -> Path:
    """Train (or resume) the CycleGAN in ``cfg.out/checkpoints/cyclegan``; write ``translated/<target>/*.png``,
    ``reconstructed/<source>/*.png`` (translated back), metrics.json and report.html; return the report's path."""
    run = Run(cfg)
    train = load_data(cfg.data).train
    (source, a), (target, b) = domain(cfg.source, "--from", train), domain(cfg.target, "--to", train)
    if source == target:
        raise ConfigError(f"--from {cfg.source!r} and --to {cfg.target!r} are the same domain ({source!r})")
    run.claim()
    with run.timed("training_seconds"):
        result = train_cyclegan(cfg.cyclegan, to_float(a), to_float(b), cfg.seed, run.device,
                                run.out / "checkpoints" / "cyclegan", cfg.progress)
    translated = translate_all(result.G, a, run.device)
    reconstructed = translate_all(result.F, translated, run.device)
    zeros = torch.zeros(len(translated), dtype=torch.int64)
    write_image_folder(ImageDataset(translated, zeros, [target]), run.out / "translated")
    # translated back: the control for a judge, which may call an image the target for its artefacts alone
    write_image_folder(ImageDataset(reconstructed, zeros, [source]), run.out / "reconstructed")
    metrics = {
        "dataset": cfg.data.dataset, "source": source, "target": target, "source_images": len(a),
        "target_images": len(b), "translated": len(translated), "history": result.history,
        "cycle_l1": float((to_float(reconstructed) - to_float(a)).abs().mean()),  # in [-1, 1] units, all sources
        "device": str(run.device), "timings": run.elapsed(), "command": command, "quick": cfg.quick,
    }
    run.write_json("metrics.json", metrics)
    n = min(cfg.grid_size, len(a))
    return run.report(write_translate_report, metrics, (a[:n], translated[:n], reconstructed[:n]))
