"""Late fusion of finished runs into a new run folder.

    python -m experiments.fuse RUN [RUN ...] --rule mean|weighted|product|vote|stacking --out FUSED_RUN

The runs must have the same classes and put every clip in the same fold (train the second branch with
--folds-file of the first run). A clip that one run lacks (a face not found in one modality) is an error,
unless --common-clips fuses the clips every run has. weighted and stacking learn, for every fold, from that
fold's validation predictions only (clips of training subjects), never from its test clips; what each fold
learned is recorded in the fused run's config.json.
"""

from __future__ import annotations

import argparse
import sys

from landmarks.commands import run_command

from .fusion import RULES, fuse_runs
from .reports import results_table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.fuse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN", help="finished run folders (two or more)")
    parser.add_argument("--rule", choices=RULES, default="mean", help="how to combine them (default %(default)s)")
    parser.add_argument("--out", required=True, help="the fused run folder to write")
    parser.add_argument("--common-clips", action="store_true", help="fuse only the clips every run has")
    parser.add_argument("--overwrite", action="store_true", help="replace a run the --out folder already holds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stacker (default %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        metrics = fuse_runs(args.runs, args.out, args.rule, args.common_clips, args.overwrite, args.seed)
        print(results_table(metrics))
        print(f"fused run in {args.out}")
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
