"""Command line: ``python -m landmarks.crops FRAMES LANDMARKS OUT`` writes aligned face crops per clip."""

from __future__ import annotations

import argparse
import os
import sys

from .commands import UsageError, run_command
from .face_crops import CropGeometry, crop_faces
from .schema import STATUS_OK

DESCRIPTION = """\
Aligned face crops for every clip under FRAMES, placed by the landmark CSVs under LANDMARKS (the output of
python -m landmarks.extract FRAMES LANDMARKS): eyes level, their centres --eye-distance x side apart, their
midpoint --eye-height x side from the top, in a square of --size pixels.

OUT/<clip>.npy holds the clip's crops, one uint8 RGB array (frames, size, size, 3), and
OUT/<clip>.frames.csv one row per frame: tracked (0/1), transform_from (the frame whose landmarks placed the
crop: a frame without a face uses its nearest tracked frame's, and is flagged) and the transform.
OUT/manifest.csv lists every clip with its status (ok, no_face, no_landmarks, failed, empty); OUT/crops.json
the settings. A re-run skips clips already cropped (resume); a bad clip never stops the run.

--stills reads every image under FRAMES as a one-frame clip (FER-2013 / AffectNet class folders): faces
are found with dlib and their landmarks written to LANDMARKS, or, with --aligned, the images are already
face crops and are only resized (give - as LANDMARKS).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m landmarks.crops", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frames", help="the clips (video files, frame folders or a data-set root), as given to "
                                       "landmarks.extract; with --stills, a folder of images")
    parser.add_argument("landmarks", help="landmarks.extract's output for FRAMES; with --stills, where the found "
                                          "landmarks are written (- with --aligned: none)")
    parser.add_argument("out", help="folder for the crops, manifest.csv and crops.json (created if needed)")
    geometry = CropGeometry()
    parser.add_argument("--size", type=int, default=geometry.size, help="crop side in pixels (default %(default)s)")
    parser.add_argument("--eye-distance", type=float, default=geometry.eye_distance,
                        help="distance of the eye centres as a share of the side (default %(default)s)")
    parser.add_argument("--eye-height", type=float, default=geometry.eye_height,
                        help="row of the eyes' midpoint as a share of the side (default %(default)s)")
    parser.add_argument("--stills", action="store_true", help="every image under FRAMES is a one-frame clip")
    parser.add_argument("--aligned", action="store_true",
                        help="with --stills: the images are face crops already (FER-2013): resize only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes, one clip each at a time (default: all cores, %(default)s here)")
    parser.add_argument("--overwrite", action="store_true", help="redo every clip (and allow a new geometry)")
    parser.add_argument("--seed", type=int, default=0, help="recorded; cropping involves no randomness")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _crops(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.aligned and not args.stills:
        raise UsageError("--aligned applies to still images (--stills); clips are cropped by their landmarks")
    try:
        geometry = CropGeometry(args.size, args.eye_distance, args.eye_height)
    except ValueError as error:
        raise UsageError(str(error)) from None
    landmarks = None if args.landmarks == "-" else args.landmarks
    if landmarks is None and not args.aligned:
        raise UsageError("LANDMARKS may be - only with --stills --aligned: other crops are placed by landmarks")
    manifest = crop_faces(args.frames, landmarks, args.out, geometry=geometry, stills=args.stills,
                          aligned=args.aligned, workers=args.workers, overwrite=args.overwrite,
                          progress=not args.quiet, record_extra={"seed": args.seed})
    counts = manifest["status"].value_counts().to_dict()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"{len(manifest)} clip(s): {summary or 'none found'}; {int(manifest['borrowed'].sum())} frame(s) "
          f"without a face cropped by their nearest tracked frame -> {args.out}")
    for row in manifest[manifest["status"] != STATUS_OK].itertuples():
        print(f"  {row.status}: {row.clip} {row.error}".rstrip(), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: _crops(args))


if __name__ == "__main__":
    sys.exit(main())
