"""The shared schemas: data, imbalance, GAN, classifier, and the strict base every config derives from.

Every default lives here, next to its meaning. Unknown keys and wrong types are errors that name the key. Names
that a registry owns (GAN losses, strategies, algorithms) are checked where a config is built, by
``ganaug.names.check_names``, so that this ground floor imports no registry.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Device = Literal["auto", "cpu", "cuda", "mps"]  # auto: CUDA, then MPS, then CPU
Precision = Literal["auto", "fp32", "bf16", "fp16"]  # autocast dtype of forward passes; weights and optimisers stay
# fp32; auto: bf16 where the device computes in it natively, else fp32 (ganaug.runtime.resolve_precision)


class RunOptions(Strict):
    """What every command's config holds besides its experiment: the seed, the device, progress bars."""

    seed: int = Field(0, ge=0)  # seed of splits, networks, samples and every random subset
    device: Device = "auto"
    progress: bool = True  # progress bars on the terminal


class DataConfig(Strict):
    dataset: str = "digits"  # digits | mnist | fashion-mnist | cifar10 | svhn | stl10 | folder:PATH
    data_dir: str | None = None  # None: $GANAUG_DATA_DIR, else ./data
    download: bool = True  # fetch missing files from the official URLs (checksummed)
    image_size: int | None = Field(None, ge=8, le=128)  # resize to this square size; None keeps the native size
    channels: Literal[1, 3] | None = None  # convert to gray (1) or RGB (3); None keeps the native channels
    val_fraction: float = Field(0.1, gt=0.0, lt=1.0)  # of each class of the training split, held out for validation


class ImbalanceConfig(Strict):
    """How the training split is made imbalanced (or kept as it is) before anything trains on it."""

    profile: Literal["auto", "natural", "none", "reduce", "long-tail", "counts"] = "auto"
    # auto: "natural" when the training split is already imbalanced (largest / smallest class >= 1.5), else
    #   "reduce" (classes 0, 1, 2 to 10 %) when it is balanced with >= 4 classes; balanced with 2-3 classes: the
    #   demo stops (nothing to rebalance; choose a cut) and augment keeps it whole ("none");
    # natural: keep the split as it is and target the classes smaller than the largest;
    # none: keep it as it is and target every class (augmentation of balanced data)
    classes: list[int] = [0, 1, 2]  # "reduce": the classes cut down, as Gao's CIFAR-10 study does
    fraction: float = Field(0.1, gt=0.0, le=1.0)  # "reduce": the share of those classes that is kept
    rho: float = Field(100.0, ge=1.0)  # "long-tail": largest / smallest class size
    counts: list[int] | None = None  # "counts": exact images per class

    @model_validator(mode="after")
    def _counts_given(self) -> "ImbalanceConfig":
        if self.profile == "counts" and not self.counts:
            raise ValueError("profile 'counts' needs imbalance.counts, one number per class")
        return self


class AdaConfig(Strict):
    """Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative Adversarial Networks with
    Limited Data"): each op of ``ops`` is applied to each image D sees (real and fake) with probability p, and p
    follows how sure D is on real images: every ``interval`` D steps, r = E[sign(D(real))] over those steps, and
    p moves by sign(r - target) * batch_size * interval / (kimg * 1000), kept in [0, 1]."""

    enabled: bool = False
    target: float = Field(0.6, gt=0.0, lt=1.0)  # the r that ADA holds D at (0.6 in the paper)
    interval: int = Field(4, ge=1)  # D steps between adjustments of p
    kimg: float = Field(100.0, gt=0.0)  # thousands of real images for p to move by 1 (the paper's 500 suits runs of
    # millions of images; 100 lets p move within the few hundred thousand images of a run here)
    ops: list[Literal["xflip", "rot90", "translation", "color", "cutout"]] = ["xflip", "rot90", "translation", "color"]
    # flips, 90-degree rotations, integer translation (1/8 of the size) and colour: the paper's "bgc" pipe without
    # its fractional geometry; cutout is DiffAugment's


class LeCamConfig(Strict):
    """LeCam regulariser (Tseng et al. 2021, "Regularizing Generative Adversarial Networks under Limited Data"):
    weight * (mean relu(D(real) - ema_fake)^2 + mean relu(ema_real - D(fake))^2) in D's loss, where ema_real and
    ema_fake are moving averages of D's mean raw outputs; it keeps D's outputs near their recent means."""

    enabled: bool = False
    weight: float = Field(0.3, gt=0.0)  # lambda (0.3 for BigGAN on CIFAR in the paper's code)
    decay: float = Field(0.99, gt=0.0, lt=1.0)  # of the two moving averages (bias-corrected: no warm-up)


class ConsistencyConfig(Strict):
    """Balanced consistency regularisation, bCR (Zhao et al. 2020, "Improved Consistency Regularization for GANs"):
    real * mean ||D(T(x)) - D(x)||^2 over real images + fake * the same over generated ones, in D's loss, with T a
    random horizontal flip and integer translation (1/8 of the size)."""

    enabled: bool = False
    real: float = Field(10.0, ge=0.0)  # lambda_real (10 in the paper)
    fake: float = Field(10.0, ge=0.0)  # lambda_fake (10 in the paper)


# What an architecture's paper trains with, applied by GANConfig to each key that no layer gives (YAML, flags,
# --set, --quick): a config that names the key keeps its value. The resolved config holds the values applied.
ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    # Brock et al. 2019: hinge loss, an EMA generator averaged from a later step (PyTorch-StudioGAN's CIFAR-10 BigGAN:
    # decay 0.9999 from step 1000; 0.999 here, as ganaug's runs are a few thousand steps), D half as wide as G.
    "biggan": {"loss": "hinge", "ema_decay": 0.999, "ema_start": 1000, "d_width": 64},
    # Karras et al. 2020: lazy R1 every 16 D steps (gamma 0.01: StyleGAN2-ADA's CIFAR-10), path length regularisation
    # (weight 2, every 4 G steps), an EMA generator. (StyleGAN2-ADA's CIFAR-10 config turns path length and style
    # mixing off; `--set gan.path_length=0 --set gan.generator_kwargs='{mixing_prob: 0}'` does the same here.)
    "stylegan2": {"r1_gamma": 0.01, "r1_every": 16, "path_length": 2.0, "ema_decay": 0.999},
    # Karras et al. 2018: WGAN-GP (lambda 10), Adam 1e-3 with betas (0, 0.99), an EMA generator (0.999).
    "progan": {"loss": "wasserstein", "gradient_penalty": 10.0, "lr_g": 1e-3, "lr_d": 1e-3, "betas": (0.0, 0.99),
               "ema_decay": 0.999},
}


class GANConfig(Strict):
    """A GAN and how it is trained. Some keys default per architecture (``ARCHITECTURE_DEFAULTS``, e.g. biggan:
    hinge loss and an EMA generator), unless given."""

    architecture: str = "cdcgan"  # name in the GENERATORS and DISCRIMINATORS registries (`ganaug models`)
    conditional: bool = True  # class-conditional generator and discriminator
    generator_kwargs: dict[str, Any] = {}  # extra architecture options, passed to the generator's factory
    discriminator_kwargs: dict[str, Any] = {}  # e.g. {spectral_norm: true}, passed to the discriminator's factory
    z_dim: int = Field(100, ge=1)  # noise dimension
    g_width: int = Field(128, ge=8)  # channels of the generator's first (widest) layer, halved per upsampling (min 16)
    d_width: int = Field(128, ge=8)  # channels of the discriminator's last (widest) layer, halved towards the input
    loss: str = "non-saturating"  # minimax | non-saturating | hinge | least-squares | wasserstein (GAN_LOSSES,
    # checked by ganaug.names.check_names where the config is built)
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5)  # one-sided: D's target for real images is 1 - this
    gradient_penalty: float = Field(0.0, ge=0.0)  # WGAN-GP weight lambda (10 in Gulrajani et al.); 0 = off
    weight_clip: float | None = Field(None, gt=0.0)  # WGAN's critic weight clipping (Arjovsky et al. 2017, "Wasserstein
    # GAN"): after every D step each D parameter is clamped to [-c, c] (0.01 in the paper); wasserstein loss only
    r1_gamma: float = Field(0.0, ge=0.0)  # R1 penalty weight gamma on real images (Mescheder et al.); 0 = off
    r1_every: int = Field(1, ge=1)  # lazy R1 (StyleGAN2): every k-th D step only, weighted by k; 1 = every step
    path_length: float = Field(0.0, ge=0.0)  # StyleGAN2's path length regularisation weight (2); 0 = off; needs a
    # generator with mapping_ws/synthesis (stylegan2)
    path_length_every: int = Field(4, ge=1)  # lazy: every k-th G step, on half the batch, weighted by k
    feature_matching: float = Field(0.0, ge=0.0)  # weight of the feature-matching term in G's loss; 0 = off
    aux_class_weight: float = Field(1.0, ge=0.0)  # weight of the class loss when D has a "cls" head (acgan)
    d_steps: int = Field(1, ge=1)  # discriminator steps per generator step (n_D:n_G, with g_steps)
    g_steps: int = Field(1, ge=1)  # generator steps after every d_steps discriminator steps
    ema_decay: float | None = Field(None, gt=0.0, lt=1.0)  # EMA of generator weights, e.g. 0.999; None = off
    ema_start: int = Field(0, ge=0)  # generator updates before the EMA starts averaging (until then it copies G)
    diffaugment: list[Literal["color", "translation", "cutout"]] = []  # DiffAugment ops on every D input
    ada: AdaConfig = AdaConfig()  # adaptive augmentation of every D input (after it, DiffAugment's ops if any)
    lecam: LeCamConfig = LeCamConfig()  # LeCam regulariser of D
    bcr: ConsistencyConfig = ConsistencyConfig()  # consistency regulariser of D
    snapshot_epochs: list[int] = []  # also keep the generator of these epochs (the DCGAN study compares 50 and 100)
    steps: int = Field(4500, ge=1)  # training length in generator updates (digits: 300 epochs; MNIST: 5)
    epochs: int | None = Field(None, ge=1)  # if set, the training length in epochs instead of steps
    time_budget_s: float | None = Field(None, gt=0)  # stop after the generator update in which the training time
    # (all calls of a resumed run together; under torchrun checked per epoch) reaches this many seconds, whatever
    # steps/epochs say: equal wall-clock comparisons of architectures (the number of steps then depends on the
    # machine; the history records it)
    batch_size: int = Field(64, ge=2)
    sampling: Literal["class-balanced", "uniform"] = "class-balanced"  # how real batches are drawn (see runtime.py)
    lr_g: float = Field(2e-4, gt=0)  # Adam learning rates, DCGAN's 2e-4
    lr_d: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)  # DCGAN's Adam betas
    checkpoint_every: int = Field(10, ge=1)  # epochs between checkpoints (the last epoch is always saved)
    collapse_samples: int = Field(16, ge=2)  # per class: fixed-noise samples (and as many real images) of the
    # collapse monitor, which logs the relative within-class diversity at every checkpoint epoch (gan/monitor.py)
    collapse_warning: float = Field(0.3, ge=0.0, le=1.0)  # warn in the log when a class's generated images are less
    # diverse than this share of its real images' diversity (mean pairwise distance in D's features); 0 = no warning
    precision: Precision = "auto"  # autocast of G and D: bf16 (2.2x on an AMX CPU, docs/benchmarks.md) where native
    channels_last: bool = True  # NHWC memory layout for convolutions (pairs with bf16 on CPU)

    @model_validator(mode="before")
    @classmethod
    def _architecture_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("architecture") in ARCHITECTURE_DEFAULTS:
            return {**ARCHITECTURE_DEFAULTS[data["architecture"]], **data}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> "GANConfig":
        if self.loss == "wasserstein" and self.gradient_penalty == 0 and self.weight_clip is None:
            raise ValueError("loss 'wasserstein' needs a Lipschitz constraint: gan.gradient_penalty > 0 (10 in "
                             "Gulrajani et al. 2017) or gan.weight_clip (0.01 in Arjovsky et al. 2017)")
        if self.weight_clip is not None and self.loss != "wasserstein":
            raise ValueError(f"gan.weight_clip={self.weight_clip:g} clips the critic of the Wasserstein loss; "
                             f"set gan.loss to 'wasserstein' (it is {self.loss!r}) or remove gan.weight_clip")
        if self.label_smoothing and self.loss not in ("minimax", "non-saturating", "least-squares"):
            raise ValueError(f"gan.label_smoothing needs a loss with a real target, not {self.loss!r}")
        return self


class ClassifierConfig(Strict):
    model: str = "small-cnn"  # name in the CLASSIFIERS registry
    width: int | None = Field(None, ge=4)  # first layer's channels (mlp: units), rest scaled alike; None: model's own
    input_size: int | None = Field(None, ge=8)  # resize inputs to this square size first (papers: 224); None: native
    steps: int = Field(600, ge=1)  # training length in optimizer updates (digits: about 30 epochs)
    epochs: int | None = Field(None, ge=1)  # if set, the training length in epochs instead of steps
    batch_size: int = Field(64, ge=2)
    optimizer: Literal["adam", "sgd"] = "adam"  # sgd: SGD with `momentum` (compared in the GAN overview's Table 1)
    lr: float = Field(1e-3, gt=0)  # the optimizer's learning rate
    lr_schedule: Literal["constant", "cosine"] = "constant"  # cosine: from lr down to 0 over the training, per update
    momentum: float = Field(0.0, ge=0, lt=1)  # SGD only (0: Keras' default SGD, as in the GAN overview)
    weight_decay: float = Field(0.0, ge=0)
    repeats: int = Field(3, ge=1)  # independent seeds per training set, for mean +- std and paired intervals
    checkpoint_every: int = Field(10, ge=1)  # epochs between checkpoints (the last epoch is always saved)
    precision: Precision = "auto"  # autocast of the forward passes (fp16: GPU only, with loss scaling); bf16 with
    # channels_last: 2.6x fp32 at 28x28, 3.7x at 32x32x3, 1.1x at 8x8 on an Intel AMX CPU (docs/benchmarks.md)
    channels_last: bool = True  # NHWC memory layout of the network and its input batches (pairs with bf16)
