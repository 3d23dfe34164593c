"""Where a config's values come from, in order: defaults < ``--quick`` < YAML file < its scale < a study variant
< flags and ``--set``; validated into a schema, and saved to the run folder before anything trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ganaug.config.augment import AugmentConfig
from ganaug.config.keys import merge, nest
from ganaug.errors import ConfigError

C = TypeVar("C", bound=BaseModel)
SHIPPED = Path(__file__).resolve().parents[1] / "configs"  # the study configs installed with the package


def find_config(path: str | Path) -> Path:
    """``path`` if it exists, else the shipped study config of that name (``augment-gao-cifar10`` or
    ``configs/augment-gao-cifar10.yaml`` work from any folder once ganaug is installed)."""
    path = Path(path)
    if path.exists():
        return path
    shipped = SHIPPED / (path.name if path.suffix in (".yaml", ".yml") else path.name + ".yaml")
    return shipped if shipped.exists() else path


def build_config(cls: type[C], yaml_path: str | Path | None = None, *layers: dict[str, Any], scale: str | None = None,
                 under: dict[str, Any] | None = None) -> C:
    """Defaults < ``under`` (``--quick``) < YAML file < its ``scales: {scale: {...}}`` entry < each of ``layers`` in
    order, validated into ``cls``.

    A study file can hold several sizes of the same study under ``scales`` (e.g. ``cpu`` for 2 cores,
    ``paper`` for the paper's schedule on a GPU); ``scale`` picks one, and ``scales.default`` names the one
    used when none is asked for.
    """
    values: dict[str, Any] = {}
    source = "command line"
    if yaml_path is not None:
        yaml_path = find_config(yaml_path)
        source = str(yaml_path)
        try:
            loaded = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"{yaml_path}: cannot read config: {err}") from err
        if not isinstance(loaded, dict):
            raise ConfigError(f"{yaml_path}: expected a mapping of keys to values at the top level")
        values = dict(loaded)
    scales = values.pop("scales", {}) or {}
    values = merge(under or {}, values)
    scale = scale or scales.get("default")
    if scale is not None:
        if scale not in scales or not isinstance(scales[scale], dict):
            names = [k for k in scales if k != "default"]
            raise ConfigError(f"{source}: no scale {scale!r}; the file defines {names or 'no scales'}")
        values = merge(values, scales[scale])
    for layer in layers:
        values = merge(values, layer)
    try:
        return cls.model_validate(values)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']} (got {e.get('input')!r})" for e in err.errors()
        )
        raise ConfigError(f"invalid config ({source}): {problems}") from None


def save_config(config: BaseModel, path: Path) -> None:
    """The resolved config, written to the run folder before anything trains."""
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def build_augment_config(yaml_path: str | Path | None = None, *layers: dict[str, Any], scale: str | None = None,
                         under: dict[str, Any] | None = None) -> AugmentConfig:
    """``build_config`` plus the study's dataset variant: defaults < ``under`` (``--quick``) < YAML < scales[scale]
    < variants[variant] < layers.

    The scale's name is recorded in the config (``scale``), so that the run says at what scale it ran.
    """
    name = scale or _default_scale(yaml_path)
    named = {"scale": name} if name else {}
    first = build_config(AugmentConfig, yaml_path, named, *layers, scale=scale, under=under)
    if first.scale != name:
        raise ConfigError(f"scale={first.scale!r}: a scale is chosen with --scale NAME (the config file's `scales:`), "
                          "not set as a value")
    if first.variant is None:
        return first
    return build_config(AugmentConfig, yaml_path, named, nest(first.variants[first.variant].set), *layers, scale=scale,
                        under=under)


def _default_scale(yaml_path: str | Path | None) -> str | None:
    """The ``scales.default`` of a config file (None when there is none, or the file is unreadable: build_config says)."""
    try:
        loaded = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8")) if yaml_path is not None else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    scales = loaded.get("scales") if isinstance(loaded, dict) else None
    return scales.get("default") if isinstance(scales, dict) else None
