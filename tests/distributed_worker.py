"""Short trainings of every kind on digits, for ``test_distributed.py``: ``python distributed_worker.py OUT``.

``python distributed_worker.py cli ARGS [--next ARGS ...]`` instead runs ``ganaug ARGS`` through the entry point
(``ganaug.cli.main``) once per ``--next``-separated command, in one process group, rank 0 printing ``=== ganaug
COMMAND`` before each: one torchrun start for several commands.

Run once in one process and once under ``torchrun --nproc_per_node=2`` (gloo, loopback); every rank writes
``OUT/<tag>.safetensors`` (final weights and buffers, test predictions) and ``OUT/<tag>.json`` (histories),
tagged ``rank0``, ``rank1`` or ``single``, so that the test can compare ranks with each other and with one
process. Global batch sizes are the same in both runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganaug import distributed as dist
from ganaug.augment.sampling import DifficultyWeightedSampler, inverse_frequency_weights
from ganaug.classifier.trainer import predict, predict_logits, train_classifier
from ganaug.config import ClassifierConfig, GANConfig, SSLConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S
from ganaug.gan.trainer import train_gan
from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS
from ganaug.runtime import resolve_device
from ganaug.ssl import ALGORITHMS, Batch, SSLAlgorithm
from ganaug.ssl.trainer import train_ssl


class TinyGAN(SSLAlgorithm):
    """Free of BatchNorm and dropout, so that 2 processes must match 1 up to float sums; like semi-gan, G's loss
    uses only part of D (its features), which DDP allows only because ``phase`` puts D under ``no_sync``."""

    is_gan = True

    def build(self) -> None:
        s = dict(image_size=self.shape.image_size, channels=self.shape.channels)
        self.G = self.add("generator", GENERATORS, "mlp-gan", num_classes=0, z_dim=8, width=8, **s)
        self.D = self.add("discriminator", DISCRIMINATORS, "mlp-gan", num_classes=0, width=8, input_dropout=0.0,
                          dropout=0.0, **s)
        self.C = self.add("classifier", CLASSIFIERS, "simple-cnn", num_classes=self.shape.num_classes, width=4, **s)
        for role, net in (("generator", self.G), ("discriminator", self.D), ("classifier", self.C)):
            self.optimizers[role] = self.adam(net)

    def noise(self, n: int) -> torch.Tensor:
        return self.draw(lambda m: torch.randn(m, 8), n)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        with self.phase("discriminator"):
            fake = self.G(self.noise(len(batch.u))).detach()
            loss_d = F.softplus(-self.D(batch.u)["adv"]).mean() + F.softplus(self.D(fake)["adv"]).mean()
        self.update("discriminator", loss_d)
        with self.phase("generator"):
            f_fake = self.D(self.G(self.noise(len(batch.u))))["features"]
            loss_g = (self.D(batch.u)["features"].detach() - f_fake).pow(2).mean()  # a mean over images (exact)
        self.update("generator", loss_g)
        with self.phase("classifier"):
            logits = self.C(batch.x)
            loss = F.cross_entropy(logits, batch.y)
        self.update("classifier", loss)
        return {"loss": loss.item(), "loss_d": loss_d.item(), "loss_g": loss_g.item()}

    def classifier(self):
        return self.network("classifier")

    def generator(self):
        return self.network("generator")


if "dist-test-gan" not in ALGORITHMS:
    ALGORITHMS.register("dist-test-gan")(TinyGAN)


def main(out: Path) -> None:
    torch.set_num_threads(1)
    device = resolve_device("cpu")
    dist.setup(device)  # under torchrun: joins the gloo group
    tag = f"rank{dist.rank()}" if dist.is_distributed() else "single"
    data = load_dataset("digits")
    train, val = S.validation_split(data.train, 0.1, 0)
    imbalanced = S.reduce_classes(train, [0, 1], 0.2, 0)
    test = data.test
    tensors: dict[str, torch.Tensor] = {}
    histories: dict[str, list] = {}

    def keep(name: str, modules: dict, history: list, classifier=None) -> None:
        for role, module in modules.items():
            for key, value in module.state_dict().items():
                tensors[f"{name}.{role}.{key}"] = value.detach().float().clone()
        if classifier is not None:
            tensors[f"{name}.test_logits"] = predict_logits(classifier, test.images, device)
        histories[name] = history

    # Classifiers: BatchNorm-free (exact), with Gao's weighted sampler and class-weighted loss; then with BatchNorm.
    exact = ClassifierConfig(model="simple-cnn", width=8, epochs=3, batch_size=32, precision="fp32", channels_last=False)
    weights = inverse_frequency_weights(imbalanced.labels, 10)
    res = train_classifier(exact, imbalanced, 0, device, val=val, progress=False,
                           sampler=DifficultyWeightedSampler(imbalanced.labels, 10), class_weights=weights)
    keep("classifier", {"model": res.model}, res.history, res.model)
    bn = ClassifierConfig(model="small-cnn", width=8, epochs=3, batch_size=32, precision="fp32", channels_last=False)
    res = train_classifier(bn, imbalanced, 0, device, val=val, progress=False)
    keep("classifier_bn", {"model": res.model}, res.history, res.model)

    # Resumed under DDP: 1 epoch, then on to 3 from its checkpoint (compared with the uninterrupted run above).
    ckpt = out / "ckpt-classifier"
    sampler = DifficultyWeightedSampler(imbalanced.labels, 10)
    train_classifier(exact.model_copy(update={"epochs": 1}), imbalanced, 0, device, val=val, progress=False,
                     sampler=sampler, class_weights=weights, checkpoint_dir=ckpt)
    res = train_classifier(exact, imbalanced, 0, device, val=val, progress=False, sampler=sampler,
                           class_weights=weights, checkpoint_dir=ckpt)
    keep("classifier_resumed", {"model": res.model}, res.history)

    # GAN: MLP without dropout, conditional, class-balanced batches, DiffAugment, R1, EMA, ADA, LeCam, bCR (exact).
    gan = GANConfig(architecture="mlp-gan", g_width=8, d_width=8, z_dim=16, epochs=2, batch_size=32, precision="fp32",
                    discriminator_kwargs={"input_dropout": 0.0, "dropout": 0.0}, diffaugment=["color", "translation"],
                    r1_gamma=1.0, ema_decay=0.9, ada={"enabled": True, "kimg": 20}, lecam={"enabled": True},
                    bcr={"enabled": True})
    res = train_gan(gan, train, 0, device, progress=False)
    keep("gan", {"generator": res.generator, "discriminator": res.discriminator}, res.history)

    # Semi-supervised: the exact one above, then Hu, Zeng & Tian's triple-gan-attn and the supervised floor (BatchNorm,
    # dropout): these agree in metrics only. The floor also runs with checkpoints, straight and resumed.
    labeled, unlabeled = S.take_per_class(train, [6] * 10, seed=0)
    ssl = SSLConfig(steps=24, batch_size=16, unlabeled_batch_size=32, width=4, eval_every=12, checkpoint_every=12,
                    options={"triple-gan-attn": {"g_width": 16, "d_width": 16, "z_dim": 16}})
    for algorithm in ("dist-test-gan", "triple-gan-attn", "supervised"):
        res = train_ssl(ssl, algorithm, labeled, unlabeled, 0, device, val=val, checkpoint_dir=out / algorithm,
                        progress=False)
        keep(f"ssl_{algorithm}", {role: net for role, (net, _) in res.algorithm.networks.items()}, res.history,
             res.algorithm.classifier())
    train_ssl(ssl.model_copy(update={"steps": 12}), "supervised", labeled, unlabeled, 0, device, val=val,
              checkpoint_dir=out / "supervised-resumed", progress=False)
    res = train_ssl(ssl, "supervised", labeled, unlabeled, 0, device, val=val, checkpoint_dir=out / "supervised-resumed",
                    progress=False)
    keep("ssl_supervised_resumed", {role: net for role, (net, _) in res.algorithm.networks.items()}, res.history)
    tensors["test_predictions"] = predict(res.algorithm.classifier(), test.images, device)

    save_file(tensors, str(out / f"{tag}.safetensors"))
    (out / f"{tag}.json").write_text(json.dumps(histories))


def cli(argv: list[str]) -> None:
    """Each command as ``python -m ganaug.cli`` runs it; its ``main`` leaves the process group only after the last."""
    import ganaug.cli

    commands, current = [], []
    for arg in argv:
        if arg == "--next":
            commands.append(current)
            current = []
        else:
            current.append(arg)
    commands.append(current)
    leave, dist.shutdown = dist.shutdown, lambda: None
    try:
        for args in commands:
            if dist.is_main():  # the other ranks print nothing (main() sends their stdout to os.devnull)
                print(f"=== ganaug {args[0]}", flush=True)
            sys.argv = ["ganaug", *args]
            try:
                ganaug.cli.main()
            except SystemExit as exit:
                if exit.code:
                    raise
            sys.stdout.flush()
    finally:
        dist.shutdown = leave


if __name__ == "__main__":
    try:
        if sys.argv[1] == "cli":
            cli(sys.argv[2:])
        else:
            main(Path(sys.argv[1]))
    finally:
        dist.shutdown()
