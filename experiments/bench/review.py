"""Time of ``landmarks.review`` over a PEMF-sized extraction: 272 clips of 20 frames of 1080p PNG.

Builds the clips from real photos (as ``experiments.bench.extraction`` does), extracts their landmarks,
then times the review (quality measures, a contact sheet per clip, index page) next to the target of
under one minute on 2 cores. ``--keep DIR`` builds the clips and landmarks there once and reuses them.

    python -m experiments.bench.review [--clips 272] [--frames 20] [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from experiments.bench.extraction import make_clips
from landmarks import extract_landmarks, review_landmarks

TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=272)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="build clips and landmarks here, reuse them later")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        frames, extracted = root / "frames", root / "landmarks"
        if not frames.is_dir():
            print(f"building {args.clips} clips x {args.frames} frames of 1080p PNG ...", file=sys.stderr)
            make_clips(frames, args.clips, args.frames, args.seed)
        extract_landmarks(frames, extracted, workers=args.workers, progress=False)
        started = time.perf_counter()
        table = review_landmarks(extracted, Path(scratch) / "qc", frames, workers=args.workers, progress=False)
        elapsed = time.perf_counter() - started
    print(f"review of {len(table)} clips x {args.frames} frames (1080p PNG), {args.workers} worker(s): "
          f"{elapsed:.1f} s (target < {TARGET_S:.0f} s); {int(table['flagged'].sum())} flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
