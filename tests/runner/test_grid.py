"""Grid expansion and validation, and a killed grid that resumes to the table of an unbroken run."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ganaug.cli import app
from ganaug.config import ConfigError
from ganaug.runner import expand, load_grid, load_results
from ganaug.runner.grid import check_cells

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "smoke-grid.yaml"


def write_grid(tmp_path, **grid):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    return path


def test_smoke_grid_expands_to_cells_with_one_item_of_list_axes(tmp_path):
    grid = load_grid(SMOKE, {"out": str(tmp_path)})
    cells = expand(grid, tmp_path)
    assert len(cells) >= 8 and len(grid.grid) >= 2 and grid.repeats == 2
    first = cells[0]
    assert first["config"]["algorithms"] == ["supervised"] and first["config"]["labeled"] == [0.1]
    assert first["config"]["repeats"] == 1 and first["config"]["out"] == str(tmp_path / "cells" / first["id"])
    assert [c["seed"] for c in cells[:2]] == [0, 1]
    assert len({c["id"] for c in cells}) == len(cells)


@pytest.mark.parametrize("grid, message", [
    ({"task": "ssl", "config": {"stepz": 10}}, "stepz"),
    ({"task": "ssl", "config": {"steps": "many"}}, "steps"),
    ({"task": "ssl", "grid": {"algorithms": ["supervised", "no-such-method"]}}, "no-such-method"),
    ({"task": "nope"}, "unknown task 'nope'"),
    ({"task": "ssl", "grid": {"labeled": []}}, "grid.labeled"),
    ({"task": "ssl", "grid": {"labeled": [0.1]}, "baseline": {"algorithms": "supervised"}}, "baseline.algorithms"),
    ({"task": "ssl", "repeat": 2}, "repeat"),
])
def test_bad_grids_fail_naming_the_key(tmp_path, grid, message):
    with pytest.raises(ConfigError, match=message):
        cfg = load_grid(write_grid(tmp_path, **grid))
        expand(cfg, tmp_path)


def test_impossible_cell_fails_before_any_training(tmp_path):
    """semi-cnn with every image labelled has nothing unlabelled to learn from: an error names cell and setting."""
    cfg = load_grid(write_grid(tmp_path, task="ssl", config={"data": {"dataset": "digits"}},
                               grid={"algorithms": ["supervised", "semi-cnn"], "labeled": [0.5, 1.0]}),
                    {"out": str(tmp_path / "run")})
    cells = expand(cfg, tmp_path / "run")
    with pytest.raises(ConfigError, match=r"algorithms=semi-cnn,labeled=1\.0.*semi-cnn would have no unlabelled"):
        check_cells(cfg, cells)
    assert not (tmp_path / "run").exists()


def ganaug(*args, **kwargs):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "ganaug.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def results_json(folder: Path) -> dict:
    data = load_results(folder)
    data.pop("run_dir")
    return json.loads(json.dumps(data))


# The smoke grid, shortened: supervised only (the cheapest cells), 2 labelled amounts x 2 repeats, 60 iterations
# with a checkpoint every 20.
SHORT = ["--set", "config.steps=60", "--set", "config.checkpoint_every=20", "--set", "config.eval_every=20",
         "--set", "grid.algorithms=[supervised]"]


def test_grid_killed_mid_cell_resumes_to_the_same_table(tmp_path):
    """The unbroken run and the resume run in this process (``ganaug run`` through CliRunner; the unbroken one with
    ``workers=1``, cell after cell, whose table every executor must give); only the run that is killed is a
    ``ganaug`` process of its own, with its 2 spawned workers."""
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    result = CliRunner().invoke(app, ["run", str(SMOKE), "--out", str(whole), *SHORT, "--set", "workers=1"])
    assert result.exit_code == 0, result.output

    proc = ganaug("run", str(SMOKE), "--out", str(broken), *SHORT, start_new_session=True)
    deadline, mid = time.time() + 300, []
    while time.time() < deadline:  # wait until some cell is mid-way: a checkpoint and no result yet
        mid = [c for c in broken.glob("cells/*") if not (c / "result.json").exists() and any(c.rglob("last.json"))]
        if mid and any((c / "result.json").exists() for c in broken.glob("cells/*")):
            break
        time.sleep(0.05)
    workers = descendants(proc.pid)
    assert len(workers) >= 2  # the two cell workers (and multiprocessing's helpers)
    os.kill(proc.pid, signal.SIGKILL)  # the runner alone, as `kill -9 PID` or the OOM killer would
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "processes of the killed run survived it"
    assert not (mid[0] / "result.json").exists()

    result = CliRunner().invoke(app, ["run", str(SMOKE), "--out", str(broken), *SHORT])
    out = result.output
    assert result.exit_code == 0, out
    assert "finished" in out and " 0 finished" not in out  # the finished cells were skipped
    for path in broken.rglob("*.json"):  # atomic writes: no torn file anywhere
        json.loads(path.read_text())
    assert results_json(broken) == results_json(whole)


def test_unknown_architecture_in_a_gan_grid_fails_naming_the_cell(tmp_path):
    cfg = load_grid(write_grid(tmp_path, task="gan", grid={"gan.architecture": ["cdcgan", "no-such-gan"]}),
                    {"out": str(tmp_path / "run")})
    with pytest.raises(ConfigError, match=r"grid cell architecture=no-such-gan,repeat=0: .*unknown generator"):
        check_cells(cfg, expand(cfg, tmp_path / "run"))


def test_the_repeats_of_a_cell_config_are_checked_once(tmp_path, monkeypatch):
    """Each check may load the dataset (a minute for CIFAR-10): 2 architectures x 3 repeats are 2 checks, not 6."""
    from ganaug.experiments import gan_study

    checked = []
    monkeypatch.setattr(gan_study, "check_gan_study", lambda cfg: checked.append((cfg.gan.architecture, cfg.seed)))
    cfg = load_grid(write_grid(tmp_path, task="gan", grid={"gan.architecture": ["cdcgan", "biggan"]}, repeats=3),
                    {"out": str(tmp_path / "run")})
    check_cells(cfg, expand(cfg, tmp_path / "run"))
    assert checked == [("cdcgan", 0), ("biggan", 0)]


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*grid*.yaml")), ids=lambda p: p.name)
def test_every_grid_config_expands_to_valid_cells(tmp_path, path):
    grid = load_grid(path, {"out": str(tmp_path)})
    cells = expand(grid, tmp_path)
    assert len(cells) == grid.repeats * math.prod(len(v) for v in grid.grid.values())


def test_a_grid_over_a_study_file_keeps_its_scale_and_variants(tmp_path):
    """config_file + scale start every cell from an experiment's own YAML; grid keys and axes go over it."""
    path = write_grid(tmp_path, task="augment", config_file=str(ROOT / "configs" / "augment-longtail.yaml"),
                      scale="cpu", config={"variant": "rho10", "classifier": {"steps": 50}},
                      grid={"classifiers": ["lenet5", "resnet18"]}, repeats=2)
    cells = expand(load_grid(path), tmp_path)
    assert len(cells) == 4
    cfg = cells[-1]["config"]
    assert cfg["classifiers"] == ["resnet18"] and cfg["classifier"]["steps"] == 50 and cfg["classifier"]["repeats"] == 1
    assert cfg["imbalance"]["rho"] == 10.0 and cfg["scale"] == "cpu" and cfg["train_per_class"] == 500
    assert cfg["seed"] == 1 and cfg["out"] == str(tmp_path / "cells" / "classifiers=resnet18,repeat=1")
