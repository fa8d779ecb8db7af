"""Training and inference speed of the graph models on a PEMF-sized landmark set, on this machine's CPU.

For every model and both spatial graph-convolution implementations (dense matrix product, torch-geometric
message passing) it measures one training epoch (forward, backward and Adam step over 272 clips of 20
frames x 68 landmarks x 2 coordinates, in batches) and the inference latency of one clip, and prints
the medians of several repeats next to the issue's targets (STGCN-LSTM epoch < 1 s, < 5 ms per clip;
``stgcn-ref`` epoch < 1 s at batch 10). For ``stgcn-ref`` it also times each part of one training step at
the shapes the model sees, so the epoch's floor, the parts whose size the paper fixes, is printed beside
the target.

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


def _forward_backward_ms(part: torch.nn.Module, inputs: torch.Tensor, repeats: int) -> float:
    """Median milliseconds of one forward and backward pass of ``part`` on a leaf copy of ``inputs``."""
    leaf = inputs.detach().clone().requires_grad_(True)
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        out = part(leaf)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[2:])


def reference_step_parts(model: torch.nn.Module, batch: torch.Tensor, repeats: int = 10) -> dict[str, float]:
    """Milliseconds of forward + backward of each part of one ``stgcn-ref`` training step on ``batch``,
    summed over the blocks. Each part's input is captured from a real forward pass."""
    parts = {"entry convolutions": [], "recurrent layers": [], "attention (all)": [], "temporal convolutions": [],
             "dropout": [], "head": []}
    captured = []
    for block in model.blocks:
        for name, part in (("entry convolutions", block.entry), ("recurrent layers", block.attention.recurrent),
                           ("attention (all)", block.attention), ("temporal convolutions", block.temporal),
                           ("dropout", block.dropout)):
            captured.append(part.register_forward_pre_hook(
                lambda module, args, name=name: parts[name].append((module, args[0]))))
    captured.append(model.head.register_forward_pre_hook(lambda module, args: parts["head"].append((module, args[0]))))
    model.train()
    model(batch)
    for hook in captured:
        hook.remove()
    times = {name: sum(_forward_backward_ms(module, inputs, repeats) for module, inputs in calls)
             for name, calls in parts.items()}
    times["pair scoring and mixing"] = times.pop("attention (all)") - times["recurrent layers"]
    return times


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
    if "stgcn-ref" in args.models:
        torch.manual_seed(args.seed)
        model = models.create("stgcn-ref", num_classes=int(y.max()) + 1)
        parts = reference_step_parts(model, x[: args.batch_size], args.repeats * 5)
        steps = -(-args.clips // args.batch_size)
        print(f"stgcn-ref, one training step of {args.batch_size} clips, forward + backward per part (ms): "
              + ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items()))
        fixed = sum(parts[name] for name in ("entry convolutions", "recurrent layers", "temporal convolutions", "head"))
        print(f"stgcn-ref: the parts the paper fixes (convolutions, recurrent layers, head) alone take {fixed:.1f} ms "
              f"per step, {fixed * steps / 1000:.2f} s per epoch of {steps} steps (target < {TARGET_EPOCH_S:.0f} s); "
              f"measured epoch {results[('stgcn-ref', None)]['epoch_s']:.2f} s")
    lstm = results.get(("stgcn-lstm", "dense"))
    if lstm:
        print(
            f"targets: STGCN-LSTM epoch {lstm['epoch_s']:.2f} s (target < {TARGET_EPOCH_S:.0f} s), "
            f"{lstm['latency_ms']:.1f} ms per clip (target < {TARGET_LATENCY_MS:.0f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
