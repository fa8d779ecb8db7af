"""Command line: ``python -m landmarks.synthesize OUTPUT`` writes synthetic labelled landmark clips: pain
time courses (the default), or a dynamics task (``--task``) whose classes differ only in their time course."""

from __future__ import annotations

import argparse
import sys

from .commands import run_command
from .synthetic import CLASSES, SyntheticSettings, write_synthetic_dataset
from .synthetic.dynamics import DIFFICULTIES, TASKS, write_dynamics_task


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
    tasks = "; ".join(f"{name}: {task.description}" for name, task in TASKS.items())
    parser = argparse.ArgumentParser(
        prog="python -m landmarks.synthesize",
        description="Write synthetic landmark clips (extraction CSV schema) and labels.csv. By default: pain "
        "action units (AU4, AU6/7, AU9/10, AU43) in phasic, tonic or neutral time courses on faces that vary "
        "per subject, with head motion, tracker jitter and dropped frames. With --task: a dynamics task on "
        "real face shapes (one of dlib's 43 annotated faces per subject), whose classes differ only in how "
        "the expression moves over time, at --difficulty clean or hard.",
    )
    parser.add_argument("output", help="folder for <subject>/<class>/<clip>.csv and labels.csv")
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--counts", type=parse_counts, default={name: 3 for name in CLASSES},
                        help="pain clips per subject and class, e.g. neutral=6,phasic=2,tonic=2 (imbalance)")
    parser.add_argument("--task", choices=list(TASKS), help=f"a dynamics task instead of the pain clips: {tasks}")
    parser.add_argument("--difficulty", choices=list(DIFFICULTIES), default="clean",
                        help="dynamics tasks: clean, or hard (later, shorter movements; more jitter, head motion, "
                             "talking and dropped frames; each task's movement as strong as leaves the simple "
                             "peers about 0.75 macro-F1)")
    parser.add_argument("--clips-per-class", type=int, default=2, help="dynamics tasks: clips per subject and class")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--drop-rate", type=float, default=0.05, help="pain clips: share of frames without a face")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return run_command(lambda: _synthesize(args))


def _synthesize(args: argparse.Namespace) -> int:
    if args.task is None:
        settings = SyntheticSettings(frames=args.frames, drop_rate=args.drop_rate)
        labels = write_synthetic_dataset(args.output, args.subjects, args.counts, settings, args.seed)
    else:
        labels = write_dynamics_task(args.output, args.task, args.difficulty, args.subjects, args.clips_per_class,
                                     args.frames, args.seed)
    counts = labels["label"].value_counts().to_dict()
    print(f"{len(labels)} clips of {args.subjects} subjects ({counts}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
