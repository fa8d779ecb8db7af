"""How hard is "hard"? The calibration behind each dynamics task's hard level, from the simple peers alone.

The suite asks a graph model to beat the best simple peer by 0.05 on every hard variant. That margin means
something only where the best peer is neither at chance nor at the ceiling: a peer at 0.98 leaves nothing
to beat it by, a peer at 0.52 says the movement is buried in noise for every model. So each task's hard
level keeps the shared hard noise and timing (``DIFFICULTIES["hard"]``: later, shorter movements, more
jitter, head motion, dropped frames, talking) and takes the movement amplitude, from a grid, at which the
**best simple peer** (frame-average LR, temporal LR, GRU) scores closest to ``--target`` macro-F1 (0.75:
halfway between a two-class chance and perfect). The graph models never enter the calibration, and it
runs on its own seeds (10, 11, 12), not the suite's (0, 1, 2), so the suite's scores are not the ones the
levels were chosen on. The GRU trains at ``experiments.train_graph``'s defaults, as in the suite, so a change
of defaults that strengthens it calls for a new calibration (augmentation did). The chosen amplitudes are
``landmarks.synthetic.dynamics.HARD_AMPLITUDES``.

    python -m experiments.bench.hard_levels [--tasks order speed] [--amplitudes 0.2 0.3 0.4]
        [--seeds 10 11 12] [--target 0.75] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from experiments.bench.dynamics import Variant, best_peer_name, parse_amplitude, score_variant
from experiments.reports import format_table
from landmarks.parallel import run_jobs
from landmarks.synthetic.dynamics import HARD_AMPLITUDES, TASKS

# the GRU first: the linear peers take its folds.csv
CALIBRATION_MODELS = ("GRU", "temporal LR", "frame-average LR")
DEFAULT_AMPLITUDES = (0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def best_peer(by_model: dict[str, list[float]]) -> float:
    """The strongest simple peer's mean macro-F1 over seeds."""
    return statistics.mean(by_model[best_peer_name(by_model)])


def choose_amplitude(best_by_amplitude: dict[float, float], target: float) -> float:
    """The amplitude whose best-peer score is closest to ``target`` (the weaker movement on a tie)."""
    return min(best_by_amplitude, key=lambda a: (abs(best_by_amplitude[a] - target), a))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--amplitudes", type=parse_amplitude, nargs="+", default=list(DEFAULT_AMPLITUDES),
                        help="movement amplitudes to try under the hard noise (1 = the full action units)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[10, 11, 12],
                        help="calibration seeds (keep them apart from the suite's 0, 1, 2)")
    parser.add_argument("--target", type=float, default=0.75, help="the best peer's macro-F1 to aim at")
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--clips-per-class", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="data sets scored at once, each in its own process on one thread")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        variants = [Variant(task, "hard", seed, Path(scratch), CALIBRATION_MODELS, {}, args.subjects,
                            args.clips_per_class, amplitude)
                    for task in args.tasks for amplitude in args.amplitudes for seed in args.seeds]
        results: dict[tuple[str, float], dict[str, list[float]]] = {}
        for index, scores in run_jobs(score_variant, variants, workers=args.jobs,
                                      describe=lambda v: f"{v.task} amplitude {v.amplitude} seed {v.seed}"):
            variant = variants[index]
            by_model = results.setdefault((variant.task, variant.amplitude), {name: [] for name in scores})
            for name, value in scores.items():
                by_model[name].append(value)
            line = "  ".join(f"{name} {value:.3f}" for name, value in scores.items())
            print(f"{variant.task} amplitude {variant.amplitude:g} seed {variant.seed}: {line}  "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    rows, chosen = [], {}
    for task in args.tasks:
        best = {a: best_peer(results[(task, a)]) for a in args.amplitudes}
        chosen[task] = choose_amplitude(best, args.target)
        for amplitude in args.amplitudes:
            by_model = results[(task, amplitude)]
            row = {"task": task, "amplitude": f"{amplitude:g}", "best peer": f"{best[amplitude]:.3f}",
                   "chosen": "<-" if amplitude == chosen[task] else ""}
            for name, values in by_model.items():
                spread = statistics.stdev(values) if len(values) > 1 else 0.0
                row[name] = f"{statistics.mean(values):.3f} ± {spread:.3f}"
            rows.append(row)
    print(f"simple peers under the hard noise, macro-F1 mean ± std over seeds {', '.join(map(str, args.seeds))}; "
          f"chosen: the best peer closest to {args.target}")
    print(format_table(rows, [("task", "task", ""), ("amplitude", "amplitude", ""),
                              *((m, m, "") for m in CALIBRATION_MODELS), ("best peer", "best peer", ""),
                              ("chosen", "", "")]))
    print("chosen amplitudes: " + ", ".join(f"{task} {a:g}" for task, a in chosen.items())
          + "; shipped: " + ", ".join(f"{task} {HARD_AMPLITUDES[task]:g}" for task in args.tasks))
    print(f"calibration wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
