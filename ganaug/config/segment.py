"""``ganaug segment``: does a mask-conditioned GAN's image-mask pairs help a segmenter trained on few images?"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ganaug.config.core import RunOptions, Strict

ARMS = ("baseline", "classic", "gan", "gan+classic")


class Pix2PixConfig(Strict):
    """pix2pix (Isola et al. 2017) from masks to images: U-Net generator, PatchGAN on (mask, image), LSGAN + L1."""

    width: int = Field(16, ge=4)  # the generator's first layer (the paper: 64)
    d_width: int = Field(16, ge=4)  # the PatchGAN's first layer (the paper: 64)
    steps: int = Field(600, ge=1)
    batch_size: int = Field(4, ge=1)
    lr: float = Field(2e-4, gt=0)
    l1_weight: float = Field(100.0, ge=0)  # lambda of the L1 term (the paper: 100)


class SegmentConfig(RunOptions):
    """Arms x folds x repeats: each arm trains the same segmenter on the same training folds, paired by fold and seed."""

    dataset: str = "segfolder:../shared/datasets/isbi2012-membrane"  # segfolder:PATH (images/, masks/)
    image_size: int = Field(256, ge=32, le=1024)  # images and masks resized to this (ISBI: 512 native)
    channels: Literal[1, 3] | None = None  # None: as the images are
    segmenter: str = "unet"  # unet | mobilenet-unet
    width: int = Field(16, ge=4)  # the segmenter's first layer (U-Net: 64)
    crop: int = Field(128, ge=16)  # training crops (random, with the mask); evaluation on whole images
    steps: int = Field(800, ge=1)  # segmenter updates per arm and fold
    batch_size: int = Field(8, ge=1)
    lr: float = Field(1e-3, gt=0)
    folds: int = Field(5, ge=2)  # contiguous folds over the images (neighbouring slices stay together)
    repeats: int = Field(1, ge=1)  # seeds per fold; the paired unit is (fold, seed)
    arms: list[Literal["baseline", "classic", "gan", "gan+classic"]] = list(ARMS)
    synthetic_per_image: int = Field(2, ge=1)  # synthetic pairs per real training pair in the gan arms
    elastic_alpha: float = Field(8.0, ge=0)  # elastic deformation strength in pixels (classic and synthetic masks)
    elastic_sigma: float = Field(8.0, gt=0)  # its smoothness (Gaussian sigma, pixels)
    pix2pix: Pix2PixConfig = Pix2PixConfig()
    quick: bool = False
    out: str = "runs/segment"

    @model_validator(mode="after")
    def _coherent(self) -> "SegmentConfig":
        if not self.dataset.startswith("segfolder:"):
            raise ValueError(f"dataset: {self.dataset!r}; expected segfolder:PATH (a folder with images/ and masks/)")
        if self.crop > self.image_size:
            raise ValueError(f"crop: {self.crop} is larger than image_size {self.image_size}")
        if "baseline" not in self.arms:
            raise ValueError(f"arms: {self.arms} lack 'baseline', which every arm is compared with")
        return self
