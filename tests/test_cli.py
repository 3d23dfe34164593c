"""User errors reach the terminal as one actionable line and exit code 2, before anything trains."""

import subprocess
import sys


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ganaug.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_unknown_dataset(tmp_path):
    r = run("demo", "--dataset", "imagenet9", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2
    assert "unknown dataset 'imagenet9'" in r.stderr and "mnist" in r.stderr


def test_unknown_config_key(tmp_path):
    r = run("demo", "--set", "gan.epochz=3", cwd=tmp_path)
    assert r.returncode == 2
    assert "gan.epochz" in r.stderr
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_missing_files_offline_names_them(tmp_path):
    r = run("demo", "--dataset", "mnist", "--data-dir", str(tmp_path / "nodata"), "--set", "data.download=false",
            "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2
    assert "train-images-idx3-ubyte.gz" in r.stderr and str(tmp_path / "nodata" / "mnist") in r.stderr


def test_bad_architecture_options_fail_before_the_run_folder_exists(tmp_path):
    for command in ("demo", "train-gan"):
        r = run(command, "--out", str(tmp_path / command), "--set", "gan.generator_kwargs={colour: 3}", cwd=tmp_path)
        assert r.returncode == 2
        assert "cdcgan" in r.stderr and "colour" in r.stderr
        assert not (tmp_path / command).exists()
