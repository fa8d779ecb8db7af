"""The evidence behind ``experiments.train_graph``'s defaults: STGCN-LSTM with one setting changed at a
time, on dynamics tasks where nothing but the time course separates the classes (see
``experiments.bench.dynamics``), every candidate under the same subject-grouped split per task and seed.

The first candidate is the package before the suite chose its defaults (the papers' optimiser, Adam 1e-4
decayed 0.96 per 1000 steps, batch 10, 150 epochs, on eye-normalised absolute shapes, with their stacked
LSTM and no augmentation); every later one is today's defaults with one thing changed, the optimiser, the
input representation, the regularisation, the model or the augmentation. Prints pooled out-of-fold macro-F1,
mean ± std over seeds, per task, and the wall time of one five-fold run.

    python -m experiments.bench.defaults [--tasks order:hard speed:clean] [--seeds 0 1 2] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from experiments.bench.dynamics import parse_amplitude, quietly, task_level
from experiments.reports import format_table
from experiments.train_graph import train_graph
from landmarks.synthetic.dynamics import write_dynamics_task

PAPER_OPTIMISER = {"lr": 1e-4, "decay_rate": 0.96, "decay_steps": 1000, "batch_size": 10, "epochs": 150}
EYES_ABSOLUTE = {"normalize": "eyes", "relative": "none"}
# What STGCN-LSTM was before the suite chose its defaults: Ridouan et al.'s stacked LSTM without dropout,
# trained without augmentation.
OLD_MODEL = {"head": "stacked", "dropout": 0.0, "augment": False}

# The first row is the old defaults (the papers' optimiser, input and model); each later row names the one
# thing it changes of the package's defaults (Procrustes-aligned, clip-relative shapes; Adam 3e-3, batch 16,
# 40 epochs; Bi-LSTM head, dropout 0.25; augmentation).
CANDIDATES: dict[str, dict] = {
    "old: paper optimiser, eye normalisation, absolute, stacked LSTM, no augmentation": {
        **PAPER_OPTIMISER, **EYES_ABSOLUTE, **OLD_MODEL},
    "defaults": {},
    "defaults, paper optimiser": PAPER_OPTIMISER,
    "defaults, eye normalisation, absolute": EYES_ABSOLUTE,
    "defaults, eye normalisation": {"normalize": "eyes"},
    "defaults, absolute (not clip-relative)": {"relative": "none"},
    "defaults + velocity channels": {"velocity": True},
    "defaults, lr 1e-3": {"lr": 1e-3},
    "defaults, no dropout": {"dropout": 0.0},
    "defaults, 32-channel blocks": {"channels": (32, 32, 32)},
    "defaults, every landmark to the head": {"pooling": "flatten"},
    "defaults, stacked LSTM head (Ridouan et al.)": {"head": "stacked"},
    "defaults without augmentation": {"augment": False},
}

TASKS = ("phasic-tonic:hard", "speed:hard", "apex:hard")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), help="TASK:DIFFICULTY pairs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), help="run these candidates only")
    parser.add_argument("--hard-amplitude", type=parse_amplitude, default=None, metavar="A",
                        help="one movement amplitude for every hard task instead of its calibrated own; 0.4 is "
                             "the level the README's defaults table was measured on")
    args = parser.parse_args(argv)
    candidates = {name: CANDIDATES[name] for name in (args.only or CANDIDATES)}
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        data = {}
        for pair in args.tasks:
            task, _, difficulty = pair.partition(":")
            for seed in args.seeds:
                folder = root / f"{task}_{difficulty}_{seed}"
                level = task_level(task, difficulty or "clean", args.hard_amplitude if difficulty == "hard" else None)
                write_dynamics_task(folder, task, level, subjects=args.subjects, seed=seed)
                data[pair, seed] = folder
        for name, overrides in candidates.items():
            row, seconds = {"candidate": name}, []
            for pair in args.tasks:
                scores = []
                for seed in args.seeds:
                    folder = data[pair, seed]
                    out = root / "run"
                    started = time.perf_counter()
                    metrics = quietly(train_graph, folder, out, labels=folder / "labels.csv", seed=seed,
                                      overwrite=True, **{"model": "stgcn-lstm", **overrides})
                    seconds.append(time.perf_counter() - started)
                    scores.append(metrics["pooled"]["f1_macro"])
                spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
                row[pair] = f"{statistics.mean(scores):.3f} ± {spread:.3f}"
                row.setdefault("all", []).append(statistics.mean(scores))
            row["all"] = statistics.mean(row["all"])
            row["seconds"] = statistics.mean(seconds)
            rows.append(row)
            print(f"{name}: {row}", file=sys.stderr, flush=True)
    print(f"STGCN-LSTM, pooled out-of-fold macro-F1, mean ± std over seeds {', '.join(map(str, args.seeds))}; "
          f"5 subject-grouped folds, {args.subjects} subjects x 2 clips per class")
    print(format_table(rows, [("candidate", "candidate", ""), *((t, t, "") for t in args.tasks),
                              ("all", "mean", ".3f"), ("seconds", "s per run", ".0f")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
