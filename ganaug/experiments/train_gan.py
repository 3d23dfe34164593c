"""Train a GAN on a dataset's training split (optionally made imbalanced first) and keep its checkpoints.

The checkpoints feed ``ganaug generate`` and ``ganaug evaluate-gan``. The test split is not loaded
into training in any way; the GAN sees exactly the images listed in ``splits.json``.
"""

from __future__ import annotations

from pathlib import Path

from ganaug import distributed as dist
from ganaug.config import TrainGANConfig
from ganaug.experiments.common import images_digest, make_imbalanced, resolve_imbalance
from ganaug.experiments.run import Run, load_data
from ganaug.gan.trainer import build_gan, train_gan


def run_train_gan(cfg: TrainGANConfig) -> Path:
    """Train into ``cfg.out/checkpoints/gan`` (resuming if a checkpoint is there); return the last checkpoint's path.

    Under torchrun every rank trains its share; rank 0 writes every file.
    """
    run = Run(cfg)  # under torchrun, joins the process group
    data = load_data(cfg.data)
    build_gan(cfg.gan, data.train.image_size, data.train.channels, data.train.num_classes)  # a bad architecture fails here
    dist.check_batch_size("gan.batch_size", cfg.gan.batch_size)  # under torchrun: splits over the processes
    train = make_imbalanced(data.train, resolve_imbalance(data.train, cfg.imbalance)[0], cfg.seed)
    run.claim()
    last = run.out / "checkpoints" / "gan" / "last"
    with run.timed("seconds"):
        result = train_gan(cfg.gan, train, cfg.seed, run.device, last.parent, cfg.progress, log=run.log("gan"))
    run.close()
    run.write_json("splits.json", {"gan": train.indices.tolist(), "train_images_sha256": images_digest(train.images)})
    run.write_json("train.json", {
        "dataset": cfg.data.dataset,
        "class_counts": train.class_counts(),
        "epochs": len(result.history),
        "seconds": run.timings["seconds"],
        "history": result.history,
        "precision_fallback": result.precision_fallback,  # set when bf16 gave a non-finite loss and fp32 took over
        "device": str(run.device),
    })
    return last
