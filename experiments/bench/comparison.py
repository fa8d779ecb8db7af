"""Time of fusing and comparing five runs of a PEMF-sized data set (272 clips of 17 subjects, 5 folds),
with 2,000 bootstrap resamples of subjects, next to the target of under 5 seconds on 2 cores.

The five run folders are made here with predictions of known quality (the time does not depend on how the
predictions were made): mean fusion of the five, then the comparison of the five and the fused run
(report, tables and figures).

    python -m experiments.bench.comparison [--resamples 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.comparison import compare_runs
from experiments.fusion import fuse_runs

TARGET_S = 5.0
CLASSES = ["no_pain", "pain"]


def write_run(folder: Path, accuracy: float, seed: int, subjects: int = 17, clips: int = 16) -> None:
    """A run folder of ``subjects`` x ``clips`` clips whose predictions are right for about ``accuracy``."""
    rng = np.random.default_rng(seed)
    rows, validation = [], []
    for s in range(subjects):
        for c in range(clips):
            truth = int(c < 10)
            right = rng.random() < accuracy
            p_pain = rng.uniform(0.55, 0.95) if (truth == 1) == right else rng.uniform(0.05, 0.45)
            row = {"clip": f"S{s:02d}/c{c:02d}", "subject": f"S{s:02d}", "fold": s % 5, "y_true": CLASSES[truth],
                   "y_pred": CLASSES[int(p_pain > 0.5)], "p_no_pain": 1 - p_pain, "p_pain": p_pain}
            rows.append(row)
            validation.append({**row, "fold": (s + 1) % 5})  # scored again as a validation clip of another fold
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "predictions.csv", index=False)
    pd.DataFrame(validation).drop(columns="y_pred").to_csv(folder / "validation_predictions.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps({"classes": CLASSES}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        runs = [Path(scratch) / f"run{k}" for k in range(5)]
        for k, run in enumerate(runs):
            write_run(run, 0.6 + 0.07 * k, args.seed + k)
        started = time.perf_counter()
        fuse_runs(runs, Path(scratch) / "fused", rule="stacking", seed=args.seed)
        fused = time.perf_counter()
        compare_runs([*runs, Path(scratch) / "fused"], Path(scratch) / "report", resamples=args.resamples,
                     seed=args.seed)
        done = time.perf_counter()
    print(f"5 runs x 272 clips: stacking fusion {fused - started:.2f} s, comparison of 6 runs with "
          f"{args.resamples} subject resamples {done - fused:.2f} s, together {done - started:.2f} s "
          f"(target < {TARGET_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
