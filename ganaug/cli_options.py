"""The command line's shared parts: the options every command declares, and how flags become a config.

Kept apart from ``ganaug.cli`` (the commands) so that each stays small; nothing here defines a command.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ganaug import distributed
from ganaug.config import ConfigError, build_config, nest, parse_overrides

def registry_names(registry: str) -> str:
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
Dataset = Annotated[Optional[str], typer.Option(help=f"{registry_names('datasets')} or folder:PATH (default digits)")]
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
