"""Scoring new recordings: ``experiments.predict`` against the extraction stage alone, and ONNX against PyTorch.

1. A 1080p video of ``--frames`` frames (1,800 by default: a minute at 30 fps) made from real photos moving
   smoothly; the extraction stage's own rate on it, and ``predict``'s (extraction, windows, scoring with a
   five-fold STGCN-LSTM run, timeline) on the same video. Target: predict at least 0.8 of extraction.
2. Per-clip latency of the same run's STGCN-LSTM fold model, PyTorch against its ONNX export in
   onnxruntime, one 20-frame clip at a time. Target: ONNX no slower.

    python -m experiments.bench.predict [--frames 1800]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from landmarks import extract_landmarks
from landmarks.synthetic import write_synthetic_dataset

from ..export import StandardisedModel, export_run
from ..predict import predict_run
from ..run_folder import load_fold_model
from ..train_graph import train_graph
from .extraction import SIZE, real_photos


def make_video(path: Path, frames: int, seed: int = 0) -> None:
    """A 1080p mp4 of a real photo filling the frame height, drifting and turning slightly."""
    rng = np.random.default_rng(seed)
    photo = real_photos()[0]
    height = SIZE[1]
    scaled = cv2.resize(photo, (height, height), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    x0 = (SIZE[0] - height) // 2
    canvas[:, x0 : x0 + height] = scaled
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, SIZE)
    phase = rng.uniform(0, 2 * np.pi)
    for f in range(frames):
        angle = 2.0 * np.sin(phase + f / 40.0)
        motion = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), angle, 1.0)
        motion[0, 2] += 20 * np.sin(f / 55.0)
        writer.write(cv2.warpAffine(canvas, motion, SIZE))
    writer.release()


def latency(function, repeats: int = 200) -> float:
    """Median milliseconds of ``function()`` after a few warm-up calls."""
    for _ in range(5):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1800)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_synthetic_dataset(root / "train", subjects=8, seed=0)
        train_graph(root / "train", root / "run", model="stgcn-lstm", folds=5, epochs=5)
        (root / "video").mkdir()
        make_video(root / "video" / "recording.mp4", args.frames)
        started = time.perf_counter()
        extract_landmarks(root / "video", root / "extracted", workers=1, progress=False)
        extraction = args.frames / (time.perf_counter() - started)
        started = time.perf_counter()
        clips = predict_run(root / "run", root / "video", root / "predicted", stride=10, workers=1, progress=False)
        predicting = args.frames / (time.perf_counter() - started)
        print(f"1080p video of {args.frames} frames: extraction alone {extraction:.1f} frames/s; predict (extraction, "
              f"{int(clips.iloc[0]['windows'])} windows scored by 5 folds, timeline) {predicting:.1f} frames/s: "
              f"{predicting / extraction:.2f} of extraction (target >= 0.8)")
        export_run(root / "run", root / "onnx")
        import onnxruntime

        fold = StandardisedModel(load_fold_model(root / "run", 0)).eval()
        clip = np.random.default_rng(0).normal(size=(1, 20, 68, 2)).astype(np.float32)
        tensor = torch.from_numpy(clip)
        session = onnxruntime.InferenceSession(str(root / "onnx" / "fold0.onnx"), providers=["CPUExecutionProvider"])

        def in_torch() -> None:
            with torch.inference_mode():
                fold(tensor)

        torch_ms = latency(in_torch)
        onnx_ms = latency(lambda: session.run(None, {"clips": clip}))
        print(f"STGCN-LSTM fold model, one 20-frame clip: PyTorch {torch_ms:.2f} ms, onnxruntime {onnx_ms:.2f} ms "
              f"({torch_ms / onnx_ms:.2f}x; target: ONNX no slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
