"""Wall time of a full five-fold, 150-epoch STGCN-LSTM cross-validation on a PEMF-sized landmark set.

Writes 272 synthetic clips (20 frames, 68 points; the package's pain action-unit generator, 17 subjects,
PEMF's pain/no-pain balance) to a temporary folder, runs ``experiments.train_graph`` with the
``ridouan2025`` preset (SMOTE, batch 10, Adam 1e-4 with decay, 150 epochs, no early stopping) and prints
the wall time next to the issue's target (under 3 minutes on 2 CPU cores), the scores it reached, and
how many optimiser steps the run took and the wall time per step, which is where the time goes. Last, the
arithmetic the target asks for: the floating-point operations of one training step (PyTorch's FLOP
counter) times the run's steps, divided by 180 s, next to the run's own rate and the rate a large matrix
product reaches on this machine's threads (an upper bound for any training step).

    python -m experiments.bench.cross_validation [--epochs 150] [--batch-size 10] [--jobs 1] [--seed 0]

``--jobs 2`` trains two folds at a time in worker processes of one thread each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from experiments.graph_branch import settings_for
from experiments.reports import results_table
from experiments.train_graph import train_graph
from landmarks import write_synthetic_dataset

TARGET_S = 180.0
TARGET_EPOCHS = 150


def training_step_flops(model: torch.nn.Module, batch: int, channels: int, frames: int = 20, classes: int = 2) -> int:
    """Floating-point operations of one forward and backward pass on a batch of (batch, channels, frames, 68)
    clips, as PyTorch's FLOP counter counts them: matrix products and convolutions (the LSTM kernels are not
    counted, so this is a lower bound)."""
    x = torch.randn(batch, channels, frames, 68)
    y = torch.arange(batch) % classes
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    return counter.get_total_flops()


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a large float32 matrix product on all of torch's threads: about the most this machine
    computes per second."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--model", default="stgcn-lstm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="folds trained at once (worker processes)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "landmarks"
        # 17 subjects x 16 clips = 272, pain (phasic + tonic) 10 and no pain 6 per subject
        labels = write_synthetic_dataset(data, subjects=17, clips_per_class={"neutral": 6, "phasic": 5, "tonic": 5},
                                         seed=args.seed)
        binary = labels.assign(label=labels["label"].map({"neutral": "no_pain", "phasic": "pain", "tonic": "pain"}))
        binary.to_csv(Path(folder) / "binary.csv", index=False)
        started = time.perf_counter()
        metrics = train_graph(data, Path(folder) / "run", labels=Path(folder) / "binary.csv", preset="ridouan2025",
                              model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                              seed=args.seed, jobs=args.jobs)
        elapsed = time.perf_counter() - started
    steps = sum(fold["optimiser_steps"] for fold in metrics["folds"])
    print(results_table(metrics))
    print(
        f"{len(labels)} clips, {args.model}, 5 folds x {args.epochs} epochs, batch {args.batch_size}, "
        f"{args.jobs} fold(s) at a time on {torch.get_num_threads()} threads: {elapsed:.0f} s "
        f"(target < {TARGET_S:.0f} s)"
    )
    # the preset trains every epoch (no early stopping), so 150 epochs take 150 / epochs times the steps
    target_steps = round(steps * TARGET_EPOCHS / args.epochs)
    print(f"{steps} optimiser steps of {args.batch_size} clips: {elapsed / steps * 1000:.1f} ms of wall time per step, "
          f"validation and start-up included; the target's {TARGET_EPOCHS} epochs ({target_steps} steps) in "
          f"{TARGET_S:.0f} s need {TARGET_S / target_steps * 1000:.1f} ms per step")
    settings = settings_for("ridouan2025", model=args.model, batch_size=args.batch_size)
    torch.manual_seed(args.seed)
    channels = settings.data.channels
    model = settings.build_model(len(metrics["classes"]))
    step_flops = training_step_flops(model, args.batch_size, channels, settings.data.length)
    needed = step_flops * target_steps / TARGET_S / 1e9
    print(f"one step counts {step_flops / 1e9:.2f} GFLOP (matrix products and convolutions, forward and backward): "
          f"{TARGET_S:.0f} s needs {needed:.0f} GFLOP/s sustained, this run reached "
          f"{step_flops * steps / elapsed / 1e9:.0f}, and a 2048 x 2048 matrix product reaches "
          f"{matmul_gflops():.0f} on this machine's {torch.get_num_threads()} threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
