"""Progress of long runs: a line per epoch in a log file, phase lines with --no-progress, bars in the options' unit,
and trainers that say where they resume."""

import io
import re

import pytest
import torch

from ganaug import threads
from ganaug.classifier.trainer import train_classifier
from ganaug.config import ClassifierConfig, GANConfig, SSLConfig
from ganaug.data import load_dataset
from ganaug.data import splits as S
from ganaug.gan.trainer import train_gan
from ganaug.runtime import EpochProgress
from ganaug.ssl.trainer import train_ssl

CPU = torch.device("cpu")
LONG = "a_scalar_with_a_name_long_enough_to_pass_eighty_columns"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def every_epoch(monkeypatch):
    """A line for every epoch (the real interval, 2 s, would drop most of these sub-second epochs); no threads line
    (an earlier CLI test in this process may have turned the automatic thread choice on)."""
    monkeypatch.setattr(EpochProgress, "line_every_s", 0.0)
    monkeypatch.setattr(threads, "_auto", None)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):  # rich's own overrides of the terminal check
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def two_epochs(stream, **kwargs) -> None:
    """What the GAN trainer does for ``steps=30`` on a dataset of 22 batches: 2 whole epochs."""
    with EpochProgress("GAN", 44, epochs=2, asked=30, stream=stream, **kwargs) as bar:
        for _ in range(2):
            bar.epoch_done(22 * 64, 22, loss_d=0.61234, **{LONG: 1.5})


def test_a_log_file_gets_one_whole_line_per_epoch_with_epoch_and_step_counts():
    log = io.StringIO()  # not a terminal
    two_epochs(log)
    lines = log.getvalue().splitlines()
    assert lines[0] == "GAN: training 44 steps (2 whole epochs; 30 asked)"
    assert re.fullmatch(rf"GAN  epoch 1/2  step 22/44  loss_d 0\.612  {LONG} 1\.500  [\d,]+ img/s  "
                        r"elapsed 0:00:00  eta 0:00:00", lines[1])
    assert lines[2].startswith("GAN  epoch 2/2  step 44/44  loss_d 0.612") and len(lines[2]) > 120  # not cut at 80
    assert re.fullmatch(r"GAN: done, 44 steps \(2 whole epochs; 30 asked\) in \d\.\d s, [\d,]+ img/s", lines[3])
    assert len(lines) == 4


def test_epoch_lines_come_at_most_once_per_interval_and_the_last_always(monkeypatch):
    monkeypatch.setattr(EpochProgress, "line_every_s", 3600.0)
    log = io.StringIO()
    with EpochProgress("baseline #1", 5 * 22, epochs=5, unit="epoch", stream=log) as bar:
        for _ in range(5):
            bar.epoch_done(22 * 64, 22, loss=1.0)
    lines = log.getvalue().splitlines()
    assert lines[0] == "baseline #1: training 5 epochs (110 steps)"
    assert [line.split("  ")[1:3] for line in lines[1:3]] == [["epoch 1/5", "step 22/110"], ["epoch 5/5", "step 110/110"]]
    assert lines[3].startswith("baseline #1: done, 5 epochs (110 steps) in ") and len(lines) == 4


def test_no_progress_says_when_each_phase_starts_and_ends_and_nothing_per_epoch():
    log = io.StringIO()
    two_epochs(log, enabled=False)
    first, last = log.getvalue().splitlines()
    assert first == "GAN: training 44 steps (2 whole epochs; 30 asked)"
    assert last.startswith("GAN: done, 44 steps (2 whole epochs; 30 asked) in 0.")


def test_without_epochs_the_lines_count_steps_only():
    log = io.StringIO()
    with EpochProgress("fixmatch", 3000, 2500, enabled=True, resumed_from="run/last", stream=log) as bar:
        bar.epoch_done(500 * 64, 500, loss=0.5)
    lines = log.getvalue().splitlines()
    assert lines[:2] == ["fixmatch: resuming from step 2,500 of run/last", "fixmatch: training 500 more steps, to 3,000 steps"]
    assert lines[2].startswith("fixmatch  step 3,000/3,000  loss 0.500  ") and lines[3].startswith("fixmatch: done, 3,000 steps in")


def test_a_time_budget_is_said_in_the_start_line():
    """Equal wall-clock runs set steps very high and stop on time: the start line must not read as a promise."""
    log = io.StringIO()
    with EpochProgress("GAN", 1_000_040, epochs=58_826, enabled=False, stream=log, asked=1_000_000,
                       budget="300 s (gan.time_budget_s)"):
        pass
    assert log.getvalue().splitlines() == [
        "GAN: training for 300 s (gan.time_budget_s), at most 1,000,040 steps (58,826 whole epochs; 1,000,000 asked)"]


def test_silent_ranks_print_nothing():
    log = io.StringIO()
    two_epochs(log, silent=True, resumed_from="x")
    assert log.getvalue() == ""


def test_on_a_terminal_the_bar_counts_steps_or_epochs_as_the_options_do():
    tty = Terminal()
    with EpochProgress("GAN", 44, epochs=2, asked=30, stream=tty) as bar:
        assert bar.mode == "bar"
        bar.epoch_done(22 * 64, 22)
        assert (bar._progress.tasks[0].completed, bar._progress.tasks[0].total) == (22, 44)
        bar.epoch_done(22 * 64, 22)
    assert "44/44 steps" in tty.getvalue() and "GAN: done, 44 steps (2 whole epochs; 30 asked) in " in tty.getvalue()
    tty = Terminal()
    with EpochProgress("GAN", 44, epochs=2, unit="epoch", stream=tty) as bar:
        bar.epoch_done(22 * 64, 22)
        assert (bar._progress.tasks[0].completed, bar._progress.tasks[0].total) == (1, 2)
        bar.epoch_done(22 * 64, 22)
    assert "2/2 epochs" in tty.getvalue() and "GAN: done, 2 epochs (44 steps) in " in tty.getvalue()


def test_gan_counts_generator_updates_in_whole_epochs_and_says_where_it_resumes(digits, tmp_path, capsys):
    """``steps=30`` trains whole epochs (a checkpoint is an epoch's end), and says so with the real count."""
    cfg = GANConfig(steps=30, g_width=8, d_width=8, z_dim=8, batch_size=64, checkpoint_every=1,
                    collapse_warning=0)  # an 8-wide GAN after one epoch is collapsed: no warning line here
    per_epoch = len(digits.train) // 64
    assert 15 <= per_epoch < 30  # so 30 steps round up to 2 epochs
    done = train_gan(cfg, digits.train, 0, CPU, tmp_path, progress=False)
    assert sum(row["g_updates"] for row in done.history) == 2 * per_epoch
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"GAN: training {2 * per_epoch} steps (2 whole epochs; 30 asked)" and len(lines) == 2
    assert lines[1].startswith(f"GAN: done, {2 * per_epoch} steps (2 whole epochs; 30 asked) in ")
    train_gan(cfg.model_copy(update={"steps": 3 * per_epoch}), digits.train, 0, CPU, tmp_path, progress=False)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"GAN: resuming from step {2 * per_epoch} (epoch 2) of {tmp_path / 'last'}"
    assert lines[1] == f"GAN: training {per_epoch} more steps, to {3 * per_epoch} steps (3 whole epochs)"
    assert lines[2].startswith(f"GAN: done, {3 * per_epoch} steps (3 whole epochs) in ") and len(lines) == 3
    train_gan(cfg.model_copy(update={"steps": 3 * per_epoch}), digits.train, 0, CPU, tmp_path, progress=False)
    assert capsys.readouterr().err.splitlines()[1] == f"GAN: nothing to train, {3 * per_epoch} steps (3 whole epochs)"


def test_classifier_and_ssl_say_where_they_resume(digits, tmp_path, capsys):
    cfg = ClassifierConfig(epochs=1, width=4)
    for epochs in (1, 2):
        train_classifier(cfg.model_copy(update={"epochs": epochs}), digits.train, 0, CPU,
                         checkpoint_dir=tmp_path / "c", progress=False, title="baseline #1")
    per_epoch = len(digits.train) // cfg.batch_size
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"baseline #1: training 1 epoch ({per_epoch} steps)"
    assert lines[2:4] == [f"baseline #1: resuming from step {per_epoch} (epoch 1) of {tmp_path / 'c' / 'last'}",
                          f"baseline #1: training {per_epoch} more steps, to 2 epochs ({2 * per_epoch} steps)"]

    labeled, unlabeled = S.take_per_class(digits.train, [5] * 10, seed=0)
    ssl = SSLConfig(steps=4, eval_every=2, checkpoint_every=2, batch_size=16, unlabeled_batch_size=16)
    train_ssl(ssl, "supervised", labeled, unlabeled, 0, CPU, checkpoint_dir=tmp_path / "s")
    train_ssl(ssl.model_copy(update={"steps": 6}), "supervised", labeled, unlabeled, 0, CPU, checkpoint_dir=tmp_path / "s")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "supervised: training 4 steps"  # no epochs: a line per evaluation, counting steps
    assert lines[1].startswith("supervised  step 2/4  loss ") and lines[2].startswith("supervised  step 4/4  loss ")
    assert lines[4:6] == [f"supervised: resuming from step 4 of {tmp_path / 's' / 'last'}",
                          "supervised: training 2 more steps, to 6 steps"]


def test_a_resumed_run_under_a_time_budget_says_it_trains_on_not_how_many_steps_remain():
    log = io.StringIO()
    with EpochProgress("GAN", 1_000_029, 93, epochs=10_753, start_epoch=1, enabled=False, stream=log,
                       asked=1_000_000, resumed_from="gan/last", budget="120 s (gan.time_budget_s)"):
        pass
    assert log.getvalue().splitlines()[:2] == [
        "GAN: resuming from step 93 (epoch 1) of gan/last",
        "GAN: training on for 120 s (gan.time_budget_s), at most 1,000,029 steps (10,753 whole epochs; 1,000,000 asked)"]
