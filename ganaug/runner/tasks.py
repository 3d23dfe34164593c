"""What a grid cell of ``ganaug run`` can be: one experiment of ganaug, registered by name.

A task names its config class, the key that makes the experiment run a single repeat (the grid's
``repeats`` replace the experiment's own), the checks that can fail before training, the function that
runs it, and the scalars of its metrics.json that go into the results store, per *arm* (the compared
variants inside one run, e.g. augment's baseline and exp1; "" when a run has one).
Adding a task is one function plus ``@TASKS.register``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ganaug.registry import Registry

TASKS = Registry("task")

Scalars = dict[str, dict[str, float]]  # arm -> metric -> value


@dataclass(frozen=True)
class Task:
    config: type[BaseModel]
    one_repeat: dict[str, Any]  # config layer that makes the experiment run one repeat
    check: Callable[[Any], None]  # raises ConfigError/DataError before anything trains
    run: Callable[[Any, str], Path]  # (config, command) -> the report's path
    scalars: Callable[[dict], Scalars]  # the experiment's metrics.json -> per-arm scalars
    builder: Callable[..., BaseModel] | None = None  # (yaml, *layers, scale=) -> config; None: build_config
    # (test metric, validation metric): `ganaug results` compares every arm with generated images with the best arm
    # without them chosen on the validation metric (the scalars then hold store.GENERATOR); None: no such comparison
    primary: tuple[str, str] | None = None

    def build(self, yaml_path: str | None, *layers: dict[str, Any], scale: str | None = None) -> BaseModel:
        """The experiment's config from its own YAML file (with its ``scales``), then ``layers``, validated (registry
        names included)."""
        from ganaug.config import build_config
        from ganaug.names import check_names

        build = self.builder or (lambda *args, scale: build_config(self.config, *args, scale=scale))
        cfg = build(yaml_path, *layers, scale=scale)
        check_names(cfg)
        return cfg


def numbers(values: dict, keys: tuple[str, ...] | None = None) -> dict[str, float]:
    """The finite numbers among ``values`` (only ``keys`` when given); nested ``{"mean": x}`` counts as x."""
    out = {}
    for k, v in values.items():
        if keys is not None and k not in keys:
            continue
        v = v.get("mean") if isinstance(v, dict) else v
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[k] = float(v)
    return out


@TASKS.register("ssl")
def ssl_task() -> Task:
    """``ganaug ssl``: one semi-supervised run per cell; grid over ``algorithms``, ``labeled``, ``steps``, options..."""
    from ganaug.config import SSLConfig
    from ganaug.experiments.ssl import GENERATIVE, SCALARS, plan_ssl, run_ssl

    def scalars(metrics: dict) -> Scalars:
        runs = [(a, tag, m) for a, per in metrics["results"].items() for tag, m in per.items()]
        single = len(runs) == 1
        gan = metrics.get("uses_generator", {})  # and val_accuracy: what chooses the best method without a generator
        return {"" if single else f"{a} {tag}": {**numbers(m, (*SCALARS, *GENERATIVE, "val_accuracy")),
                                                 **({"uses_generator": float(gan[a])} if a in gan else {})}
                for a, tag, m in runs}

    return Task(SSLConfig, {"repeats": 1}, plan_ssl, run_ssl, scalars, primary=("accuracy", "val_accuracy"))


@TASKS.register("augment")
def augment_task() -> Task:
    """``ganaug augment``: one study per cell with every arm (baseline, strategies x ratios) at one seed."""
    from ganaug.config import AugmentConfig, build_augment_config
    from ganaug.experiments.augment import prepare_run, run_augment
    from ganaug.runtime import resolve_device

    def scalars(metrics: dict) -> Scalars:
        per_classifier = metrics["results"]
        generated = {a["key"]: a["generator"] is not None for a in metrics["arms"]}
        out: Scalars = {}
        for name, result in per_classifier.items():
            for arm, summary in result["arms"].items():
                values = numbers({k: v for k, v in summary.items() if k != "repeats"})
                val = result.get("validation_balanced_accuracy", {}).get(arm)
                if val:  # one repeat per cell: its validation score, what chooses the best remedy
                    values["val_balanced_accuracy"] = float(sum(val) / len(val))
                values["uses_generator"] = float(generated.get(arm, False))
                out[arm if len(per_classifier) == 1 else f"{name} {arm}"] = values
        return out

    return Task(AugmentConfig, {"classifier": {"repeats": 1}}, lambda cfg: prepare_run(cfg, resolve_device(cfg.device)),
                run_augment, scalars, builder=build_augment_config,  # applies the file's `variants` too
                primary=("balanced_accuracy", "val_balanced_accuracy"))


@TASKS.register("demo")
def demo_task() -> Task:
    """``ganaug demo``: arms baseline, augmented and reference at one seed per cell."""
    from ganaug.config import DemoConfig
    from ganaug.experiments.demo import ARMS, check_demo, run_demo

    def scalars(metrics: dict) -> Scalars:
        out = {arm: numbers({k: v for k, v in metrics[arm].items() if k != "repeats"}) for arm in ARMS}
        out["augmented"]["class_consistency"] = metrics["gan"]["class_consistency"]
        return out

    return Task(DemoConfig, {"classifier": {"repeats": 1}}, check_demo, run_demo, scalars)


@TASKS.register("gan")
def gan_task() -> Task:
    """Train and evaluate a GAN per cell; grid over ``gan.architecture``, ``gan.loss``, stabilisers, data..."""
    from ganaug.config import GANStudyConfig
    from ganaug.experiments.gan_study import check_gan_study, run_gan_study

    def scalars(metrics: dict) -> Scalars:
        judge = {"judge_test_accuracy": metrics["feature_classifier"]["test_accuracy"]}  # a weak judge: weak numbers
        return {"": numbers({**{row["key"]: row["value"] for row in metrics["table"]}, **judge})}

    return Task(GANStudyConfig, {}, check_gan_study, run_gan_study, scalars)
