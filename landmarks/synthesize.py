"""Command line: ``python -m landmarks.synthesize OUTPUT`` writes synthetic labelled landmark clips."""

from __future__ import annotations

import argparse
import sys

from .commands import run_command
from .synthetic import CLASSES, SyntheticSettings, write_synthetic_dataset


def parse_counts(text: str) -> dict[str, int]:
    counts = {}
    for item in text.split(","):
        name, _, number = item.partition("=")
        if name.strip() not in CLASSES or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"bad count {item!r}: use CLASS=N with CLASS one of {', '.join(CLASSES)}, e.g. neutral=6,phasic=2"
            )
        counts[name.strip()] = int(number)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m landmarks.synthesize",
        description="Write synthetic pain-expression landmark clips (extraction CSV schema) and labels.csv. "
        "Faces vary per subject; pain action units (AU4, AU6/7, AU9/10, AU43) follow phasic, tonic or "
        "neutral time courses, with head motion, tracker jitter and dropped frames.",
    )
    parser.add_argument("output", help="folder for <subject>/<class>/<clip>.csv and labels.csv")
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--counts", type=parse_counts, default={name: 3 for name in CLASSES},
                        help="clips per subject and class, e.g. neutral=6,phasic=2,tonic=2 (imbalance)")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--drop-rate", type=float, default=0.05, help="share of frames without a face")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return run_command(lambda: _synthesize(args))


def _synthesize(args: argparse.Namespace) -> int:
    settings = SyntheticSettings(frames=args.frames, drop_rate=args.drop_rate)
    labels = write_synthetic_dataset(args.output, args.subjects, args.counts, settings, args.seed)
    counts = labels["label"].value_counts().to_dict()
    print(f"{len(labels)} clips of {args.subjects} subjects ({counts}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
