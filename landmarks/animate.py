"""Command line: ``python -m landmarks.animate OUTPUT`` animates one real face photo into PEMF-shaped clips."""

from __future__ import annotations

import argparse
import sys

import cv2

from .commands import run_command
from .synthesize import parse_counts
from .synthetic import CLASSES, animate_photo


def frame_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT, e.g. 1920x1080."""
    try:
        width, height = (int(value) for value in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"frame size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"frame size {text!r} is too small for a face; use at least 64x64")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m landmarks.animate",
        description="Animate one real face photo (scikit-image's astronaut by default) into PEMF-shaped "
        "frame folders OUTPUT/<subject>/<class>/<clip>/frame_<n>.png with pain action units in phasic, "
        "tonic or neutral time courses, plus labels.csv and ground-truth landmarks in OUTPUT_truth/.",
    )
    parser.add_argument("output")
    parser.add_argument("--photo", default=None, help="a photo with one clear frontal face")
    parser.add_argument("--subjects", type=int, default=2)
    parser.add_argument("--counts", type=parse_counts, default={name: 2 for name in CLASSES},
                        help="clips per subject and class, e.g. neutral=2,phasic=2,tonic=2")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--size", type=frame_size, default="1920x1080", help="frame size WIDTHxHEIGHT (%(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def _animate(args: argparse.Namespace) -> int:
    photo = None
    if args.photo:
        photo = cv2.imread(args.photo)
        if photo is None:
            raise FileNotFoundError(f"cannot read photo {args.photo}: give an image file OpenCV can decode")
    labels = animate_photo(args.output, photo, args.subjects, args.counts, args.frames, args.size, args.seed)
    print(f"{len(labels)} clips x {args.frames} frames -> {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: _animate(args))


if __name__ == "__main__":
    sys.exit(main())
