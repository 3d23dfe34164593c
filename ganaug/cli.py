"""The ``ganaug`` command line: experiment-level options plus ``--set key=value`` for everything else.

A thin layer: each command turns its flags into a config layer, builds and checks the config (YAML < flags <
``--set``), and calls one experiment function. The options every experiment shares are declared once, in
``ganaug.cli_options``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ganaug import distributed
from ganaug.cli_errors import OneLineErrors
from ganaug.cli_options import (ConfigFile, Dataset, DataDir, Device, DryRun, NoProgress, Out, Quick, Raw, Scale,
                                Seed, Set, Synthetic, TensorBoard, registry_names, command_line, configure, echo,
                                flag_layer, join_processes, quick_overrides, shared_flags, single_process, split_list)
from ganaug.config import ConfigError, parse_overrides

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False,
                  cls=OneLineErrors)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="show the traceback of an error"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch threads (default: the free cores; "
                                                                        "env GANAUG_THREADS)"),
) -> None:
    """ganaug: train GANs on your training data, mix their images into classifier training, measure whether it helped."""
    from ganaug import threads as torch_threads

    if threads is not None:
        os.environ["GANAUG_THREADS"] = str(threads)
    torch_threads.start()


@app.command()
def demo(dataset: Dataset = None, data_dir: DataDir = None, out: Out = None, seed: Seed = None,
         epochs: Annotated[Optional[int], typer.Option(help="GAN training epochs (default: about 4,500 generator "
                                                            "steps)")] = None,
         synthetic: Synthetic = None, quick: Quick = False, device: Device = None, config: ConfigFile = None,
         set_: Set = [], tensorboard: TensorBoard = False, no_progress: NoProgress = False) -> None:
    """The main job: imbalance a dataset, rebalance it with a conditional GAN, and report whether it helped."""
    from ganaug.config import DemoConfig
    from ganaug.experiments.demo import run_demo

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress, tensorboard), "gan.epochs": epochs,
             "synthetic": synthetic}
    cfg = configure(DemoConfig, config, flags, set_, under=quick_overrides() if quick else None)
    join_processes(cfg)
    echo(f"report: {run_demo(cfg, command=command_line())}")


@app.command()
def augment(
    dataset: Dataset = None, data_dir: DataDir = None,
    strategy: Annotated[list[str], typer.Option(help="repeatable or comma list; default exp1. Any of these, or a "
                                                     "combination joined by + (e.g. exp1+logit-adjusted): "
                                                     + registry_names("strategies"))] = [],
    ratio: Annotated[list[str], typer.Option(help="GAN ratio(s) in [0, 1]: the share of a target class's training "
                                                  "images that are synthetic; repeatable or comma list (default 0.5)"
                                             )] = [],
    classifier: Annotated[list[str], typer.Option(help="classifier(s), repeatable or comma list; one of: "
                                                       + registry_names("classifiers"))] = [],
    repeats: Annotated[Optional[int], typer.Option(help="seeds per arm, paired across arms (default 3)")] = None,
    generator: Annotated[Optional[Path], typer.Option(help="reuse this GAN checkpoint (checked against the data) "
                                                           "instead of training one")] = None,
    synthetic: Synthetic = None, seed: Seed = None, out: Out = None, quick: Quick = False, scale: Scale = None, device: Device = None,
    config: ConfigFile = None, set_: Set = [], dry_run: DryRun = False, tensorboard: TensorBoard = False,
    no_progress: NoProgress = False,
) -> None:
    """Augmentation studies (Gao's GAN-based augmentation study and its follow-up): GAN images, classic
    augmentation, weighted sampling, against the baselines."""
    from ganaug.config import build_augment_config
    from ganaug.experiments.augment import dry_run as plan_only, run_augment

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress, tensorboard),
             "strategies": split_list(strategy), "ratios": split_list(ratio, float, "--ratio"),
             "classifiers": split_list(classifier), "classifier.repeats": repeats, "generator": generator,
             "synthetic": synthetic}
    quick_layer = {"gan": {"steps": 600}, "classifier": {"steps": 150}, "audit_samples": 200, "quick": True,
                   "cyclegan": {"steps": 150, "width": 8, "blocks": 2, "d_width": 8, "log_every": 50}}
    cfg = configure(build_augment_config, config, flags, set_, scale=scale, under=quick_layer if quick else None)
    if cfg.scale:
        echo(f"scale {cfg.scale}: {cfg.scale_note or '(no note in the config)'}")
    if dry_run:
        echo(plan_only(cfg))
        return
    join_processes(cfg)
    echo(f"report: {run_augment(cfg, command=command_line())}")


@app.command()
def translate(
    from_: Annotated[Optional[str], typer.Option("--from", help="source domain: a class (index or name) or folder:PATH")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="target domain: a class (index or name) or folder:PATH")] = None,
    dataset: Dataset = None, data_dir: DataDir = None, out: Out = None, seed: Seed = None, quick: Quick = False,
    device: Device = None, config: ConfigFile = None, set_: Set = [], no_progress: NoProgress = False,
) -> None:
    """Train a CycleGAN between two classes (or folders) and translate every source image into the target domain."""
    from ganaug.config import TranslateConfig
    from ganaug.experiments.translate import run_translate

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress), "source": from_, "target": to}
    quick_layer = {"cyclegan": {"steps": 200, "width": 8, "blocks": 2, "d_width": 8, "log_every": 20}, "quick": True}
    cfg = configure(TranslateConfig, config, flags, set_, under=quick_layer if quick else None)
    single_process("translate")
    echo(f"report: {run_translate(cfg, command=command_line())}")


@app.command()
def segment(
    dataset: Annotated[Optional[str], typer.Option(help="segfolder:PATH (images/ and masks/ with matching names)")] = None,
    out: Out = None, seed: Seed = None, quick: Quick = False, scale: Scale = None, device: Device = None,
    config: ConfigFile = None, set_: Set = [], no_progress: NoProgress = False,
) -> None:
    """Segmentation with few images: do pix2pix's image-mask pairs help a U-Net, over k folds, against classic aug?"""
    from ganaug.config import SegmentConfig
    from ganaug.experiments.segment import run_segment

    flags = {**shared_flags(None, None, out, seed, device, no_progress), "dataset": dataset}
    quick_layer = {"image_size": 64, "crop": 64, "steps": 30, "batch_size": 4, "folds": 2, "width": 8, "quick": True,
                   "pix2pix": {"steps": 20, "width": 8, "d_width": 8}, "synthetic_per_image": 1}
    cfg = configure(SegmentConfig, config, flags, set_, scale=scale, under=quick_layer if quick else None)
    single_process("segment")
    echo(f"report: {run_segment(cfg, command=command_line())}")


@app.command("train-gan")
def train_gan_command(
    dataset: Dataset = None, data_dir: DataDir = None, out: Out = None,
    architecture: Annotated[Optional[str], typer.Option(help="the GAN (default cdcgan), one of: "
                                                             + registry_names("gans"))] = None,
    steps: Annotated[Optional[int], typer.Option(help="generator updates (default 4,500)")] = None,
    seed: Seed = None, quick: Quick = False, device: Device = None, config: ConfigFile = None, set_: Set = [],
    tensorboard: TensorBoard = False, no_progress: NoProgress = False,
) -> None:
    """Train a GAN on a training split; resumes from its last checkpoint; prints the checkpoint's path."""
    from ganaug.config import TrainGANConfig
    from ganaug.experiments.train_gan import run_train_gan

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress, tensorboard),
             "gan.architecture": architecture, "gan.steps": steps}
    cfg = configure(TrainGANConfig, config, flags, set_, under={"gan": {"steps": 200}} if quick else None)
    join_processes(cfg)
    echo(f"checkpoint: {run_train_gan(cfg)}")


@app.command()
def ssl(
    algorithm: Annotated[list[str], typer.Option(help="repeatable; default triple-gan-attn. One of: "
                                                      + registry_names("algorithms"))] = [],
    dataset: Dataset = None, data_dir: DataDir = None,
    labeled: Annotated[list[float], typer.Option(help="a fraction of every class (<= 1, e.g. 0.1) or a total number "
                                                      "of labels split equally over the classes (> 1, e.g. 100); "
                                                      "repeatable")] = [],
    repeats: Annotated[Optional[int], typer.Option(help="seeds per setting (default 5)")] = None,
    steps: Annotated[Optional[int], typer.Option(help="training iterations (default 3,000)")] = None,
    seed: Seed = None, out: Out = None, quick: Quick = False, scale: Scale = None, device: Device = None,
    config: ConfigFile = None, set_: Set = [], tensorboard: TensorBoard = False, no_progress: NoProgress = False,
) -> None:
    """Semi-supervised classification: the triple-GAN with attention and its baselines on the same labelled splits."""
    from ganaug.config import SSLConfig
    from ganaug.experiments.ssl import run_ssl

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress, tensorboard),
             "algorithms": algorithm or None, "labeled": labeled or None, "repeats": repeats, "steps": steps}
    quick_layer = {"steps": 300, "eval_every": 100, "generated_per_class": 20, "judge": {"steps": 300},
                   "options": {"triple-gan-attn": {"g_width": 64, "d_width": 128}, "fixmatch": {"mu": 1},
                               "freematch": {"mu": 1}}, "quick": True}
    cfg = configure(SSLConfig, config, flags, set_, scale=scale, under=quick_layer if quick else None)
    join_processes(cfg)
    echo(f"report: {run_ssl(cfg, command=command_line())}")


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="a grid file (see configs/smoke-grid.yaml)")],
    out: Annotated[Optional[Path], typer.Option(help="run folder (default: the file's `out`)")] = None,
    executor: Annotated[Optional[str], typer.Option(help="local (default) or ray")] = None,
    workers: Annotated[Optional[int], typer.Option(help="local: cells at once, each in its own process")] = None,
    address: Annotated[Optional[str], typer.Option(help="ray: a cluster's address (default: start a local Ray)")] = None,
    device: Device = None, dry_run: DryRun = False,
    set_: Annotated[list[str], typer.Option("--set", help="override a grid key, e.g. --set config.steps=100 "
                                                          "--set repeats=3")] = [],
) -> None:
    """Run a grid of experiments (axes x repeats) as resumable cells; re-running skips finished cells."""
    from ganaug.runner import expand, load_grid, run_grid
    from ganaug.runner.grid import check_cells

    flags = flag_layer({"out": out, "executor": executor, "workers": workers, "address": address,
                        "config.device": device})  # --device: every cell's device
    grid = load_grid(config, flags, parse_overrides(set_))
    if dry_run:
        cells = expand(grid, Path(grid.out))
        check_cells(grid, cells)
        echo("\n".join(f"{c['id']}  seed {c['seed']}" for c in cells) + f"\n{len(cells)} cells, all valid")
        return
    folder = run_grid(grid, command_line(), log=echo)
    echo(f"results: ganaug results {folder}")


@app.command()
def results(
    run_dir: Path = typer.Argument(..., help="the run folder of `ganaug run`"),
    json_: bool = typer.Option(False, "--json", help="print the aggregated table as JSON"),
    baseline: list[str] = typer.Option([], help="compare with this group, e.g. --baseline algorithms=supervised "
                                                "(default: the grid's `baseline`)"),
    metric: list[str] = typer.Option([], help="metrics to show (repeatable; default: the grid's, else all)"),
    wide: bool = typer.Option(False, "--wide", help="every metric column, however wide (default: fit 100 columns)"),
) -> None:
    """The aggregated results of a grid: mean ± std over repeats, and paired differences to the baseline (95 % CI)."""
    import json

    import yaml

    from ganaug.report.grid import results_table
    from ganaug.runner import load_results

    pairs = [item.split("=", 1) for item in baseline]
    if any(len(p) != 2 for p in pairs):
        raise ConfigError(f"--baseline expects axis=value (or arm=NAME), got {baseline}")
    data = load_results(run_dir, {k: yaml.safe_load(v) for k, v in pairs} or None, metric or None)
    if json_:
        echo(json.dumps(data, indent=1))
    else:
        results_table(data, wide=wide)


@app.command()
def models() -> None:
    """List every registered generator, discriminator, classifier, GAN loss, augmentation strategy and semi-supervised
    algorithm by name."""
    from ganaug.augment import STRATEGIES
    from ganaug.gan.losses import GAN_LOSSES
    from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS, TRANSLATORS
    from ganaug.ssl import ALGORITHMS

    for title, registry in (("generators", GENERATORS), ("discriminators", DISCRIMINATORS),
                            ("image translation (ganaug translate)", TRANSLATORS),
                            ("classifiers", CLASSIFIERS), ("GAN losses", GAN_LOSSES),
                            ("augmentation strategies (combine with +)", STRATEGIES),
                            ("semi-supervised algorithms", ALGORITHMS)):
        echo(f"{title}: {', '.join(registry.names())}")


@app.command()
def generate(
    checkpoint: Annotated[Path, typer.Option(help="a GAN checkpoint, e.g. runs/demo/checkpoints/gan/last")],
    out: Annotated[Path, typer.Option(help="a folder (ImageFolder layout of PNGs) or a file ending in .npz")],
    per_class: Annotated[Optional[int], typer.Option(help="images of every class")] = None,
    class_: Annotated[Optional[str], typer.Option("--class", help="one class, by index or name (with --n)")] = None,
    n: Annotated[Optional[int], typer.Option(help="number of images of --class (or in total, unconditional)")] = None,
    seed: Annotated[int, typer.Option(help="the same seed gives the same images")] = 0,
    truncation: Annotated[float, typer.Option(help="truncation psi (< 1: less diverse, more typical; style-lite "
                                                   "and biggan)")] = 1.0,
    raw: Raw = False,
) -> None:
    """Generate images from a trained GAN, per class, as PNG folders or one .npz; deterministic for a seed."""
    single_process("generate")
    from ganaug.experiments.generate import generate_images

    count = generate_images(checkpoint, out, per_class, class_, n, seed, truncation, use_ema=not raw)
    echo(f"wrote {count} images to {out}")


@app.command("evaluate-gan")
def evaluate_gan_command(
    checkpoint: Annotated[Optional[Path], typer.Option(help="a GAN checkpoint, e.g. runs/gan/checkpoints/gan/last")
                          ] = None,
    images: Annotated[Optional[Path], typer.Option(help="or images made by any model (folder <class>/*.png or "
                                                        ".npz), evaluated as a GAN's samples")] = None,
    dataset: Dataset = None, data_dir: DataDir = None, out: Out = None,
    per_class: Annotated[Optional[int], typer.Option(help="generated images per class (default 100)")] = None,
    seed: Seed = None,
    inception_weights: Annotated[Optional[Path], typer.Option(help="FID Inception-v3 weights file; adds Inception "
                                                                   "metrics")] = None,
    truncation: Annotated[Optional[float], typer.Option(help="truncation psi (< 1: less diverse; style-lite "
                                                             "and biggan)")] = None,
    raw: Raw = False, device: Device = None, config: ConfigFile = None, set_: Set = [],
    no_progress: NoProgress = False,
) -> None:
    """Evaluate a trained GAN (or any model's images): FID/KID/IS/PRDC on classifier (and optionally Inception)
    features, class consistency, CAS, mode collapse and a memorisation audit, in one report with per-class grids."""
    single_process("evaluate-gan")
    from ganaug.config import EvaluateGANConfig
    from ganaug.experiments.evaluate_gan import evaluate_gan

    flags = {**shared_flags(dataset, data_dir, out, seed, device, no_progress, data_key=""), "checkpoint": checkpoint,
             "images": images, "samples_per_class": per_class, "inception_weights": inception_weights, "truncation_psi": truncation,
             "use_ema": False if raw else None}
    cfg = configure(EvaluateGANConfig, config, flags, set_)
    echo(f"report: {evaluate_gan(cfg)}")


def main() -> None:
    try:
        app()
    finally:
        distributed.shutdown()


if __name__ == "__main__":
    main()
