"""The image branch's costs on this machine, measured in one run:

1. crops: ``landmarks.crops`` on PEMF-shaped 1080p PNG clips made from real photos, as a share of the
   decode-only rate of the same frames (same number of processes). Target: at least 0.8.
2. feature pass: frames/s of the cached-feature pass (crops read from disk, batched, inference mode) for
   mobilenetv3_small_100 and convnext_atto at 224 px, as a share of the bare backbone on random tensors of
   the same batch size. Target: at least 0.8.
3. head sweep: the four sequence heads, five subject-grouped folds each, on cached features of ``--clips``
   clips x 20 frames (272 as PEMF), against the cost of one backbone pass over those frames
   (mobilenetv3_small_100, 224 px). Target: at most 1.2 times. The sweep runs at the image branch's
   defaults (clip-relative features, a learned 64-wide projection before the head, batch 32), at the fast
   setting (32 principal components of the absolute features, no projection) and on all the absolute
   features at the graph branch's batch of 16: the evidence for the defaults.

    python -m experiments.bench.image_branch [--clips 272] [--crop-clips 24] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from landmarks import extract_landmarks
from landmarks.extraction.clips import find_clips, frame_files
from landmarks.extraction.frames import read_image
from landmarks.face_crops import CropGeometry, crop_faces
from landmarks.parallel import run_jobs

from ..cross_validation import cross_validate
from ..image_branch import image_settings_for
from ..image_data import ImageDataset, load_image_dataset
from .extraction import make_clips

HEADS = ("lstm", "bilstm", "attention", "stacked")
FRAMES = 20


def _decode_folder(folder: str) -> int:
    return sum(read_image(path, colour=True).size > 0 for path in frame_files(Path(folder)))


def crop_rate(root: Path, clips: int, workers: int) -> dict:
    """Crop stage and decode-only frames/s on the same 1080p frames."""
    frames_dir = root / "frames"
    make_clips(frames_dir, clips, FRAMES, seed=0)
    extract_landmarks(frames_dir, root / "landmarks", workers=workers, progress=False)
    folders = [str(clip.path) for clip in find_clips(frames_dir)]
    started = time.perf_counter()
    decoded = sum(count for _, count in run_jobs(_decode_folder, folders, workers=workers, start_method="fork"))
    decode_seconds = time.perf_counter() - started
    started = time.perf_counter()
    manifest = crop_faces(frames_dir, root / "landmarks", root / "crops", geometry=CropGeometry(224),
                          workers=workers, progress=False)
    crop_seconds = time.perf_counter() - started
    assert (manifest["status"] == "ok").all(), manifest
    return {"frames": decoded, "decode_fps": decoded / decode_seconds, "crop_fps": decoded / crop_seconds}


def animated_crops(root: Path, clips: int, workers: int) -> Path:
    """Crops (224 px) of ``clips`` PEMF-shaped animated clips of 20 frames (8 subjects, 3 classes), from a
    folder kept between runs when given."""
    from landmarks import animate_photo

    crops = root / "crops"
    if (crops / "manifest.csv").is_file():
        return crops
    per_subject = max(3, round(clips / 8))
    counts = {c: per_subject // 3 + (i < per_subject % 3) for i, c in enumerate(("neutral", "phasic", "tonic"))}
    animate_photo(root / "frames", subjects=8, clips_per_class=counts, frames=FRAMES, size=(640, 480), seed=0)
    extract_landmarks(root / "frames", root / "landmarks", workers=workers, progress=False)
    crop_faces(root / "frames", root / "landmarks", crops, geometry=CropGeometry(224), workers=workers, progress=False)
    return crops


def bare_rate(backbone: torch.nn.Module, batch: int, size: int, repeats: int = 20) -> float:
    """Frames/s of the backbone alone on random tensors (inference mode), after two warm-up batches."""
    frames = torch.randn(batch, 3, size, size)
    with torch.inference_mode():
        backbone(frames)
        backbone(frames)
        started = time.perf_counter()
        for _ in range(repeats):
            backbone(frames)
    return batch * repeats / (time.perf_counter() - started)


def feature_pass(crops: Path, labels: Path, backbone: str, model: str, cache: Path) -> dict:
    settings = image_settings_for(model=model, backbone=backbone, pretrained="none", size=224, length=FRAMES,
                                  feature_cache=str(cache))
    dataset = settings.data.load(crops, labels)
    feature_cache = settings.feature_cache(crops)
    batch = (settings.transfer.feature_batch // FRAMES) * FRAMES
    bare = bare_rate(feature_cache.backbone, batch, 224)
    started = time.perf_counter()
    features = feature_cache.features(dataset.X, settings.transfer.feature_batch, progress=False)
    seconds = time.perf_counter() - started
    frames = len(dataset) * FRAMES
    return {"backbone": backbone, "frames": frames, "seconds": seconds, "pass_fps": frames / seconds,
            "bare_fps": bare, "features": features, "dataset": dataset}


def head_sweep(dataset: ImageDataset, features: np.ndarray, out: Path, **settings_values) -> tuple[float, dict]:
    """Seconds of five-fold cross-validation of every head on the cached features, and each head's macro-F1."""
    scores = {}
    started = time.perf_counter()
    featured = dataset.with_inputs(features)
    for head in HEADS:
        settings = image_settings_for(model="mobilenetv3-lstm", variant="small", head=head, pretrained="none",
                                      size=224, length=FRAMES, folds=5, **settings_values)
        metrics = cross_validate(featured, settings, out / head, overwrite=True)
        scores[head] = metrics["summary"]["f1_macro"]["mean"]
    return time.perf_counter() - started, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.image_branch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=272, help="animated clips of 20 frames for passes and sweep")
    parser.add_argument("--crop-clips", type=int, default=24, help="1080p clips of 20 frames for the crop rate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="folder to keep (and reuse) the animated clips and crops in")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.keep) if args.keep else Path(scratch)
        crops = crop_rate(Path(scratch) / "crop-rate", args.crop_clips, args.workers)
        print(f"crops: {crops['frames']} frames of 1080p PNG; decode only {crops['decode_fps']:.1f} frames/s, crop "
              f"stage {crops['crop_fps']:.1f} frames/s: {crops['crop_fps'] / crops['decode_fps']:.2f} of decoding "
              f"(target >= 0.8)")
        sys.stdout.flush()
        animated = animated_crops(root / "animated", args.clips, args.workers)
        labels = root / "animated" / "frames" / "labels.csv"
        dataset = load_image_dataset(animated, labels, length=FRAMES, size=224)
        print(f"{len(dataset)} animated clips x {FRAMES} frames, crops of 224 px")
        passes = {}
        for backbone, model in (("mobilenetv3_small_100", "mobilenetv3-lstm"), ("convnext_atto", "convnext-lstm")):
            result = feature_pass(animated, labels, backbone, model, Path(scratch) / "cache")
            passes[backbone] = result
            print(f"feature pass {backbone}: {result['pass_fps']:.1f} frames/s, bare backbone {result['bare_fps']:.1f} "
                  f"frames/s: {result['pass_fps'] / result['bare_fps']:.2f} of it (target >= 0.8); "
                  f"{result['seconds']:.1f} s for {result['frames']} frames")
            sys.stdout.flush()
        small = passes["mobilenetv3_small_100"]
        one_pass = small["frames"] / small["bare_fps"]
        for label, values in (("defaults (clip-relative, projection 64, batch 32)", {}),
                              ("the fast setting (32 components, no projection)",
                               {"feature_dims": 32, "projection": 0, "relative": "none"}),
                              ("all 1,024 absolute features, batch 16",
                               {"projection": 0, "relative": "none", "batch_size": 16})):
            seconds, scores = head_sweep(small["dataset"], small["features"], Path(scratch) / "sweep", **values)
            print(f"head sweep at {label}: 4 heads x 5 folds on cached features in {seconds:.1f} s; one backbone "
                  f"pass over the {small['frames']} frames {one_pass:.1f} s: {seconds / one_pass:.2f}x "
                  "(target <= 1.2); mean macro-F1 " + ", ".join(f"{h} {score:.3f}" for h, score in scores.items()))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
