"""User errors reach the terminal as one actionable line and exit code 2, before anything trains."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ganaug.cli import app


@pytest.fixture
def run(tmp_path, monkeypatch):
    """``ganaug <args>`` in-process from ``tmp_path`` (CliRunner: same exit code and stderr as the entry point,
    without a python+torch start per test); ``test_the_entry_point_exits_2_with_the_line_on_stderr`` keeps one
    genuine subprocess."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        return CliRunner().invoke(app, list(args))

    return invoke


def test_the_entry_point_exits_2_with_the_line_on_stderr(tmp_path):
    r = subprocess.run([sys.executable, "-m", "ganaug.cli", "demo", "--dataset", "imagenet9", "--out",
                        str(tmp_path / "run")], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert "unknown dataset 'imagenet9'" in r.stderr and "mnist" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "run").exists()


def test_unknown_dataset(run, tmp_path):
    r = run("demo", "--dataset", "imagenet9", "--out", str(tmp_path / "run"))
    assert r.exit_code == 2
    assert "unknown dataset 'imagenet9'" in r.stderr and "mnist" in r.stderr


def test_unknown_config_key(run, tmp_path):
    r = run("demo", "--set", "gan.epochz=3")
    assert r.exit_code == 2
    assert "gan.epochz" in r.stderr
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_missing_files_offline_names_them(run, tmp_path):
    r = run("demo", "--dataset", "mnist", "--data-dir", str(tmp_path / "nodata"), "--set", "data.download=false",
            "--out", str(tmp_path / "run"))
    assert r.exit_code == 2
    assert "train-images-idx3-ubyte.gz" in r.stderr and str(tmp_path / "nodata" / "mnist") in r.stderr


def test_bad_architecture_options_fail_before_the_run_folder_exists(run, tmp_path):
    for command in ("demo", "train-gan"):
        r = run(command, "--out", str(tmp_path / command), "--set", "gan.generator_kwargs={colour: 3}")
        assert r.exit_code == 2
        assert "cdcgan" in r.stderr and "colour" in r.stderr
        assert not (tmp_path / command).exists()
