"""The ``ganaug`` command line: experiment-level options plus ``--set key=value`` for everything else.

A thin layer: each command turns its flags into a config layer, builds and checks the config (YAML < flags <
``--set``), and calls one experiment function. The options every experiment shares are declared once below.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ganaug import distributed
from ganaug.cli_errors import OneLineErrors
from ganaug.config import ConfigError, build_config, nest, parse_overrides


def _names(registry: str) -> str:
    """A registry's names for a help text, read from the registry itself."""
    if registry == "datasets":
        from ganaug.data import DATASETS as reg, _register_file_loaders

        _register_file_loaders()  # the file formats' loaders register when first needed
        return ", ".join(n for n in reg.names() if n != "folder")
    elif registry == "strategies":
        from ganaug.augment import STRATEGIES as reg
    elif registry == "algorithms":
        from ganaug.ssl import ALGORITHMS as reg
    elif registry == "classifiers":
        from ganaug.models import CLASSIFIERS as reg
    else:
        from ganaug.models import GENERATORS as reg
    return ", ".join(reg.names())


# The options every experiment shares, defined once. None means "not given": the YAML file or the default decides.
Dataset = Annotated[Optional[str], typer.Option(help=f"{_names('datasets')} or folder:PATH (default digits)")]
DataDir = Annotated[Optional[Path], typer.Option(help="where dataset files live (default $GANAUG_DATA_DIR, else ./data)")]
Out = Annotated[Optional[Path], typer.Option(help="run folder (default runs/COMMAND)")]
Seed = Annotated[Optional[int], typer.Option(help="seed of splits, networks and samples (default 0)")]
Device = Annotated[Optional[str], typer.Option(help="auto, cpu, cuda or mps (default auto)")]
Quick = Annotated[bool, typer.Option("--quick", help="a short run through every step (a smoke test, not a measurement)")]
Scale = Annotated[Optional[str], typer.Option(help="a named scale of the config file's `scales:` (e.g. cpu, paper)")]
ConfigFile = Annotated[Optional[Path], typer.Option(
    "--config", help="YAML file with any of this command's config keys, or a shipped study config's name")]
Set = Annotated[list[str], typer.Option("--set", help="override any config key, e.g. --set classifier.repeats=5")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="no progress bars")]
TensorBoard = Annotated[bool, typer.Option("--tensorboard", help="also write TensorBoard event files to OUT/tensorboard")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="check everything and print what would run, then stop")]
Raw = Annotated[bool, typer.Option("--raw", help="use the raw generator even when the checkpoint has an EMA copy")]
Synthetic = Annotated[Optional[Path], typer.Option(help="use these images (folder <class>/*.png or .npz, made by any "
                                                        "model) instead of training a GAN")]

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


def shared_flags(dataset: str | None = None, data_dir: Path | None = None, out: Path | None = None,
                 seed: int | None = None, device: str | None = None, no_progress: bool = False,
                 tensorboard: bool = False, data_key: str = "data.") -> dict[str, Any]:
    """The shared options as dotted config keys (``data_key``: where the dataset keys live, "" at the top level)."""
    return {f"{data_key}dataset": dataset, f"{data_key}data_dir": data_dir, "out": out, "seed": seed,
            "device": device, "progress": False if no_progress else None, "tensorboard": tensorboard or None}


def configure(build: Any, config: Path | None, flags: dict[str, Any], set_: list[str], **kwargs: Any) -> Any:
    """defaults < ``under`` (--quick) < YAML < flags < ``--set``, validated, registry names checked, before anything
    is written. ``build``: a config class (for ``build_config``) or a builder such as ``build_augment_config``."""
    from ganaug.names import check_names  # loads the registries (and torch) only when a command runs

    layers = (flag_layer(flags), parse_overrides(set_))
    if isinstance(build, type):  # a config class
        cfg = build_config(build, config, *layers, **kwargs)
    else:
        cfg = build(config, *layers, **kwargs)
    check_names(cfg)
    return cfg


def join_processes(cfg: Any) -> None:
    """Under torchrun, join the process group on this rank's device (explicitly, before the experiment runs)."""
    from ganaug.runtime import resolve_device

    distributed.setup(resolve_device(cfg.device))


def echo(line: str) -> None:
    """A result on stdout (``report: PATH``), from rank 0 only: under torchrun every rank runs the command."""
    if distributed.is_main():
        typer.echo(line)


def command_line() -> str:
    return shlex.join(["ganaug", *sys.argv[1:]])


def quick_overrides() -> dict:
    """``--quick``: a short run that still goes through every step (for smoke tests and a first look)."""
    return {"gan": {"steps": 600}, "classifier": {"steps": 150, "repeats": 2}, "judge_samples_per_class": 20,
            "quick": True}


def split_list(values: list[str], cast: type = str, flag: str = "") -> list | None:
    """Repeatable options that also take comma lists: ``--ratio 0.2,0.5 --ratio 1`` -> [0.2, 0.5, 1.0]."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    try:
        return [cast(v) for v in items] or None
    except ValueError:
        raise ConfigError(f"{flag} {','.join(items)}: expected {cast.__name__} values, e.g. {flag} 0.2,0.5") from None


def single_process(command: str) -> None:
    """Commands whose every rank would write the same files refuse torchrun."""
    if distributed.is_distributed():
        raise ConfigError(f"ganaug {command} runs in one process; run it without torchrun (torchrun supports "
                          "train-gan, ssl, augment and demo, see docs/distributed.md)")


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
                                                     + _names("strategies"))] = [],
    ratio: Annotated[list[str], typer.Option(help="GAN ratio(s) in [0, 1]: the share of a target class's training "
                                                  "images that are synthetic; repeatable or comma list (default 0.5)"
                                             )] = [],
    classifier: Annotated[list[str], typer.Option(help="classifier(s), repeatable or comma list; one of: "
                                                       + _names("classifiers"))] = [],
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


@app.command("train-gan")
def train_gan_command(
    dataset: Dataset = None, data_dir: DataDir = None, out: Out = None,
    architecture: Annotated[Optional[str], typer.Option(help="the GAN (default cdcgan), one of: "
                                                             + _names("gans"))] = None,
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
                                                      + _names("algorithms"))] = [],
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
