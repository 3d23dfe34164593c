"""Training under torchrun: 2 gloo processes on loopback against 1 process with the same global batch.

``distributed_worker.py`` trains a classifier, a GAN and semi-supervised algorithms on digits, once in one
process and once under ``torchrun --standalone --nproc_per_node=2`` (both at once). Measured on CPU with
torch 2.13: the BatchNorm- and dropout-free runs end within 5e-7 of one process (weights, test logits), so
they are held to 1e-5; BatchNorm models differ by design (per-rank batch statistics) and are compared in
metrics: validation accuracy 0.83 vs 0.78 and loss 0.68 vs 0.75 for the classifier after 3 epochs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganaug import distributed as dist
from ganaug.augment.sampling import DifficultyWeightedSampler
from ganaug.checkpoint import Checkpoint
from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassifierConfig, ConfigError
from ganaug.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("distributed_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
EXACT = ("classifier", "gan", "ssl_dist-test-gan")  # free of BatchNorm and dropout


def environment() -> dict[str, str]:
    """This checkout's package, one thread per process, gloo on the loopback interface only."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}


def finish(proc: subprocess.Popen, what: str) -> str:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{what} failed:\n{out[-4000:]}"
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(one process, rank 0, rank 1): each a dict of tensors and a dict of histories."""
    single, two = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("two")
    kw = dict(env=environment(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(single)], **kw),
             subprocess.Popen([*TORCHRUN, str(WORKER), str(two)], **kw)]
    finish(procs[0], "the one-process run"), finish(procs[1], "the 2-process torchrun")
    return tuple((load_file(str(folder / f"{tag}.safetensors")), json.loads((folder / f"{tag}.json").read_text()))
                 for folder, tag in ((single, "single"), (two, "rank0"), (two, "rank1")))


def group(tensors: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    return {k: v for k, v in tensors.items() if k.split(".")[0] == name}


def test_every_rank_ends_with_the_same_weights_buffers_and_predictions(runs):
    (_, _), (rank0, hist0), (rank1, hist1) = runs
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    for name in hist0:  # the logged losses are the means over the ranks
        for a, b in zip(hist0[name], hist1[name], strict=True):
            timing = ("images_per_s", "seconds")
            assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}


@pytest.mark.parametrize("name", EXACT)
def test_without_batchnorm_two_processes_match_one(runs, name):
    """Classifier (weighted sampler, class-weighted loss), GAN (class-balanced batches, DiffAugment, R1, EMA, ADA,
    LeCam, bCR) and a semi-supervised GAN (D partly used in G's update): the same weights, logits and losses up to
    float sums."""
    (single, hist), (rank0, hist0), _ = runs
    ours, theirs = group(single, name), group(rank0, name)
    assert ours and ours.keys() == theirs.keys()
    for key in ours:
        torch.testing.assert_close(theirs[key], ours[key], atol=1e-5, rtol=1e-4, msg=key)
    for a, b in zip(hist[name], hist0[name], strict=True):
        for key in a:
            if key not in ("images_per_s", "seconds"):
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-5), (name, key)


def test_with_batchnorm_metrics_match_one_process(runs):
    """Per-rank batch statistics change the trajectory, not what is learned: close final metrics."""
    (single, hist), (rank0, hist0), _ = runs
    a, b = hist["classifier_bn"][-1], hist0["classifier_bn"][-1]
    assert a["val_acc"] > 0.7 and b["val_acc"] > 0.7  # both learn (chance: 0.1)
    assert abs(a["val_acc"] - b["val_acc"]) < 0.1
    assert b["loss"] == pytest.approx(a["loss"], rel=0.2)
    agree = (single["classifier_bn.test_logits"].argmax(1) == rank0["classifier_bn.test_logits"].argmax(1)).float()
    assert agree.mean() > 0.8
    for name in ("ssl_supervised", "ssl_triple-gan-attn"):  # 24 iterations: the losses, not yet the accuracy
        last, last0 = hist[name][-1], hist0[name][-1]
        for key in ("loss", "loss_d", "loss_g"):
            if key in last:
                assert last0[key] == pytest.approx(last[key], rel=0.1), (name, key)


def test_resumed_under_ddp_matches_the_uninterrupted_run(runs):
    _, (rank0, hist0), _ = runs
    for straight, resumed in (("classifier", "classifier_resumed"), ("ssl_supervised", "ssl_supervised_resumed")):
        for key, value in group(rank0, resumed).items():
            torch.testing.assert_close(value, rank0[straight + key[len(resumed):]], atol=1e-6, rtol=0, msg=key)
        assert [r["loss"] for r in hist0[resumed]] == pytest.approx([r["loss"] for r in hist0[straight]])


def test_cli_under_torchrun_writes_once_from_rank_0(tmp_path):
    """``ganaug train-gan`` then ``ganaug ssl`` through the entry point (``ganaug.cli.main``) in one torchrun
    (``distributed_worker.py cli``): one set of files, printed once."""
    common = ["--device", "cpu", "--no-progress", "--set"]
    gan = ["train-gan", "--steps", "40", "--out", str(tmp_path / "gan"), *common, "gan.g_width=16", "--set",
           "gan.d_width=16", "--set", "gan.batch_size=32"]
    ssl = ["ssl", "--algorithm", "supervised", "--labeled", "50", "--repeats", "1", "--steps", "16", "--out",
           str(tmp_path / "ssl"), *common, "width=4", "--set", "eval_every=8", "--set", "batch_size=16", "--set",
           "unlabeled_batch_size=16"]
    kw = dict(env=environment(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = finish(subprocess.Popen([*TORCHRUN, str(WORKER), "cli", *gan, "--next", *ssl], **kw), "ganaug under torchrun")
    assert out.count("=== ganaug train-gan") == 1 and out.count("=== ganaug ssl") == 1, out
    printed = out.split("=== ganaug ssl")
    assert printed[0].count("checkpoint:") == 1 and printed[1].count("report:") == 1, out  # the other rank is silent

    out = tmp_path / "gan"
    assert {p.name for p in out.iterdir()} == {"config.yaml", "splits.json", "train.json", "checkpoints"}
    ckpt = Checkpoint(out / "checkpoints" / "gan" / "last")
    assert ckpt.meta["epoch"] == 1 and ckpt.build("generator").num_classes == 10
    assert json.loads((out / "train.json").read_text())["history"] == ckpt.meta["history"]

    out = tmp_path / "ssl"
    run = json.loads((out / "runs" / "supervised" / "50-labels" / "repeat-0.json").read_text())
    assert [r["step"] for r in run["history"]] == [8, 16] and 0 <= run["accuracy"] <= 1
    assert not (out / "runs" / "supervised" / "50-labels" / "checkpoints-0").exists()  # removed once the run was saved
    assert json.loads((out / "metrics.json").read_text())["results"]["supervised"]["50 labels"]["repeats"] == 1
    assert (out / "report.html").exists()


def test_shards_of_the_weighted_sampler_cover_exactly_its_global_batch():
    labels = load_dataset("digits").train.labels
    sampler = DifficultyWeightedSampler(labels, 10)
    sampler.update(labels[:100], (labels[:100] + 1) % 10)  # some classes weigh more now
    for global_batch in sampler.batches(24, torch.Generator().manual_seed(3)):
        for world in (2, 3, 4):
            shards = [dist.shard(global_batch, r, world) for r in range(world)]
            assert [len(s) for s in shards] == [24 // world] * world
            interleaved = torch.stack(shards, 1).flatten()  # rank r holds positions r, r + world, ...
            assert torch.equal(interleaved, global_batch)


def test_a_global_batch_that_does_not_split_evenly_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun sets it; refused before any process group is needed
    with pytest.raises(ConfigError, match=r"classifier\.batch_size=33 .* multiple of 2"):
        train_classifier(ClassifierConfig(batch_size=33), load_dataset("digits").test, 0, torch.device("cpu"),
                         progress=False)


def test_one_process_functions_are_no_ops():
    x = torch.arange(6)
    assert dist.world_size() == 1 and dist.is_main()
    assert dist.shard(x) is x and dist.all_reduce_sum(x) is x and dist.broadcast(x) is x
    module = torch.nn.Linear(2, 2)
    assert dist.wrap(module, torch.device("cpu")) is module and dist.unwrap(module) is module
    assert dist.mean_over_ranks({"loss": 1.5}) == {"loss": 1.5}
    assert dist.on_main(lambda: 7) == 7
