"""The whole pipeline on data the package makes itself, no download: ``python -m experiments.demo``.

1. The photo animator turns real photos into PEMF-shaped clips (``<subject>/<class>/<clip>/frame_<n>.png``),
   one real person per subject: scikit-image's public-domain astronaut and the people of dlib's example
   photos (``../shared/data/faces`` beside the checkout, or ``--photos DIR``; the astronaut alone when
   neither is there). Pain action units (brow lowering, orbital tightening, nose wrinkle, eye closure) rise
   (``onset``), fall (``offset``: the same movement played backwards, at the same mean intensity) or stay
   away (``neutral``), plus head motion and blinks: onset and offset differ by their time course only, so
   a model that ignores the order of frames cannot tell them apart.
2. The extraction stage (real dlib) turns every clip into a landmark CSV.
3. STGCN and STGCN-LSTM are trained with the leakage-free protocol (subject-grouped folds, statistics
   fit on training parts only), next to their simple peers, all under the same folds: logistic regression
   on each clip's mean shape (frame-order-blind) and on the flattened sequence (the temporal linear model).
   A small image model (ConvNeXt-atto from scratch, frozen, with an LSTM head) runs on 64-pixel face crops
   placed by the same landmarks, under the same folds.
4. The graph models and the image model are fused (stacking, learned from each fold's validation clips).
5. Every run is compared (``--out``/report/report.md: intervals over subjects, paired tests, figures) and
   a results table is printed. Every run folder is kept under ``--out``; running the demo again reuses the
   frames and landmarks there and replaces its own runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from landmarks import animate_photo, extract_landmarks
from landmarks.commands import run_command
from landmarks.face_crops import CropGeometry, crop_faces
from landmarks.synthetic import TASKS, astronaut, face_photos

from .baselines import run_baseline
from .comparison import compare_runs
from .fusion import fuse_runs
from .reports import comparison_table
from .train_graph import train_graph
from .train_image import train_image

TASK = "order"
CLASSES = TASKS[TASK].classes
SHARED_FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"


def demo_photos(subjects: int, folder: str | os.PathLike | None = None) -> list:
    """One real face per subject where photos of people are found (the astronaut first), else the astronaut."""
    folder = Path(folder or os.environ.get("FACEGRAPH_SHARED_FACES", SHARED_FACES))
    people = face_photos(folder, limit=subjects - 1) if folder.is_dir() else []
    if not people:
        print(f"    note: no photos of people in {folder}; every subject is the astronaut (give --photos DIR)",
              file=sys.stderr)
    return [astronaut(), *people]


def run_demo(
    out: str | Path = "demo_run",
    subjects: int = 6,
    clips_per_class: int = 3,
    frames: int = 20,
    size: tuple[int, int] = (640, 480),
    model_names: tuple[str, ...] = ("stgcn", "stgcn-lstm"),
    epochs: int = 60,
    folds: int = 3,
    seed: int = 0,
    workers: int = 2,
    photos: str | os.PathLike | None = None,
) -> dict[str, dict]:
    """Animate, extract, train; returns every model's metrics (and the baseline's) by name."""
    out = Path(out)
    frames_dir, landmarks_dir = out / "frames", out / "landmarks"
    started = time.perf_counter()
    wanted = {(f"S{s + 1:02d}", c) for s in range(subjects) for c in CLASSES}
    if (frames_dir / "labels.csv").is_file():
        made = pd.read_csv(frames_dir / "labels.csv")
        same = set(zip(made["subject"], made["label"], strict=True)) == wanted
        if not same or len(made) != len(wanted) * clips_per_class:
            print(f"    {frames_dir} holds other clips (an earlier demo's); animating them again", file=sys.stderr)
            for folder in (frames_dir, out / "frames_truth", landmarks_dir, out / "crops"):
                shutil.rmtree(folder, ignore_errors=True)
    if not (frames_dir / "labels.csv").is_file():
        count = subjects * clips_per_class * len(CLASSES)
        print(f"1/5 animating {count} clips of {frames} frames ...", file=sys.stderr)
        animate_photo(frames_dir, subjects=subjects, clips_per_class={c: clips_per_class for c in CLASSES},
                      frames=frames, size=size, seed=seed, photos=demo_photos(subjects, photos), task=TASK)
    print("2/5 extracting landmarks with dlib ...", file=sys.stderr)
    manifest = extract_landmarks(frames_dir, landmarks_dir, workers=workers, progress=True)
    failed = manifest[manifest["status"] != "ok"]
    if len(failed):
        print(f"    {len(failed)} clip(s) not fully tracked, see {landmarks_dir / 'manifest.csv'}", file=sys.stderr)
    runs = {}
    labels = frames_dir / "labels.csv"
    common = {"epochs": epochs, "folds": folds, "batch_size": 8, "lr": 3e-3, "resample": "none", "seed": seed,
              "patience": 0}
    folds_file = None  # the first run draws the split, every other run reuses it
    for name in model_names:
        print(f"3/5 training {name} ...", file=sys.stderr)
        runs[name] = train_graph(landmarks_dir, out / f"run_{name}", labels=labels, model=name, overwrite=True,
                                 folds_file=folds_file, **common)
        folds_file = folds_file or out / f"run_{name}" / "folds.csv"
    # the simple peers see the same per-frame shape normalisation and the same folds as the models
    folders = {name: out / f"run_{name}" for name in model_names}
    for features, name in (("frame-average", "frame-average baseline"), ("sequence", "temporal linear baseline")):
        folders[name] = out / f"run_{features}_baseline"
        runs[name] = run_baseline(landmarks_dir, folders[name], labels=labels, folds_file=folds_file, overwrite=True,
                                  seed=seed, features=features)
    print("3/5 cropping faces and training a small image model on them ...", file=sys.stderr)
    crop_faces(frames_dir, landmarks_dir, out / "crops", geometry=CropGeometry(64), workers=workers, progress=False)
    image = "convnext-lstm (crops)"
    folders[image] = out / "run_convnext-lstm"
    runs[image] = train_image(out / "crops", folders[image], labels=labels, folds_file=folds_file, overwrite=True,
                              model="convnext-lstm", pretrained="none", size=64, length=frames, progress=False,
                              **common)
    print("4/5 fusing the graph models and the image model ...", file=sys.stderr)
    fused = [folders[name] for name in model_names] + [folders[image]]
    runs["fused (stacking)"] = fuse_runs(fused, out / "run_fused", rule="stacking", overwrite=True, seed=seed)
    folders["fused (stacking)"] = out / "run_fused"
    print("5/5 comparing the runs ...", file=sys.stderr)
    compare_runs(list(folders.values()), out / "report", names=list(folders), seed=seed)
    print(f"done in {time.perf_counter() - started:.0f} s; runs in {out}, report in {out / 'report' / 'report.md'}",
          file=sys.stderr)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="demo_run", help="folder for frames, landmarks and runs (default demo_run)")
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--clips-per-class", type=int, default=3, help="per subject and class")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="extraction processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photos", help="folder of photos of people, one face per subject (default: dlib's example "
                                         "photos in ../shared/data/faces)")
    args = parser.parse_args(argv)

    def run() -> int:
        runs = run_demo(args.out, args.subjects, args.clips_per_class, epochs=args.epochs, folds=args.folds,
                        seed=args.seed, workers=args.workers, photos=args.photos)
        print(comparison_table(runs))
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
