"""The ``ganaug evaluate-gan`` command line that reproduces a run, written into its metrics.json and report."""

from __future__ import annotations

import json
import shlex
from typing import Any

import yaml

from ganaug.config import EvaluateGANConfig
from ganaug.config.keys import flatten

SET_FLAGS = {  # config keys with their own command-line option
    "checkpoint": "--checkpoint", "images": "--images", "dataset": "--dataset", "data_dir": "--data-dir", "out": "--out",
    "samples_per_class": "--per-class", "seed": "--seed", "inception_weights": "--inception-weights",
    "truncation_psi": "--truncation",
}


def reproduce_command(cfg: EvaluateGANConfig) -> str:
    """The ``ganaug evaluate-gan`` command line that rebuilds this config (main options always, the rest as --set)."""
    values = cfg.model_dump(mode="json")
    defaults = EvaluateGANConfig(checkpoint=cfg.checkpoint, images=cfg.images).model_dump(mode="json")
    parts = ["ganaug", "evaluate-gan"]
    for key in ("checkpoint", "images", "dataset", "data_dir", "out", "samples_per_class", "seed", "inception_weights",
                "truncation_psi"):
        if values[key] is not None and (key in ("checkpoint", "images", "dataset", "out", "samples_per_class", "seed")
                                        or values[key] != defaults[key]):
            parts += [SET_FLAGS[key], str(values[key])]
    if not cfg.use_ema:
        parts.append("--raw")

    current, default = flatten(values), flatten(defaults)
    for key, value in current.items():
        if key in SET_FLAGS or key in ("use_ema", "progress") or value == default.get(key):
            continue
        parts += ["--set", f"{key}={yaml_scalar(value)}"]
    return shlex.join(parts)


def yaml_scalar(value: Any) -> str:
    """A value as ``--set`` parses it back (YAML), e.g. None -> '' and the string '1' -> '"1"'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if yaml.safe_load(value) == value else json.dumps(value)
    return json.dumps(value)
