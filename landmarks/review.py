"""Command line: ``python -m landmarks.review LANDMARKS --media INPUT --out QC`` shows what the tracker saw."""

from __future__ import annotations

import argparse
import os
import sys

from .commands import UsageError, run_command
from .quality import QualityThresholds, ReviewSettings, review_landmarks

DESCRIPTION = """\
Review an extraction before training on it: for every landmark CSV under LANDMARKS (the OUTPUT of
landmarks.extract), measure how well the face was tracked and draw a contact sheet of the tracked face.

QC/qc.csv has one row per clip: tracked_share (frames with a face), longest_gap (frames without one, and
gap_start), jitter (median frame-to-frame movement of the nose bridge and eye corners after taking out head
motion, in outer eye-corner distances), jumps and jump_frames (frames whose face moved implausibly far),
moved_most (the frames that came closest to a jump), eye_distance_px (face size), confidence (median
detector confidence), and flagged with the reasons. QC/sheets/<clip>.png shows frames evenly spaced over the
clip and, below them, the frames that moved most, with the 68 points and the facial graph, frame numbers,
and a green (face found) or red (none) border. QC/index.md lists the flagged clips first with their sheets.
--media is the extraction's INPUT (videos or frame folders); without it the sheets show the points on a
blank page.
"""


def build_parser() -> argparse.ArgumentParser:
    defaults, limits = ReviewSettings(), QualityThresholds()
    parser = argparse.ArgumentParser(prog="python -m landmarks.review", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landmarks", help="folder of landmark CSVs (OUTPUT of landmarks.extract)")
    parser.add_argument("--media", help="the extraction's INPUT: video files, frame folders or a data-set root")
    parser.add_argument("--out", required=True, help="folder for qc.csv, sheets/, index.md (and videos/)")
    parser.add_argument("--video", action="store_true", help="also write an overlay mp4 of every clip (slower)")
    parser.add_argument("--frames", type=int, default=defaults.sheet_frames,
                        help="frames evenly spaced over each clip on its sheet (default %(default)s)")
    parser.add_argument("--graph", default=defaults.graph, help="facial graph drawn over the points, or none "
                        "(default %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default %(default)s)")
    flags = parser.add_argument_group("flags (a clip is flagged when a measure passes one)")
    flags.add_argument("--min-tracked", type=float, default=limits.min_tracked_share,
                       help="smallest share of frames with a face (default %(default)s)")
    flags.add_argument("--max-gap", type=int, default=limits.max_gap,
                       help="most frames in a row without a face (default %(default)s)")
    flags.add_argument("--max-jitter", type=float, default=limits.max_jitter,
                       help="largest median stable-point movement, eye-corner distances (default %(default)s)")
    flags.add_argument("--jump", type=float, default=limits.jump_centre,
                       help="face-centre movement between frames that counts as a jump (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="recorded for uniformity; the review is not random")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _review(args: argparse.Namespace) -> int:
    if args.workers < 1 or args.frames < 1 or not 0 <= args.min_tracked <= 1:
        raise UsageError("--workers and --frames must be >= 1 and --min-tracked a share between 0 and 1")
    thresholds = QualityThresholds(min_tracked_share=args.min_tracked, max_gap=args.max_gap,
                                   max_jitter=args.max_jitter, jump_centre=args.jump)
    settings = ReviewSettings(sheet_frames=args.frames, graph=None if args.graph == "none" else args.graph,
                              video=args.video, thresholds=thresholds)
    table = review_landmarks(args.landmarks, args.out, args.media, settings=settings, workers=args.workers,
                             progress=not args.quiet)
    flagged = table[table["flagged"]]
    print(f"{len(table)} clip(s) reviewed, {len(flagged)} flagged -> {args.out}/index.md")
    for row in flagged.itertuples():
        print(f"  {row.clip}: {row.reasons}{'; ' + row.error if row.error else ''}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: _review(args))


if __name__ == "__main__":
    sys.exit(main())
