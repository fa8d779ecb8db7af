"""Command line: ``python -m landmarks.extract INPUT OUTPUT`` writes 68-point landmark CSVs per clip."""

from __future__ import annotations

import argparse
import os
import sys

from .commands import UsageError, run_command
from .extraction import ExtractionSettings, TrackerSettings, extract_landmarks
from .schema import STATUS_OK

DESCRIPTION = """\
Extract 68 dlib landmarks per frame from every clip under INPUT into OpenFace-compatible CSVs.

INPUT is one video file, one folder of frames, or a data-set root. Under a root, every video file
(mp4, avi, mov, mkv, mpg, webm, ...) and every folder that directly holds images (png, jpg, jpeg, bmp,
tif) is a clip; frames are taken in natural order (frame_2 before frame_10). Each clip becomes
OUTPUT/<clip path relative to INPUT, without extension>.csv with one row per frame:
frame (1-based), face_id, timestamp (s), confidence, success (0/1), x_0..x_67, y_0..y_67 (pixels of the
original frame) and, for frame folders, frame_file. A frame without a face keeps its row with success=0.

OUTPUT/manifest.csv lists every clip with its status (ok, no_face, empty, failed, ...), and OUTPUT/run.json
records the arguments, package version and model file hash. A re-run skips complete clips (resume);
a bad clip is reported in the manifest and never stops the run.

--scheduler tcp://HOST:8786 runs the clips on a Dask cluster instead of local processes (start one with
`dask scheduler` on one machine and `dask worker tcp://HOST:8786 --nthreads 1` on each worker; every worker
needs this package installed and must see INPUT and OUTPUT at the same paths). Results, manifest, resume
and the atomic per-clip writes are the same: a worker that dies loses only its clip, which Dask runs again
elsewhere (or the next run redoes).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m landmarks.extract",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", help="video file, frame folder or data-set root")
    parser.add_argument("output", help="folder for the CSVs, manifest.csv and run.json (created if needed)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes, one clip each at a time (default: all cores, %(default)s here)")
    parser.add_argument("--overwrite", action="store_true", help="redo clips whose CSV already exists")
    parser.add_argument("--fps", type=float, default=30.0,
                        help="frame rate of frame folders, for the timestamp column (default %(default)s)")
    parser.add_argument("--min-face", type=int, default=0,
                        help="smallest face side in pixels a full-frame search must find "
                             "(default 0: 15%% of the frame's shorter side)")
    parser.add_argument("--verify-every", type=int, default=TrackerSettings.verify_every,
                        help="confirm the followed face with the detector every N frames "
                             f"(default {TrackerSettings.verify_every}; 1 = every frame); a face that moves is "
                             "confirmed at once")
    parser.add_argument("--predictor", default=None,
                        help="path of shape_predictor_68_face_landmarks.dat (default: the copy in the "
                             "face_recognition_models package, or $FACEGRAPH_PREDICTOR)")
    parser.add_argument("--seed", type=int, default=0,
                        help="recorded for reproducibility; extraction itself involves no randomness")
    parser.add_argument("--detector", choices=("hog", "cnn", "auto"), default="hog",
                        help="face detector: hog (dlib's frontal HOG, fast), cnn (dlib's MMOD CNN: turned heads too, "
                             "~50x slower on a CPU) or auto (HOG, and the CNN only when HOG finds no face: on the "
                             "first frame or after the face is lost); the manifest says which found each clip's "
                             "faces (default %(default)s)")
    parser.add_argument("--segment-frames", type=int, default=ExtractionSettings.segment_frames, metavar="N",
                        help="cut videos longer than N frames into segments of N frames that run on different "
                             "workers and are stitched into one CSV (tracking restarts at every multiple of N, in "
                             "every run, so the CSV does not depend on the workers); 0: never (default %(default)s)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="a Dask scheduler (tcp://host:8786): run the clips on its workers "
                             "(needs dask.distributed)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = ["python", "-m", "landmarks.extract", *(sys.argv[1:] if argv is None else argv)]
    return run_command(lambda: _extract(args, command))


def _extract(args: argparse.Namespace, command: list[str]) -> int:
    if args.workers < 1 or args.verify_every < 1 or args.fps <= 0 or args.min_face < 0 or args.segment_frames < 0:
        raise UsageError("--workers and --verify-every must be >= 1, --fps > 0, --min-face and --segment-frames >= 0")
    settings = ExtractionSettings(
        fps=args.fps,
        segment_frames=args.segment_frames,
        tracker=TrackerSettings(min_face=args.min_face, verify_every=args.verify_every, predictor=args.predictor,
                                detector=args.detector),
    )
    manifest = extract_landmarks(
        args.input,
        args.output,
        settings=settings,
        workers=args.workers,
        overwrite=args.overwrite,
        progress=not args.quiet,
        record_extra={"seed": args.seed, "command": command},
        scheduler=args.scheduler,
    )
    counts = manifest["status"].value_counts().to_dict()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"{len(manifest)} clip(s): {summary or 'none found'}; "
          f"{int(manifest['detected'].sum())}/{int(manifest['frames'].sum())} frames with a face -> {args.output}")
    bad = manifest[manifest["status"] != STATUS_OK]
    for row in bad.itertuples():
        print(f"  {row.status}: {row.clip} {row.error}".rstrip(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
