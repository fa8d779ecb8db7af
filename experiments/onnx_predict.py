"""Scoring landmark CSVs with an exported run, with onnxruntime only (no PyTorch): for devices.

    python -m experiments.onnx_predict EXPORT_DIR LANDMARKS --out scores.csv [--model ensemble] [--int8]

EXPORT_DIR is the output of ``python -m experiments.export``; LANDMARKS a folder of landmark CSVs (the
output of ``landmarks.extract``, OpenFace or py-feat files). Every clip is cut into windows of the run's
clip length (half a window apart), shaped as the run shaped its clips (export.json's data settings) and
scored; windows with too few tracked frames are marked, not scored. Imports numpy, pandas, onnxruntime and
the landmark readers; never torch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from landmarks.commands import run_command
from landmarks.dataset.assemble import landmark_files, shape_clip
from landmarks.dataset.normalize import named_normalizer
from landmarks.dataset.reading import read_landmarks

from .windows import windows_of


def onnx_predict(export_dir: str | os.PathLike, landmarks: str | os.PathLike, model: str = "ensemble",
                 int8: bool = False) -> pd.DataFrame:
    """Windows of every landmark CSV under ``landmarks`` scored by an exported model: clip, start_frame,
    end_frame, tracked, scored, p_<class>, label."""
    import onnxruntime

    export_dir = Path(export_dir)
    record_path = export_dir / "export.json"
    if not record_path.is_file():
        raise FileNotFoundError(f"{record_path} does not exist: export the run first (python -m experiments.export)")
    record = json.loads(record_path.read_text())
    if model not in record["models"]:
        raise ValueError(f"{export_dir} has no model {model!r}; it has {', '.join(record['models'])}")
    entry = record["models"][model]
    file = entry.get("int8_file") if int8 else entry["file"]
    if file is None:
        raise ValueError(f"{export_dir} holds no int8 model: export with --quantize")
    session = onnxruntime.InferenceSession(str(export_dir / file), providers=["CPUExecutionProvider"])
    data, classes = record["data"], record["classes"]
    normalizer = named_normalizer(data["normalize"])
    window = int(record.get("clip_frames", data["length"]))
    rows = []
    for clip, path in landmark_files(Path(landmarks)).items():
        points, success = read_landmarks(path)
        for start, end in windows_of(len(points), window, max(1, window // 2)):
            tracked = float(success[start:end].mean())
            row = {"clip": clip, "start_frame": start + 1, "end_frame": end, "tracked": round(tracked, 4),
                   "scored": int(tracked >= data["min_valid"])}
            if row["scored"]:
                sequence, _ = shape_clip(points[start:end], success[start:end], length=data["length"],
                                         length_mode=data["length_mode"], normalizer=normalizer,
                                         relative=data["relative"], velocity=data["velocity"])
                probabilities = session.run(None, {"clips": sequence[None].astype(np.float32)})[0][0]
                row.update({f"p_{name}": float(p) for name, p in zip(classes, probabilities, strict=True)})
                row["label"] = classes[int(np.argmax(probabilities))]
            rows.append(row)
    return pd.DataFrame(rows, columns=["clip", "start_frame", "end_frame", "tracked", "scored",
                                       *(f"p_{name}" for name in classes), "label"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.onnx_predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export_dir", help="output of python -m experiments.export")
    parser.add_argument("landmarks", help="folder of landmark CSVs")
    parser.add_argument("--out", required=True, help="CSV of scored windows")
    parser.add_argument("--model", default="ensemble", help="ensemble (default) or fold<k>")
    parser.add_argument("--int8", action="store_true", help="the quantised model (export --quantize)")
    args = parser.parse_args(argv)

    def run() -> int:
        table = onnx_predict(args.export_dir, args.landmarks, args.model, args.int8)
        table.to_csv(args.out, index=False)
        print(f"{len(table)} window(s) of {table['clip'].nunique()} clip(s) -> {args.out}")
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
