"""The Ray executor: a 2-cell grid on a local Ray started here gives the table of the local executor."""

import json

import pytest
import torch

from ganaug.runner import load_grid, load_results, run_grid

ray = pytest.importorskip("ray", reason="the Ray executor needs the optional extra: pip install 'ganaug[ray]'")



def table(folder):
    data = load_results(folder)
    data.pop("run_dir")
    return json.loads(json.dumps(data))


def test_two_cell_grid_on_local_ray_matches_local_executor(tmp_path):
    layers = [{"task": "ssl", "config": {"data": {"dataset": "digits"}, "steps": 40, "eval_every": 20, "labeled": [0.3],
                                         "generation_metrics": False},
               "grid": {"algorithms": ["supervised", "semi-cnn"]}, "baseline": {"algorithms": "supervised"}}]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a Ray task with cpus_per_cell 1
    try:
        run_grid(load_grid(None, *layers, {"out": str(tmp_path / "local")}), "test", log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    # One CPU: one Ray worker runs both cells in turn (a second worker only adds its python+torch start).
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        lines = []
        run_grid(load_grid(None, *layers, {"out": str(tmp_path / "ray"), "executor": "ray"}), "test", log=lines.append)
    finally:
        ray.shutdown()
    assert lines[0].startswith("2 cells, 0 finished, 2 to run (ray)")
    assert sorted(p.parent.name for p in (tmp_path / "ray").glob("cells/*/result.json")) == [
        "algorithms=semi-cnn,repeat=0", "algorithms=supervised,repeat=0"]
    assert table(tmp_path / "ray") == table(tmp_path / "local")
