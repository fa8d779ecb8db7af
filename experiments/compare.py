"""Compare finished runs: which model is better, and how sure can we be?

    python -m experiments.compare RUN [RUN ...] --out REPORT [--names A B ...] [--resamples 2000] [--seed 0]

The runs must share classes and folds (train each with --folds-file of the first; the frame-average
baseline runs under any folds with experiments.baselines.run_baseline). REPORT/report.md holds one table
of every run's scores (mean ± std over folds; pooled accuracy and macro F1 with 95% intervals from a
bootstrap over subjects, not clips; weighted F1; per-class recall), the paired comparison of every pair
(the corrected resampled t-test of Nadeau and Bengio on per-fold accuracy, McNemar's exact test on the
pooled predictions, the bootstrap interval of the difference, and a plain verdict), and the figures
(recall per class, confusion matrices, ROC and precision-recall curves for two classes). scores.csv and
pairs.csv hold the same numbers.
"""

from __future__ import annotations

import argparse
import sys

from landmarks.commands import UsageError, run_command

from .comparison import compare_runs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN", help="finished run folders of one split")
    parser.add_argument("--out", required=True, help="folder for report.md, scores.csv, pairs.csv and figures")
    parser.add_argument("--names", nargs="+", help="a short name per run (default: the folder names)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples of subjects (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        if args.names is not None and len(args.names) != len(args.runs):
            raise UsageError(f"--names gives {len(args.names)} name(s) for {len(args.runs)} run(s)")
        if args.resamples < 100:
            raise UsageError("--resamples must be at least 100 for a 95% interval")
        scores, pairs = compare_runs(args.runs, args.out, args.names, args.resamples, args.seed)
        for row in scores.itertuples():
            print(f"{row.run}: accuracy {row.accuracy:.3f} [{row.accuracy_ci[0]:.3f}, {row.accuracy_ci[1]:.3f}], "
                  f"macro F1 {row.f1_macro:.3f}")
        for row in pairs.itertuples():
            print(f"{row.a} vs {row.b}: {row.accuracy_difference:+.3f}, p = {row.p_corrected_t:.3g} (corrected t), "
                  f"{row.p_mcnemar:.3g} (McNemar): {row.verdict}")
        print(f"report in {args.out}/report.md")
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
