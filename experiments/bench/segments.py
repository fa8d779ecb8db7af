"""One long video across workers: extraction of a 1080p video of ``--frames`` frames (3,600 by default: two
minutes at 30 fps) with one worker and with ``--workers``, the video cut into segments of
``--segment-frames`` (the default setting) that run on different workers. Both runs write the same CSV
(checked here, byte for byte). **Target:** at least 1.7x the one-worker rate on 2 workers. One worker alone
already decodes on several threads (FFmpeg's and OpenCV's), so it is also run on one thread, the share of
the machine each of several workers gets.

The video is a real photo (scikit-image's astronaut) filling the 1080p height and moving smoothly (rotation
and drift), encoded with OpenCV's mp4v codec.

    python -m experiments.bench.segments [--frames 3600] [--workers 2] [--video PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from landmarks.extraction import frames
from landmarks.extraction.pipeline import ExtractionSettings, extract_landmarks
from landmarks.synthetic import astronaut

SIZE = (1920, 1080)


def make_video(path: Path, frames: int) -> None:
    """A 1080p mp4 of the astronaut moving: rotation and a slow drift, different in every frame."""
    photo = cv2.resize(astronaut(), (SIZE[1], SIZE[1]), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    x0 = (SIZE[0] - SIZE[1]) // 2
    canvas[:, x0 : x0 + SIZE[1]] = photo
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, SIZE)
    for f in range(frames):
        matrix = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), 4.0 * np.sin(f / 15), 1.0)
        matrix[0, 2] += 120.0 * np.sin(f / 200)
        writer.write(cv2.warpAffine(canvas, matrix, SIZE))
    writer.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.segments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--segment-frames", type=int, default=ExtractionSettings.segment_frames)
    parser.add_argument("--video", type=Path, help="keep the made video here (reused when it exists)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-segments-") as folder:
        root = Path(folder)
        (root / "in").mkdir()
        if args.video is None or not args.video.is_file():
            make_video(args.video or root / "in" / "long.mp4", args.frames)
        if args.video is not None:
            (root / "in" / "long.mp4").symlink_to(args.video.resolve())
        settings = ExtractionSettings(segment_frames=args.segment_frames)
        rates = {}
        for name, workers, one_core in (("1 worker", 1, False), ("1 worker on one thread", 1, True),
                                        (f"{args.workers} workers", args.workers, False)):
            threads = cv2.getNumThreads()
            if one_core:  # FFmpeg and OpenCV on one thread: what one worker of several gets
                frames.decode_on_one_thread()
                cv2.setNumThreads(1)
            started = time.perf_counter()
            manifest = extract_landmarks(root / "in", root / name.replace(" ", "_"), settings=settings,
                                         workers=workers, progress=False)
            seconds = time.perf_counter() - started
            frames._decoder_threads = 0
            cv2.setNumThreads(threads)
            rates[name] = manifest.loc[0, "frames"] / seconds
            print(f"{name}: {manifest.loc[0, 'frames']} frames ({manifest.loc[0, 'detected']} with a face) in "
                  f"{seconds:.1f} s, {rates[name]:.1f} frames/s")
        outputs = [(root / name.replace(" ", "_") / "long.csv").read_bytes() for name in rates]
        speedup = rates[f"{args.workers} workers"] / rates["1 worker"]
        per_core = rates[f"{args.workers} workers"] / rates["1 worker on one thread"]
        verdict = "met" if speedup >= 1.7 else "NOT met"
        print(f"speed-up on {args.workers} workers: {speedup:.2f}x over one worker (target >= 1.7x: {verdict}), "
              f"{per_core:.2f}x over one worker on one thread; same CSV: {len(set(outputs)) == 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
