"""STGCN-LSTM on each facial graph, side by side under one split and beside its simple peers: does the
graph matter, and does the model beat a linear one?

Writes a synthetic pain data set (phasic / tonic / neutral time courses of the pain action units on faces
that differ per subject, with head motion, tracker jitter and dropped frames), trains STGCN-LSTM with
each graph (``anatomical``, ``reference``, ``delaunay``) under the very same subject-grouped folds (the
first run's folds.csv is reused by the others) for every seed, with the two linear peers under the same
folds (logistic regression on the flattened sequence, and on each clip's mean shape), and prints mean ± std
over folds per run and the mean over seeds per graph and peer.

    python -m experiments.bench.graphs [--subjects 12] [--epochs 40] [--seeds 0 1 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from experiments.baselines import run_baseline
from experiments.reports import comparison_table
from experiments.train_graph import train_graph
from landmarks import write_synthetic_dataset

GRAPHS = ("anatomical", "reference", "delaunay")
PEERS = {"sequence": "temporal linear", "frame-average": "frame-average linear"}


def peer_runs(data: Path, root: Path, seed: int, folds_file: Path) -> dict[str, dict]:
    """The linear peers under ``folds_file``, on the clips as the models see them (velocity channels)."""
    return {f"{name}, seed {seed}": run_baseline(data, root / f"seed{seed}_{features}", labels=data / "labels.csv",
                                                 folds_file=folds_file, features=features, velocity=True,
                                                 seed=seed, overwrite=True)
            for features, name in PEERS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--graphs", nargs="+", default=list(GRAPHS))
    parser.add_argument("--out", type=Path, default=None, help="keep the data and runs here (default: temporary)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        data = root / "landmarks"
        write_synthetic_dataset(data, subjects=args.subjects, clips_per_class={"neutral": 3, "phasic": 3, "tonic": 3},
                                seed=1)
        options = {"model": "stgcn-lstm", "epochs": args.epochs, "batch_size": 16, "lr": 3e-3, "resample": "none",
                   "velocity": True, "overwrite": True}
        runs: dict[str, dict] = {}
        for seed in args.seeds:
            folds_file = None
            for graph in args.graphs:
                out = root / f"seed{seed}_{graph}"
                runs[f"{graph}, seed {seed}"] = train_graph(data, out, labels=data / "labels.csv", graph=graph,
                                                            seed=seed, folds_file=folds_file, **options)
                folds_file = folds_file or out / "folds.csv"
            runs.update(peer_runs(data, root, seed, folds_file))
    print(comparison_table(runs))
    for graph in [*args.graphs, *PEERS.values()]:
        scores = [metrics["pooled"]["accuracy"] for name, metrics in runs.items() if name.startswith(f"{graph},")]
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        print(f"{graph}: pooled out-of-fold accuracy {statistics.mean(scores):.3f} ± {spread:.3f} over seeds "
              f"{', '.join(map(str, args.seeds))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
