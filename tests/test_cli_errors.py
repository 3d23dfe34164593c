"""Every user mistake ends in one line on stderr and exit code 2, never a traceback, and leaves nothing that blocks
the corrected re-run; unexpected failures end in one line and exit 1 (``--debug`` shows the traceback)."""

import json
import os
import stat

import pytest
import yaml
from typer.testing import CliRunner

from ganaug.checkpoint import Checkpoint, CheckpointError, save_checkpoint
from ganaug.cli import app
from ganaug.cli_errors import error_line
from ganaug.config import GANConfig
from ganaug.gan.trainer import GANDivergedError, build_gan


def invoke(*args, **kw):
    return CliRunner().invoke(app, [str(a) for a in args], **kw)


def one_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "last"
    G, D, specs = build_gan(GANConfig(g_width=16, d_width=16, z_dim=16), 8, 1, 10)
    save_checkpoint(path, {"generator": (G, specs["generator"]), "discriminator": (D, specs["discriminator"])},
                    meta={"epoch": 1, "config": GANConfig(g_width=16, d_width=16, z_dim=16).model_dump(mode="json"),
                          "class_names": [str(c) for c in range(10)]})
    return path


@pytest.mark.parametrize("command", ["demo", "augment", "ssl"])
def test_negative_seed_is_one_line_and_leaves_no_run_folder(tmp_path, command):
    out = tmp_path / "run"
    line = one_line(invoke(command, "--seed", "-1", "--quick", "--out", out))
    assert "seed: Input should be greater than or equal to 0 (got -1)" in line
    assert not out.exists()


@pytest.mark.parametrize("command", ["demo", "augment"])
def test_out_that_is_a_file(tmp_path, command):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    line = one_line(invoke(command, "--quick", "--out", file, "--set", "gan.steps=1"))
    assert str(file) in line and "is a file; expected a folder" in line
    assert file.read_text() == "mine"


def test_out_under_a_file(tmp_path, gan_checkpoint):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    line = one_line(invoke("generate", "--checkpoint", gan_checkpoint, "--out", file / "images", "--per-class", "1"))
    assert f"{file} is a file, so the folder cannot be made under it" in line
    line = one_line(invoke("train-gan", "--out", file / "gan", "--steps", "1"))
    assert str(file) in line


def test_permission_denied_names_the_path():
    code, line = error_line(PermissionError(13, "Permission denied", "/srv/shared/run"))
    assert code == 2 and line == "error: permission denied: /srv/shared/run: choose a path you can write to (e.g. --out DIR)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_in_a_read_only_folder(tmp_path):
    tmp_path.chmod(0o555)
    try:
        line = one_line(invoke("demo", "--quick", "--out", tmp_path / "run"))
    finally:
        tmp_path.chmod(0o755)
    assert "permission denied" in line and str(tmp_path / "run") in line


def test_truncated_checkpoint(tmp_path, gan_checkpoint):
    for suffix in (".json", ".safetensors"):
        data = gan_checkpoint.with_suffix(suffix).read_bytes()
        (tmp_path / f"last{suffix}").write_bytes(data if suffix == ".json" else data[: len(data) // 2])
    line = one_line(invoke("generate", "--checkpoint", tmp_path / "last", "--out", tmp_path / "x", "--per-class", "1"))
    assert "last.safetensors: not a readable ganaug checkpoint, it may be truncated or damaged" in line


def test_unreadable_checkpoint_says_permission_not_missing(gan_checkpoint, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(CheckpointError, match="permission denied reading .*last.json"):
        Checkpoint(gan_checkpoint)


def test_missing_checkpoint(tmp_path):
    line = one_line(invoke("generate", "--checkpoint", tmp_path / "nope", "--out", tmp_path / "x", "--per-class", "1"))
    assert "nope.json does not exist" in line


@pytest.mark.parametrize("count", ["-1", "0"])
def test_generate_needs_a_positive_count(tmp_path, gan_checkpoint, count):
    line = one_line(invoke("generate", "--checkpoint", gan_checkpoint, "--out", tmp_path / "x", "--per-class", count))
    assert line == f"error: --per-class {count}: expected a number of images >= 1"


def test_results_on_a_demo_folder(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"seed": 0, "data": {"dataset": "digits"}}))
    line = one_line(invoke("results", tmp_path))
    assert "not a grid run folder" in line and "ganaug run" in line


def test_unknown_gan_loss_is_named_before_training(tmp_path):
    line = one_line(invoke("train-gan", "--out", tmp_path / "gan", "--set", "gan.loss=softplus"))
    assert "gan.loss: unknown loss 'softplus'; valid names: hinge, least-squares, minimax, non-saturating" in line
    assert not (tmp_path / "gan").exists()


def test_diverged_training_is_one_line():
    code, line = error_line(GANDivergedError("epoch 3: non-finite GAN loss. Lower the learning rates."))
    assert code == 1 and line == "error: training diverged: epoch 3: non-finite GAN loss. Lower the learning rates."


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    import ganaug.experiments.train_gan

    def boom(cfg):
        raise RuntimeError("something broke")

    monkeypatch.setattr(ganaug.experiments.train_gan, "run_train_gan", boom)
    line = one_line(invoke("train-gan", "--out", tmp_path), code=1)
    assert line == "error: RuntimeError: something broke (run with --debug for the traceback)"
    debug = invoke("--debug", "train-gan", "--out", tmp_path)
    assert debug.exit_code == 1 and isinstance(debug.exception, RuntimeError)


def test_ctrl_c_says_how_to_resume(tmp_path, monkeypatch):
    import ganaug.experiments.train_gan

    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(ganaug.experiments.train_gan, "run_train_gan", interrupted)
    result = invoke("train-gan", "--out", tmp_path)
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted: re-run the same command to resume from the last checkpoint"


def test_quick_sits_below_the_config_file(tmp_path):
    from ganaug.config import DemoConfig, build_config
    from ganaug.cli import quick_overrides

    config = tmp_path / "demo.yaml"
    config.write_text("gan: {steps: 7}\n")
    cfg = build_config(DemoConfig, config, under=quick_overrides())
    assert cfg.gan.steps == 7 and cfg.classifier.steps == 150 and cfg.quick  # the file wins; --quick fills the rest
    config.write_text("gan: {steps: many}\n")
    line = one_line(invoke("demo", "--quick", "--config", config, "--out", tmp_path / "run"))
    assert f"({config})" in line and "gan.steps" in line and "'many'" in line


def write_grid_run(folder, axes: dict, rows: list[tuple[dict, int, float]]):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump({"task": "ssl", "grid": axes}))
    for i, (cell_axes, repeat, acc) in enumerate(rows):
        cell = folder / "cells" / f"c{i}"
        cell.mkdir(parents=True)
        (cell / "cell.json").write_text(json.dumps({"id": f"c{i}", "task": "ssl", "axes": cell_axes, "repeat": repeat,
                                                    "seed": repeat, "code_version": "test"}))
        (cell / "result.json").write_text(json.dumps({"scalars": {"": {"accuracy": acc}}, "seconds": 1.0,
                                                      "finished": "now", "report": "r.html"}))


@pytest.mark.parametrize("args, message", [
    (["--metric", "nope"], "--metric nope: no cell has this metric; valid metrics: accuracy"),
    (["--baseline", "algorithms=nope"], "--baseline algorithms=nope: no cell has this value; algorithms takes "
                                        "supervised, semi-cnn"),
    (["--baseline", "labels=10"], "--baseline labels=10: labels is not an axis of this grid"),
    (["--baseline", "arm=ghost"], "--baseline arm=ghost: no cell has this arm"),
])
def test_results_options_that_name_nothing(tmp_path, args, message):
    rows = [({"algorithms": a}, r, 0.5 + 0.1 * r) for a in ("supervised", "semi-cnn") for r in range(3)]
    write_grid_run(tmp_path / "grid", {"algorithms": ["supervised", "semi-cnn"]}, rows)
    assert message in one_line(invoke("results", tmp_path / "grid", *args))


def test_grid_baseline_that_names_no_cell_fails_the_dry_run(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"task": "ssl", "grid": {"algorithms": ["supervised", "semi-cnn"]},
                                    "baseline": {"algorithms": "fixmatch"}, "out": str(tmp_path / "run")}))
    line = one_line(invoke("run", grid, "--dry-run"))
    assert "baseline.algorithms='fixmatch' names no cell: the axis algorithms takes ['supervised', 'semi-cnn']" in line


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        G, D, specs = build_gan(GANConfig(g_width=16, d_width=16, z_dim=16), 8, 1, 10)
        save_checkpoint(tmp_path / "last", {"generator": (G, specs["generator"])})
    finally:
        os.umask(old)
    for name in ("last.json", "last.safetensors"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
