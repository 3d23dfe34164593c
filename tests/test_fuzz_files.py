"""Fuzzing the files ganaug reads besides datasets: GAN checkpoints and YAML configs.

Property: a damaged checkpoint gives CheckpointError naming it, a damaged or ill-typed config gives ConfigError
naming the file or key; never another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganaug.checkpoint import CheckpointError, save_checkpoint
from ganaug.config import ConfigError, DemoConfig, GANConfig, build_config
from ganaug.gan.sampling import load_generator
from ganaug.gan.trainer import build_gan

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def damage_strategy(n: int):
    position = st.one_of(st.integers(0, min(63, n - 1)), st.integers(0, n - 1))
    return st.one_of(
        st.tuples(st.just("truncate"), position, st.just(b"")),
        st.tuples(st.just("flip"), position, st.integers(0, 7)),
        st.tuples(st.just("splice"), position, st.binary(min_size=1, max_size=32)),
    )


def damaged(data: bytes, how) -> bytes:
    kind, position, extra = how
    if kind == "truncate":
        return data[:position]
    if kind == "flip":
        out = bytearray(data)
        out[position] ^= 1 << extra
        return bytes(out)
    return data[:position] + extra + data[position + len(extra):]


def checkpoint_files() -> dict[str, bytes]:
    cfg = GANConfig(g_width=16, d_width=16, z_dim=8)
    G, D, specs = build_gan(cfg, 8, 1, 3)
    with tempfile.TemporaryDirectory() as tmp:
        save_checkpoint(Path(tmp) / "last", {"generator": (G, specs["generator"]),
                                             "discriminator": (D, specs["discriminator"])},
                        meta={"epoch": 1, "config": cfg.model_dump(mode="json"), "class_names": ["a", "b", "c"]})
        return {name: (Path(tmp) / name).read_bytes() for name in ("last.json", "last.safetensors")}


CHECKPOINT = checkpoint_files()


@FUZZ
@given(data=st.data())
def test_damaged_checkpoints_give_a_checkpoint_error(data):
    target = data.draw(st.sampled_from(sorted(CHECKPOINT)))
    how = data.draw(damage_strategy(len(CHECKPOINT[target])))
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in CHECKPOINT.items():
            (Path(tmp) / name).write_bytes(damaged(content, how) if name == target else content)
        try:
            G, meta = load_generator(Path(tmp) / "last")
        except CheckpointError as err:
            assert str(Path(tmp)) in str(err)


CONFIG = yaml.safe_dump(DemoConfig().model_dump(mode="json"), sort_keys=False).encode()

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)
KEYS = ["seed", "out", "device", "quick", "data.dataset", "data.image_size", "data.val_fraction", "imbalance.profile",
        "imbalance.classes", "imbalance.fraction", "gan.loss", "gan.steps", "gan.betas", "gan.diffaugment",
        "gan.generator_kwargs", "classifier.repeats", "classifier.lr", "nonsense", "gan.nonsense"]


@FUZZ
@given(data=st.data())
def test_damaged_config_files_give_a_config_error(data):
    how = data.draw(damage_strategy(len(CONFIG)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.yaml"
        path.write_bytes(damaged(CONFIG, how))
        try:
            build_config(DemoConfig, path)
        except ConfigError as err:
            assert str(path) in str(err)


@FUZZ
@given(settings_=st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=4))
def test_any_value_for_any_key_gives_a_config_or_a_config_error(settings_):
    layer: dict = {}
    for dotted, value in settings_.items():
        *parents, leaf = dotted.split(".")
        node = layer
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    try:
        cfg = build_config(DemoConfig, None, layer)
    except ConfigError:
        return
    assert isinstance(cfg, DemoConfig)
