"""GAN training beside another job: seconds for the same cdcgan steps alone and beside a competing 2-thread
torch job, at a fixed 2 threads (torch's default on 2 cores) and at ganaug's automatic choice (ganaug.threads).

The competitor is a separate process multiplying 1024x1024 matrices on 2 threads, as another user's job would.
Everything runs in one invocation, alternating, so the ratios compare like with like on a noisy shared machine.

Run: ``.venv/bin/python benchmarks/contention.py [--steps 200] [--rounds 2]``; the last line is
``slowdown beside a 2-thread job: fixed 2 threads X.XXx, automatic Y.YYx`` (goal: automatic <= 2.5x).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import torch

from ganaug import threads
from ganaug.config import GANConfig
from ganaug.data import load_dataset
from ganaug.gan.trainer import train_gan

COMPETITOR = ("import torch; torch.set_num_threads(2); a = torch.randn(1024, 1024); "
              "print('ready', flush=True)\nwhile True: a @ a")


def gan_seconds(steps: int, n_threads: int) -> float:
    """Wall time of ``steps`` generator updates of the default cdcgan on digits (batch 64) at ``n_threads``."""
    torch.set_num_threads(n_threads)
    digits = load_dataset("digits").train
    tic = time.perf_counter()
    train_gan(GANConfig(steps=steps), digits, seed=0, device=torch.device("cpu"), progress=False)
    return time.perf_counter() - tic


def automatic() -> int:
    os.environ.pop("GANAUG_THREADS", None)
    return threads.decide()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each is kept")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {threads.usable_cores()} usable cores, cdcgan {args.steps} steps on digits")
    gan_seconds(20, 2)  # warm-up
    best: dict[str, float] = {}
    for r in range(args.rounds):
        auto_alone = automatic()
        times = {"alone, 2 threads": gan_seconds(args.steps, 2),
                 f"alone, automatic": gan_seconds(args.steps, auto_alone)}
        job = subprocess.Popen([sys.executable, "-c", COMPETITOR], stdout=subprocess.PIPE, text=True)
        try:
            job.stdout.readline()
            time.sleep(1.0)  # let it settle on its cores
            auto_beside = automatic()
            times["beside, 2 threads"] = gan_seconds(args.steps, 2)
            times["beside, automatic"] = gan_seconds(args.steps, auto_beside)
        finally:
            job.kill()
            job.wait()
        print(f"round {r + 1}: automatic chose {auto_alone} thread(s) alone, {auto_beside} beside the job; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        for k, v in times.items():
            best[k] = min(best.get(k, v), v)
    print("best of rounds: " + ", ".join(f"{k} {v:.1f} s" for k, v in best.items()))
    print(f"alone: automatic / 2 threads = {best['alone, automatic'] / best['alone, 2 threads']:.2f}x")
    print(f"slowdown beside a 2-thread job: fixed 2 threads "
          f"{best['beside, 2 threads'] / best['alone, 2 threads']:.2f}x, automatic "
          f"{best['beside, automatic'] / best['alone, automatic']:.2f}x")


if __name__ == "__main__":
    main()
