"""The ``ganaug`` command line. Experiment-level options plus ``--set key=value`` for everything else."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from ganaug.config import ConfigError, DemoConfig, build_config, parse_overrides
from ganaug.data.errors import DataError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def _root() -> None:
    """ganaug: train GANs on your training data, mix their images into classifier training, measure whether it helped."""


def quick_overrides() -> dict:
    """``--quick``: a short run that still goes through every step (for smoke tests and a first look)."""
    return {"gan": {"steps": 600}, "classifier": {"steps": 150, "repeats": 2}, "judge_samples_per_class": 20}


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
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bars"),
) -> None:
    """The main job: imbalance a dataset, rebalance it with a conditional GAN, and report whether it helped."""
    from ganaug.experiments.demo import run_demo

    flags: dict = {}
    if dataset is not None:
        flags.setdefault("data", {})["dataset"] = dataset
    if data_dir is not None:
        flags.setdefault("data", {})["data_dir"] = str(data_dir)
    if epochs is not None:
        flags.setdefault("gan", {})["epochs"] = epochs
    for key, value in (("out", out and str(out)), ("seed", seed), ("device", device)):
        if value is not None:
            flags[key] = value
    if no_progress:
        flags["progress"] = False
    layers = [quick_overrides()] if quick else []
    cfg = build_config(DemoConfig, config, *layers, flags, parse_overrides(set_))
    report = run_demo(cfg, command=shlex.join(["ganaug", *sys.argv[1:]]))
    typer.echo(f"report: {report}")


def main() -> None:
    try:
        app()
    except (ConfigError, DataError) as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
