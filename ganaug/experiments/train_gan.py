"""Train a GAN on a dataset's training split (optionally made imbalanced first) and keep its checkpoints.

The checkpoints feed ``ganaug generate`` and ``ganaug evaluate-gan``. The test split is not loaded
into training in any way; the GAN sees exactly the images listed in ``splits.json``.
"""

from __future__ import annotations

import time
from pathlib import Path

from ganaug import distributed as dist
from ganaug.checkpoint import write_json
from ganaug.config import TrainGANConfig, save_config
from ganaug.data import load_dataset
from ganaug.experiments.common import check_out_folder, images_digest, make_imbalanced, resolve_imbalance
from ganaug.gan.trainer import build_gan, train_gan
from ganaug.runlog import TensorBoard
from ganaug.runtime import resolve_device


def run_train_gan(cfg: TrainGANConfig) -> Path:
    """Train into ``cfg.out/checkpoints/gan`` (resuming if a checkpoint is there); return the last checkpoint's path.

    Under torchrun every rank trains its share; rank 0 writes every file.
    """
    device = resolve_device(cfg.device)  # under torchrun, joins the process group
    check_out_folder(cfg.out)
    data = load_dataset(cfg.data.dataset, cfg.data.data_dir, cfg.data.download, cfg.data.image_size, cfg.data.channels)
    build_gan(cfg.gan, data.train.image_size, data.train.channels, data.train.num_classes)  # a bad architecture fails here
    dist.check_batch_size("gan.batch_size", cfg.gan.batch_size)  # under torchrun: splits over the processes
    out = Path(cfg.out)
    tb = TensorBoard(out / "tensorboard", cfg.tensorboard and dist.is_main())
    if dist.is_main():
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "config.yaml")
    train = make_imbalanced(data.train, resolve_imbalance(data.train, cfg.imbalance)[0], cfg.seed)
    tic = time.perf_counter()
    result = train_gan(cfg.gan, train, cfg.seed, device, out / "checkpoints" / "gan", cfg.progress, log=tb.run("gan"))
    tb.close()
    if not dist.is_main():
        return out / "checkpoints" / "gan" / "last"
    write_json(out / "splits.json", {"gan": train.indices.tolist(), "train_images_sha256": images_digest(train.images)})
    write_json(out / "train.json", {
        "dataset": cfg.data.dataset,
        "class_counts": train.class_counts(),
        "epochs": len(result.history),
        "seconds": time.perf_counter() - tic,
        "history": result.history,
        "precision_fallback": result.precision_fallback,  # set when bf16 gave a non-finite loss and fp32 took over
    })
    return out / "checkpoints" / "gan" / "last"
