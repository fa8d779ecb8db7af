"""Extraction speed and agreement on PEMF-shaped 1080p PNG clips made from real photos.

Prints, measured in one run on this machine: frames/s of our extractor, of the naive dlib loop
(full-resolution detection with upsampling 1 on every frame, then prediction) and of decoding alone
(same number of processes), the median landmark difference between ours and the naive loop,
normalised by the outer eye-corner distance, and the rate of ``--detector auto`` on these frontal clips
against the default HOG detector. Last, where one worker's time goes beyond decoding: loading the models,
tracking (face detection and landmark prediction) and writing the CSVs, timed stage by stage in one
process over the first clips.

    python -m experiments.bench.extraction [--clips 48] [--frames 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import dlib
import numpy as np

from landmarks import ExtractionSettings, TrackerSettings, extract_landmarks, read_landmarks
from landmarks.extraction.clips import frame_files
from landmarks.extraction.frames import read_image
from landmarks.extraction.model_files import predictor_path
from landmarks.extraction.pipeline import extract_clip
from landmarks.extraction.tracker import FaceTracker
from landmarks.layout import eye_distance
from landmarks.parallel import run_jobs
from landmarks.synthetic import astronaut

SIZE = (1920, 1080)


def real_photos() -> list[np.ndarray]:
    """scikit-image's astronaut and, when present beside the checkout, dlib's large frontal photo."""
    photos = [astronaut()]
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces" / "Tom_Cruise_avp_2014_4.jpg"
    if shared.is_file():
        photos.append(cv2.imread(str(shared)))
    return photos


def make_clips(root: Path, clips: int, frames: int, seed: int) -> list[Path]:
    """PEMF-shaped frame folders: each a real photo filling the 1080p height, moving smoothly."""
    rng = np.random.default_rng(seed)
    photos = real_photos()
    folders = []
    for c in range(clips):
        photo = photos[c % len(photos)]
        height = SIZE[1]
        width = int(round(photo.shape[1] * height / photo.shape[0]))
        scaled = cv2.resize(photo, (width, height), interpolation=cv2.INTER_LINEAR)
        canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        x0 = (SIZE[0] - width) // 2
        canvas[:, x0 : x0 + width] = scaled
        phase, amplitude = rng.uniform(0, 2 * np.pi), rng.uniform(2, 6)
        folder = root / f"S{c // 4 + 1:02d}" / f"stimulus{c % 4}" / f"clip{c:02d}"
        folder.mkdir(parents=True)
        for f in range(frames):
            matrix = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), amplitude * np.sin(phase + f / 3), 1.0)
            matrix[0, 2] += 3.0 * f
            cv2.imwrite(str(folder / f"frame_{f + 1}.png"), cv2.warpAffine(canvas, matrix, SIZE))
        folders.append(folder)
    return folders


def _decode_folder(folder: str) -> int:
    """Decode every frame exactly as the extractor does (to 8-bit gray), and nothing else."""
    return sum(read_image(path).size > 0 for path in frame_files(Path(folder)))


_naive = {}


def _naive_init() -> None:
    _naive["detector"] = dlib.get_frontal_face_detector()
    _naive["predictor"] = dlib.shape_predictor(str(predictor_path()))


def naive_landmarks(gray: np.ndarray, detector, predictor) -> np.ndarray | None:
    """The naive loop's answer for one frame: full-resolution detection (upsample 1), then the 68 points of
    the largest face; None when no face is found."""
    rects = detector(gray, 1)
    if not rects:
        return None
    rect = max(rects, key=lambda r: r.area())
    shape = predictor(gray, dlib.rectangle(rect.left(), rect.top(), rect.right(), rect.bottom()))
    return np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], float)


def _naive_folder(folder: str) -> tuple[str, np.ndarray]:
    """The naive loop over a folder's frames (NaN rows where it finds no face)."""
    if not _naive:  # a single worker runs here, where no initializer ran
        _naive_init()
    out = []
    for path in frame_files(Path(folder)):
        gray = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
        points = naive_landmarks(gray, _naive["detector"], _naive["predictor"])
        out.append(np.full((68, 2), np.nan) if points is None else points)
    return folder, np.stack(out)


def where_the_time_goes(folders: list[Path], settings: ExtractionSettings, scratch: Path) -> dict[str, float]:
    """Seconds of one process extracting ``folders``, by stage: loading the models, decoding the frames,
    tracking (detection and landmark prediction) and writing the CSVs, each timed directly."""
    started = time.perf_counter()
    tracker = FaceTracker(settings.tracker)
    times = {"model loading": time.perf_counter() - started, "decoding": 0.0, "tracking": 0.0, "CSV writing": 0.0}
    for folder in folders:  # frame by frame, decoding then tracking, as a worker does
        tracker.reset()
        for path in frame_files(folder):
            started = time.perf_counter()
            gray = read_image(path)
            decoded = time.perf_counter()
            tracker.process(gray)
            times["decoding"] += decoded - started
            times["tracking"] += time.perf_counter() - decoded
    for folder in folders:
        table = extract_clip(folder, settings, tracker)
        started = time.perf_counter()
        table.to_csv(scratch / "profile.csv", index=False)
        times["CSV writing"] += time.perf_counter() - started
    return times


def timed_pool(function, items, workers, initializer=None):
    """Results in item order, and the wall time, of ``function`` over ``items`` on the package's executor
    (fork start, as extraction uses)."""
    started = time.perf_counter()
    results = dict(run_jobs(function, items, workers=workers, start_method="fork", initializer=initializer))
    return [results[index] for index in range(len(items))], time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=48, help="clips of our extractor and decode-only runs")
    parser.add_argument("--frames", type=int, default=20, help="frames per clip (PEMF: 20)")
    parser.add_argument("--naive-clips", type=int, default=2, help="clips for the (slow) naive loop")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--verify-every", type=int, default=TrackerSettings.verify_every,
                        help="as in landmarks.extract")
    parser.add_argument("--profile-clips", type=int, default=12, help="clips timed stage by stage in one process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the clips here and keep them (reused when the folder already holds clips)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "frames"
        if args.keep is not None and args.keep.is_dir() and any(args.keep.iterdir()):
            folders = sorted({p.parent for p in args.keep.rglob("*.png")})[: args.clips]
            print(f"reusing {len(folders)} clips in {root}")
        else:
            print(f"building {args.clips} clips x {args.frames} frames of {SIZE[0]}x{SIZE[1]} PNG in {root} ...")
            folders = make_clips(root, args.clips, args.frames, args.seed)
        total = sum(len(frame_files(folder)) for folder in folders)

        _, decode_seconds = timed_pool(_decode_folder, [str(f) for f in folders], args.workers)
        out = Path(scratch) / "landmarks"
        started = time.perf_counter()
        settings = ExtractionSettings(tracker=TrackerSettings(verify_every=args.verify_every))
        manifest = extract_landmarks(root, out, settings=settings, workers=args.workers, progress=False)
        ours_seconds = time.perf_counter() - started
        started = time.perf_counter()
        auto = ExtractionSettings(tracker=TrackerSettings(verify_every=args.verify_every, detector="auto"))
        auto_manifest = extract_landmarks(root, Path(scratch) / "auto", settings=auto, workers=args.workers,
                                          progress=False)
        auto_seconds = time.perf_counter() - started
        stages = where_the_time_goes(folders[: args.profile_clips], settings, Path(scratch))
        naive_folders = [str(f) for f in folders[: args.naive_clips]]
        naive, naive_seconds = timed_pool(_naive_folder, naive_folders, args.workers, _naive_init)

        differences = []
        for folder, naive_points in naive:
            clip = Path(folder).relative_to(root).as_posix()
            ours, _ = read_landmarks(out / f"{clip}.csv")
            eye = eye_distance(naive_points)
            differences.append(np.linalg.norm(ours - naive_points, axis=-1) / eye[:, None])
        difference = float(np.nanmedian(np.concatenate(differences)))

    decode_rate = total / decode_seconds
    ours_rate = total / ours_seconds
    naive_rate = args.naive_clips * args.frames / naive_seconds
    detected = int(manifest["detected"].sum())
    print(f"machine: {os.cpu_count()} cores, {args.workers} worker process(es), python {sys.version.split()[0]}")
    print(f"{'decode only':<34}{decode_rate:8.1f} frames/s")
    print(f"{'ours (landmarks.extract)':<34}{ours_rate:8.1f} frames/s  ({detected}/{total} frames with a face, "
          f"model loading included)")
    print(f"{'naive loop (full res, upsample 1)':<34}{naive_rate:8.1f} frames/s  (on {args.naive_clips} clips)")
    print(f"speed-up over naive: {ours_rate / naive_rate:.1f}x (target >= 15x)")
    print(f"share of decode-only rate: {100 * ours_rate / decode_rate:.0f}% (target >= 90%)")
    print(f"median difference to naive: {difference:.4f} eye-corner distances (target <= 0.01)")
    print(f"--detector auto: {total / auto_seconds:.1f} frames/s, {ours_seconds / auto_seconds:.2f} of hog's rate "
          f"(target >= 0.95); clips whose faces needed the CNN: {(auto_manifest['detector'] != 'hog').sum()}")
    frames = sum(len(frame_files(folder)) for folder in folders[: args.profile_clips])
    print(f"one process, {args.profile_clips} clips ({frames} frames): decoding {stages.pop('decoding'):.2f} s, then "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
