"""Dotted keys (``gan.steps``), the one way a flag, a ``--set``, a study variant or a grid axis names a config value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ganaug.errors import ConfigError


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``update`` wins."""
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """``{"classifier.steps": 10, "seed": 1}`` -> ``{"classifier": {"steps": 10}, "seed": 1}``.

    Later keys merge into earlier ones; paths become strings (configs hold plain YAML values)."""
    tree: dict[str, Any] = {}
    for key, value in dotted.items():
        node = str(value) if isinstance(value, Path) else value
        for part in reversed(key.strip().split(".")):
            node = {part: node}
        tree = merge(tree, node)
    return tree


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of :func:`nest`: ``{"classifier": {"steps": 10}}`` -> ``{"classifier.steps": 10}``."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def lookup(values: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a nested dict; None where the path does not exist."""
    for part in dotted.split("."):
        values = values.get(part) if isinstance(values, dict) else None
    return values


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["gan.epochs=5", "data.dataset=mnist"]`` -> nested dict; values are parsed as YAML scalars/lists."""
    tree: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        tree = merge(tree, nest({key: yaml.safe_load(raw) if raw != "" else None}))
    return tree
