"""``ganaug translate``: CycleGAN between two classes (or folders) of a dataset."""

from __future__ import annotations

from pydantic import Field, model_validator

from ganaug.config.core import DataConfig, RunOptions, Strict


class CycleGANConfig(Strict):
    """CycleGAN's training (Zhu et al. 2017): least-squares GAN loss, cycle and identity L1 losses, Adam 2e-4 (0.5,
    0.999) constant for the first half of the steps and decayed linearly to 0 over the second, a 50-image history."""

    # CPU scale by default (28 px: about 0.6 s a step on one core, 2026 EPYC); the paper's: width 64, blocks 9,
    # d_width 64, batch 1, 200 epochs
    width: int = Field(16, ge=4)  # the generator's first layer (the paper: 64)
    blocks: int = Field(3, ge=0)  # residual blocks (the paper: 6 at 128 px, 9 at 256 px)
    d_width: int = Field(16, ge=4)  # the PatchGAN's first layer (the paper: 64)
    steps: int = Field(1500, ge=1)  # updates of both generators (and both discriminators)
    batch_size: int = Field(4, ge=1)  # images of each domain per step (the paper: 1)
    lr: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    cycle_weight: float = Field(10.0, ge=0)  # lambda of the cycle loss
    identity_weight: float = Field(0.5, ge=0)  # the identity loss's weight, a fraction of lambda (the paper: 0.5)
    pool_size: int = Field(50, ge=0)  # generated images kept to show the discriminators (0: only the newest)
    log_every: int = Field(100, ge=1)  # steps between history rows (the losses' means)
    checkpoint_every: int = Field(500, ge=1)  # steps between checkpoints (an interrupted run resumes there)


class TranslateConfig(RunOptions):
    """Train a CycleGAN between the training images of two classes and translate every ``source`` image."""

    data: DataConfig = DataConfig()
    source: str | None = None  # --from: a class (index or name) of the dataset, or folder:PATH of images
    target: str | None = None  # --to: the same
    cyclegan: CycleGANConfig = CycleGANConfig()
    grid_size: int = Field(8, ge=1)  # source | translated | reconstructed images shown in the report
    quick: bool = False  # set by --quick: a smoke run, whose report says that it is not a measurement
    out: str = "runs/translate"

    @model_validator(mode="after")
    def _two_domains(self) -> "TranslateConfig":
        if self.source is None or self.target is None:
            raise ValueError("give both --from and --to (a class of the dataset by index or name, or folder:PATH)")
        if self.source == self.target:
            raise ValueError(f"--from and --to are the same ({self.source!r}): translate between two different domains")
        return self
