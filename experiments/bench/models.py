"""Training and inference speed of the graph models on a PEMF-sized landmark set, on this machine's CPU.

For every model and both spatial graph-convolution implementations (dense matrix product, torch-geometric
message passing) it measures one training epoch (forward, backward and Adam step over 272 clips of 20
frames x 68 landmarks x 2 coordinates, in batches) and the inference latency of one clip, and prints
the medians of several repeats next to the issue's targets (STGCN-LSTM epoch < 1 s, < 5 ms per clip).

    python -m experiments.bench.models [--clips 272] [--batch-size 32] [--repeats 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

import models

TARGET_EPOCH_S = 1.0
TARGET_LATENCY_MS = 5.0


def epoch_seconds(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Wall time of one training epoch (shuffled batches, cross-entropy, fused Adam as in training)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
    model.train()
    order = torch.randperm(len(x))
    start = time.perf_counter()
    for first in range(0, len(x), batch_size):
        batch = order[first : first + batch_size]
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimiser.step()
    return time.perf_counter() - start


@torch.no_grad()
def latency_ms(model: torch.nn.Module, x: torch.Tensor, clips: int = 30) -> float:
    """Median wall time of classifying one clip (batch of 1, evaluation mode)."""
    model.eval()
    times = []
    for index in range(clips):
        start = time.perf_counter()
        model(x[index : index + 1])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(name: str, implementation: str | None, x, y, batch_size: int, repeats: int, seed: int) -> dict:
    torch.manual_seed(seed)
    options = {} if implementation is None else {"implementation": implementation}
    model = models.create(name, num_classes=int(y.max()) + 1, **options)
    epoch_seconds(model, x[: 2 * batch_size], y[: 2 * batch_size], batch_size)  # warm-up
    epochs = [epoch_seconds(model, x, y, batch_size) for _ in range(repeats)]
    return {"epoch_s": statistics.median(epochs), "latency_ms": latency_ms(model, x)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=272, help="clips in the synthetic set (PEMF: 272)")
    parser.add_argument("--frames", type=int, default=20, help="frames per clip (PEMF: 20)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="epochs measured per model (median reported)")
    parser.add_argument("--models", nargs="+", default=["stgcn", "stgcn-lstm", "stgcn-ref"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.clips, 2, args.frames, 68, generator=generator)
    y = torch.randint(0, 2, (args.clips,), generator=generator)
    print(
        f"{args.clips} clips x {args.frames} frames x 68 points x 2, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    print(f"{'model':<14}{'graph conv':<12}{'epoch (s)':>10}{'per clip (ms)':>15}")
    results = {}
    for name in args.models:
        implementations = models.IMPLEMENTATIONS if name.startswith("stgcn") and name != "stgcn-ref" else (None,)
        for implementation in implementations:
            result = measure(name, implementation, x, y, args.batch_size, args.repeats, args.seed)
            results[(name, implementation)] = result
            label = implementation or "attention"
            print(f"{name:<14}{label:<12}{result['epoch_s']:>10.2f}{result['latency_ms']:>15.1f}", flush=True)
    for name in args.models:
        pair = [results.get((name, i)) for i in models.IMPLEMENTATIONS]
        if all(pair):
            faster = min(zip(models.IMPLEMENTATIONS, pair, strict=True), key=lambda item: item[1]["epoch_s"])[0]
            print(f"{name}: faster graph convolution for training is {faster}")
    lstm = results.get(("stgcn-lstm", "dense"))
    if lstm:
        print(
            f"targets: STGCN-LSTM epoch {lstm['epoch_s']:.2f} s (target < {TARGET_EPOCH_S:.0f} s), "
            f"{lstm['latency_ms']:.1f} ms per clip (target < {TARGET_LATENCY_MS:.0f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
