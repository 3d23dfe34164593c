"""The ``ganaug`` command line. Experiment-level options plus ``--set key=value`` for everything else."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from ganaug import distributed
from ganaug.cli_errors import OneLineErrors
from ganaug.config import ConfigError, DemoConfig, build_config, nest, parse_overrides


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


def flag_layer(values: dict[str, Any]) -> dict[str, Any]:
    """CLI flags as a config layer: ``{"data.dataset": "mnist", "seed": None}`` -> ``{"data": {"dataset": "mnist"}}``.

    None means "not given", so the YAML file or the default decides.
    """
    return nest({key: value for key, value in values.items() if value is not None})


def check_names(cfg: Any) -> None:
    """The config's registry names (loss, strategies, algorithms), checked before anything is written."""
    from ganaug.names import check_names as check  # loads the registries (and torch) only when a command runs

    check(cfg)


def join_processes(cfg: Any) -> None:
    """Under torchrun, join the process group on this rank's device (explicitly, before the experiment runs)."""
    from ganaug.runtime import resolve_device

    distributed.setup(resolve_device(cfg.device))


def echo(line: str) -> None:
    """A result on stdout (``report: PATH``), from rank 0 only: under torchrun every rank runs the command."""
    if distributed.is_main():
        typer.echo(line)


def quick_overrides() -> dict:
    """``--quick``: a short run that still goes through every step (for smoke tests and a first look)."""
    return {"gan": {"steps": 600}, "classifier": {"steps": 150, "repeats": 2}, "judge_samples_per_class": 20,
            "quick": True}


@app.command()
def demo(
    dataset: Optional[str] = typer.Option(None, help="digits (default), mnist, fashion-mnist, cifar10, svhn, stl10, folder:PATH"),
    data_dir: Optional[Path] = typer.Option(None, help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)"),
    out: Optional[Path] = typer.Option(None, help="run folder (default runs/demo)"),
    seed: Optional[int] = typer.Option(None, help="seed of splits, GAN and classifiers (default 0)"),
    epochs: Optional[int] = typer.Option(None, help="GAN training epochs (default: about 4,500 generator steps)"),
    quick: bool = typer.Option(False, "--quick", help="a short run through every step"),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda or mps (default auto)"),
    config: Optional[Path] = typer.Option(None, help="YAML file with any DemoConfig keys"),
    set_: list[str] = typer.Option([], "--set", help="override any config key, e.g. --set classifier.repeats=5"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard event files to OUT/tensorboard"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """The main job: imbalance a dataset, rebalance it with a conditional GAN, and report whether it helped."""
    from ganaug.experiments.demo import run_demo

    flags = flag_layer({"data.dataset": dataset, "data.data_dir": data_dir, "gan.epochs": epochs, "out": out,
                        "seed": seed, "device": device, "progress": False if no_progress else None,
                        "tensorboard": tensorboard or None})
    cfg = build_config(DemoConfig, config, flags, parse_overrides(set_), under=quick_overrides() if quick else None)
    check_names(cfg)
    join_processes(cfg)
    report = run_demo(cfg, command=shlex.join(["ganaug", *sys.argv[1:]]))
    echo(f"report: {report}")


def _strategy_help() -> str:
    from ganaug.augment import STRATEGIES

    return ", ".join(STRATEGIES.names())


def split_list(values: list[str], cast: type = str, flag: str = "") -> list | None:
    """Repeatable options that also take comma lists: ``--ratio 0.2,0.5 --ratio 1`` -> [0.2, 0.5, 1.0]."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    try:
        return [cast(v) for v in items] or None
    except ValueError:
        raise ConfigError(f"{flag} {','.join(items)}: expected {cast.__name__} values, e.g. {flag} 0.2,0.5") from None


@app.command()
def augment(
    dataset: Optional[str] = typer.Option(None, help="digits (default), mnist, fashion-mnist, cifar10, svhn, stl10, folder:PATH"),
    data_dir: Optional[Path] = typer.Option(None, help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)"),
    strategy: list[str] = typer.Option([], help="repeatable or comma list; default exp1. One of: " + _strategy_help()),
    ratio: list[str] = typer.Option([], help="002's GAN ratio(s) in [0, 1]: share of a target class's training images "
                                             "that are synthetic; repeatable or comma list (default 0.5)"),
    classifier: list[str] = typer.Option([], help="classifier(s) by name (`ganaug models`); repeatable or comma list"),
    repeats: Optional[int] = typer.Option(None, help="seeds per arm, paired across arms (default 3)"),
    generator: Optional[Path] = typer.Option(None, help="reuse this GAN checkpoint (checked against the data) "
                                                        "instead of training one"),
    seed: Optional[int] = typer.Option(None, help="seed of splits, GAN and classifiers (default 0)"),
    out: Optional[Path] = typer.Option(None, help="run folder (default runs/augment)"),
    quick: bool = typer.Option(False, "--quick", help="a short run through every step"),
    scale: Optional[str] = typer.Option(None, help="a named scale of the config file's `scales:` (cpu, paper)"),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda or mps (default auto)"),
    config: Optional[Path] = typer.Option(None, help="YAML file with any AugmentConfig keys, e.g. configs/augment-002.yaml"),
    set_: list[str] = typer.Option([], "--set", help="override any config key, e.g. --set mixing=balance"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check everything and print what would train, then stop"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard event files to OUT/tensorboard"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Augmentation studies (002, 003): GAN images, classic augmentation, weighted sampling, against the baselines."""
    from ganaug.config import build_augment_config
    from ganaug.experiments.augment import dry_run as plan_only, run_augment

    flags = flag_layer({
        "data.dataset": dataset, "data.data_dir": data_dir, "strategies": split_list(strategy),
        "ratios": split_list(ratio, float, "--ratio"), "classifiers": split_list(classifier),
        "classifier.repeats": repeats, "generator": generator, "seed": seed, "out": out, "device": device,
        "progress": False if no_progress else None, "tensorboard": tensorboard or None,
    })
    quick_layer = {"gan": {"steps": 600}, "classifier": {"steps": 150}, "audit_samples": 200, "quick": True}
    cfg = build_augment_config(config, flags, parse_overrides(set_), scale=scale, under=quick_layer if quick else None)
    check_names(cfg)
    if cfg.scale:
        echo(f"scale {cfg.scale}: {cfg.scale_note or '(no note in the config)'}")
    if dry_run:
        echo(plan_only(cfg))
        return
    join_processes(cfg)
    echo(f"report: {run_augment(cfg, command=shlex.join(['ganaug', *sys.argv[1:]]))}")


@app.command("train-gan")
def train_gan_command(
    dataset: Optional[str] = typer.Option(None, help="digits (default), mnist, fashion-mnist, cifar10, svhn, stl10, folder:PATH"),
    data_dir: Optional[Path] = typer.Option(None, help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)"),
    out: Optional[Path] = typer.Option(None, help="run folder (default runs/gan)"),
    architecture: Optional[str] = typer.Option(None, help="a registered GAN (see `ganaug models`; default cdcgan)"),
    steps: Optional[int] = typer.Option(None, help="generator updates (default 4,500)"),
    seed: Optional[int] = typer.Option(None, help="seed (default 0)"),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda or mps"),
    config: Optional[Path] = typer.Option(None, help="YAML file with any TrainGANConfig keys"),
    set_: list[str] = typer.Option([], "--set", help="override any config key, e.g. --set gan.loss=hinge"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard event files to OUT/tensorboard"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Train a GAN on a training split; resumes from its last checkpoint; prints the checkpoint's path."""
    from ganaug.config import TrainGANConfig
    from ganaug.experiments.train_gan import run_train_gan

    flags = flag_layer({"data.dataset": dataset, "data.data_dir": data_dir, "gan.architecture": architecture,
                        "gan.steps": steps, "out": out, "seed": seed, "device": device,
                        "progress": False if no_progress else None, "tensorboard": tensorboard or None})
    cfg = build_config(TrainGANConfig, config, flags, parse_overrides(set_))
    check_names(cfg)
    join_processes(cfg)
    echo(f"checkpoint: {run_train_gan(cfg)}")


@app.command()
def ssl(
    algorithm: list[str] = typer.Option([], help="supervised, semi-cnn, semi-gan, triple-gan-attn (repeatable; default "
                                                  "triple-gan-attn)"),
    dataset: Optional[str] = typer.Option(None, help="digits (default), mnist, fashion-mnist, cifar10, svhn, folder:PATH"),
    data_dir: Optional[Path] = typer.Option(None, help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)"),
    labeled: list[float] = typer.Option([], help="a fraction of every class (<= 1, e.g. 0.1) or a total number of "
                                                 "labels split equally over the classes (> 1, e.g. 100); repeatable"),
    repeats: Optional[int] = typer.Option(None, help="seeds per setting (default 5)"),
    steps: Optional[int] = typer.Option(None, help="training iterations (default 3,000)"),
    seed: Optional[int] = typer.Option(None, help="first seed (default 0)"),
    out: Optional[Path] = typer.Option(None, help="run folder (default runs/ssl)"),
    quick: bool = typer.Option(False, "--quick", help="a short run through every step"),
    scale: Optional[str] = typer.Option(None, help="a named scale of the config file's `scales:` (e.g. cpu, paper)"),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda or mps (default auto)"),
    config: Optional[Path] = typer.Option(None, help="YAML file with any SSLConfig keys"),
    set_: list[str] = typer.Option([], "--set", help="override any config key, e.g. --set options.semi-gan.lr=0.001"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard event files to OUT/tensorboard"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Semi-supervised classification: 000's triple-gan-attn and its baselines on the same labelled splits."""
    from ganaug.config import SSLConfig
    from ganaug.experiments.ssl import run_ssl

    flags = flag_layer({"algorithms": algorithm or None, "data.dataset": dataset, "data.data_dir": data_dir,
                        "labeled": labeled or None, "repeats": repeats, "steps": steps, "seed": seed, "out": out,
                        "device": device, "progress": False if no_progress else None,
                        "tensorboard": tensorboard or None})
    quick_layer = {"steps": 300, "eval_every": 100, "generated_per_class": 20, "judge": {"steps": 300},
                   "options": {"triple-gan-attn": {"g_width": 64, "d_width": 128}}, "quick": True}
    cfg = build_config(SSLConfig, config, flags, parse_overrides(set_), scale=scale, under=quick_layer if quick else None)
    check_names(cfg)
    join_processes(cfg)
    echo(f"report: {run_ssl(cfg, command=shlex.join(['ganaug', *sys.argv[1:]]))}")


@app.command()
def run(
    config: Path = typer.Argument(..., help="a grid file (see configs/smoke-grid.yaml)"),
    out: Optional[Path] = typer.Option(None, help="run folder (default: the file's `out`)"),
    executor: Optional[str] = typer.Option(None, help="local (default) or ray"),
    workers: Optional[int] = typer.Option(None, help="local: cells at once, each in its own process"),
    address: Optional[str] = typer.Option(None, help="ray: a cluster's address (default: start a local Ray)"),
    device: Optional[str] = typer.Option(None, help="every cell's device: auto, cpu, cuda or mps (config.device)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and list the cells, train nothing"),
    set_: list[str] = typer.Option([], "--set", help="override a grid key, e.g. --set config.steps=100 --set repeats=3"),
) -> None:
    """Run a grid of experiments (axes x repeats) as resumable cells; re-running skips finished cells."""
    from ganaug.runner import expand, load_grid, run_grid
    from ganaug.runner.grid import check_cells

    flags = flag_layer({"out": out, "executor": executor, "workers": workers, "address": address,
                        "config.device": device})
    grid = load_grid(config, flags, parse_overrides(set_))
    if dry_run:
        cells = expand(grid, Path(grid.out))
        check_cells(grid, cells)
        echo("\n".join(f"{c['id']}  seed {c['seed']}" for c in cells) + f"\n{len(cells)} cells, all valid")
        return
    folder = run_grid(grid, shlex.join(["ganaug", *sys.argv[1:]]), log=typer.echo)
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
    """List every registered generator, discriminator, classifier, GAN loss and semi-supervised algorithm by name."""
    from ganaug.gan.losses import GAN_LOSSES
    from ganaug.models import CLASSIFIERS, DISCRIMINATORS, GENERATORS
    from ganaug.ssl import ALGORITHMS

    for title, registry in (("generators", GENERATORS), ("discriminators", DISCRIMINATORS),
                            ("classifiers", CLASSIFIERS), ("GAN losses", GAN_LOSSES),
                            ("semi-supervised algorithms", ALGORITHMS)):
        echo(f"{title}: {', '.join(registry.names())}")


@app.command()
def generate(
    checkpoint: Path = typer.Option(..., help="a GAN checkpoint, e.g. runs/demo/checkpoints/gan/last"),
    out: Path = typer.Option(..., help="a folder (ImageFolder layout of PNGs) or a file ending in .npz"),
    per_class: Optional[int] = typer.Option(None, help="images of every class"),
    class_: Optional[str] = typer.Option(None, "--class", help="one class, by index or name (with --n)"),
    n: Optional[int] = typer.Option(None, help="number of images of --class (or in total, unconditional)"),
    seed: int = typer.Option(0, help="the same seed gives the same images"),
    truncation: float = typer.Option(1.0, help="truncation psi (< 1: less diverse, more typical; style-lite only)"),
    raw: bool = typer.Option(False, "--raw", help="use the raw generator even when the checkpoint has an EMA copy"),
) -> None:
    """Generate images from a trained GAN, per class, as PNG folders or one .npz; deterministic for a seed."""
    single_process("generate")
    import torch

    from ganaug.experiments.common import check_out_folder

    check_out_folder(out.parent if out.suffix == ".npz" else out, "--out")
    from ganaug.data import ImageDataset, to_uint8
    from ganaug.data.export import write_image_folder, write_npz
    from ganaug.gan.sampling import generate as sample, load_generator

    try:
        G, meta = load_generator(checkpoint, use_ema=not raw)
    except (FileNotFoundError, ValueError) as err:
        raise ConfigError(str(err)) from None
    num_classes = G.num_classes or 1
    names = meta.get("class_names") or [str(c) for c in range(num_classes)]
    if not G.num_classes:
        names = ["generated"]
    counts = class_counts(names, per_class, class_, n)
    try:
        x, y = sample(G, counts, meta["config"]["z_dim"], seed, torch.device("cpu"), truncation_psi=truncation)
    except ValueError as err:
        raise ConfigError(f"--truncation {truncation}: {err}") from None
    ds = ImageDataset(to_uint8(x), y, names)
    if out.suffix == ".npz":
        write_npz(ds, out)
    else:
        write_image_folder(ds, out)
    echo(f"wrote {len(ds)} images to {out}")


@app.command("evaluate-gan")
def evaluate_gan_command(
    checkpoint: Path = typer.Option(..., help="a GAN checkpoint, e.g. runs/gan/checkpoints/gan/last"),
    dataset: Optional[str] = typer.Option(None, help="the dataset the GAN was trained on (default digits)"),
    data_dir: Optional[Path] = typer.Option(None, help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)"),
    out: Optional[Path] = typer.Option(None, help="report folder (default runs/evaluate-gan)"),
    per_class: Optional[int] = typer.Option(None, help="generated images per class (default 100)"),
    seed: Optional[int] = typer.Option(None, help="seed of the feature classifier, samples and subsets (default 0)"),
    inception_weights: Optional[Path] = typer.Option(None, help="FID Inception-v3 weights file; adds Inception metrics"),
    truncation: Optional[float] = typer.Option(None, help="truncation psi (< 1: less diverse; style-lite only)"),
    raw: bool = typer.Option(False, "--raw", help="use the raw generator even when the checkpoint has an EMA copy"),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda or mps (default auto)"),
    config: Optional[Path] = typer.Option(None, help="YAML file with any EvaluateGANConfig keys"),
    set_: list[str] = typer.Option([], "--set", help="override any config key, e.g. --set feature_classifier.steps=300"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """Evaluate a trained GAN: FID/KID/IS/PRDC on classifier (and optionally Inception) features, class consistency,
    CAS, mode collapse and a memorisation audit, in one report with per-class sample grids."""
    single_process("evaluate-gan")
    from ganaug.config import EvaluateGANConfig
    from ganaug.experiments.evaluate_gan import evaluate_gan

    flags = flag_layer({"checkpoint": checkpoint, "dataset": dataset, "data_dir": data_dir, "out": out,
                        "samples_per_class": per_class, "seed": seed, "inception_weights": inception_weights,
                        "truncation_psi": truncation, "device": device, "use_ema": False if raw else None,
                        "progress": False if no_progress else None})
    cfg = build_config(EvaluateGANConfig, config, flags, parse_overrides(set_))
    check_names(cfg)
    echo(f"report: {evaluate_gan(cfg)}")


def class_counts(names: list[str], per_class: int | None, class_: str | None, n: int | None) -> list[int]:
    """Images per class from ``--per-class N`` or ``--class K --n N``; a class is an index or a name."""
    if (per_class is None) == (class_ is None and n is None):
        raise ConfigError("give either --per-class N, or --class K with --n N (or --n N alone for an unconditional GAN)")
    for flag, value in (("--per-class", per_class), ("--n", n)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} {value}: expected a number of images >= 1")
    if per_class is not None:
        return [per_class] * len(names)
    if n is None:
        raise ConfigError("--class needs --n, the number of images")
    if class_ is None:
        if len(names) > 1:
            raise ConfigError(f"this GAN is class-conditional ({len(names)} classes): give --class or --per-class")
        return [n]
    index = names.index(class_) if class_ in names else int(class_) if class_.isdigit() else -1
    if not 0 <= index < len(names):
        raise ConfigError(f"--class {class_!r}: expected an index in 0..{len(names) - 1} or one of {names}")
    return [n if c == index else 0 for c in range(len(names))]


def single_process(command: str) -> None:
    """Commands whose every rank would write the same files refuse torchrun."""
    if distributed.is_distributed():
        raise ConfigError(f"ganaug {command} runs in one process; run it without torchrun (torchrun supports "
                          "train-gan, ssl, augment and demo, see docs/distributed.md)")


def main() -> None:
    try:
        app()
    finally:
        distributed.shutdown()


if __name__ == "__main__":
    main()
