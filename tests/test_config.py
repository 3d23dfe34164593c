import pytest

from ganaug.config import ConfigError, DemoConfig, build_config, parse_overrides


def test_defaults_then_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 3\ngan:\n  steps: 10\n  lr_g: 0.001\n")
    cfg = build_config(DemoConfig, path, parse_overrides(["gan.steps=20", "data.dataset=mnist"]))
    assert (cfg.seed, cfg.gan.steps, cfg.gan.lr_g, cfg.data.dataset) == (3, 20, 0.001, "mnist")
    assert cfg.gan.lr_d == 2e-4  # untouched default


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"gan\.stepz"):
        build_config(DemoConfig, None, parse_overrides(["gan.stepz=3"]))


def test_wrong_type_is_named_with_value(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("classifier:\n  repeats: many\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*classifier\.repeats.*'many'"):
        build_config(DemoConfig, path)


def test_impossible_values_fail_before_training():
    with pytest.raises(ConfigError, match="imbalance"):
        build_config(DemoConfig, None, {"imbalance": {"profile": "counts"}})
    with pytest.raises(ConfigError, match="val_fraction"):
        build_config(DemoConfig, None, {"data": {"val_fraction": 1.5}})


def test_override_syntax_error():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["gan.steps"])


def test_yaml_not_a_mapping(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        build_config(DemoConfig, path)


def test_shipped_study_config_found_by_name(tmp_path, monkeypatch):
    """Outside a clone (an installed package), a study config is found by its name or its configs/ path."""
    from ganaug.config import AugmentConfig
    from ganaug.config.layers import SHIPPED

    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    by_name = build_config(AugmentConfig, "augment-gao-cifar10")
    by_path = build_config(AugmentConfig, "configs/augment-gao-cifar10.yaml")
    assert by_name == by_path
    assert by_name.data.dataset == "cifar10"
    assert (SHIPPED / "augment-gao-cifar10.yaml").is_file()
    with pytest.raises(ConfigError, match="no-such-study"):
        build_config(AugmentConfig, "no-such-study")


def test_flatten_is_the_inverse_of_nest():
    from ganaug.config.keys import flatten, nest

    dotted = {"classifier.steps": 10, "classifier.lr": 0.01, "data.dataset": "mnist", "seed": 1}
    assert nest(dotted) == {"classifier": {"steps": 10, "lr": 0.01}, "data": {"dataset": "mnist"}, "seed": 1}
    assert flatten(nest(dotted)) == dotted
