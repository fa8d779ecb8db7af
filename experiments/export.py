"""Export a graph run for devices: ``python -m experiments.export RUN --format onnx --out DIR``.

Every fold model becomes one ONNX graph with its standardisation inside (input: clips (N, T, 68, C) shaped
as the run's data settings shape them, output: class probabilities), and the ensemble of all folds (their
mean) one more graph. Each is checked against PyTorch on the run's own clips (largest difference, target
1e-4); ``--quantize`` adds a dynamically quantised int8 variant of each, with its accuracy on each fold's own
test clips beside the float model's. DIR/export.json records all of it and the data settings, which
``experiments.onnx_predict`` (onnxruntime only, no PyTorch) needs to shape new clips.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from landmarks.commands import UsageError, run_command
from landmarks.provenance import run_record

from .graph_branch import GraphPipeline
from .run_folder import load_fold_model
from .scoring import RunError

FORMATS = ("onnx",)
MAX_DIFFERENCE = 1e-4


class StandardisedModel(nn.Module):
    """A graph fold pipeline as one module: clips (N, T, V, C) standardised with the fold's statistics, moved
    to the model's (N, C, T, V) layout, scored, and turned into probabilities."""

    def __init__(self, pipeline: GraphPipeline) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(pipeline.standardizer_.mean_, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(pipeline.standardizer_.scale_, dtype=torch.float32))
        self.model = pipeline.model_.eval()

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        standardised = ((clips - self.mean) / self.scale).permute(0, 3, 1, 2)
        return torch.softmax(self.model(standardised), dim=1)


class Ensemble(nn.Module):
    """The mean of several fold modules' probabilities."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(clips) for member in self.members]).mean(dim=0)


def _to_onnx(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    batch = torch.export.Dim("clips", min=1, max=4096)
    torch.onnx.export(module, (example,), path, input_names=["clips"], output_names=["probabilities"],
                      dynamic_shapes={"clips": {0: batch}}, dynamo=True, verbose=False)


def _onnx_probabilities(path: Path, clips: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"clips": clips.astype(np.float32)})[0]


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)


def export_run(run: str | os.PathLike, out: str | os.PathLike, fmt: str = "onnx", quantize: bool = False) -> dict:
    """Export every fold model and the ensemble of run ``run`` into ``out``; returns export.json's content."""
    if fmt not in FORMATS:
        raise UsageError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    run, out = Path(run), Path(out)
    for name in ("config.json", "metrics.json", "folds.csv"):
        if not (run / name).is_file():
            raise RunError(f"{run / name} does not exist: {run} holds no finished run")
    config = json.loads((run / "config.json").read_text())
    folds = sorted(entry["fold"] for entry in json.loads((run / "metrics.json").read_text())["folds"])
    pipelines = {fold: load_fold_model(run, fold) for fold in folds}
    if not all(isinstance(p, GraphPipeline) for p in pipelines.values()):
        kinds = sorted({p.kind for p in pipelines.values()})
        raise RunError(f"{run} is a run of kind {', '.join(kinds)}: export takes graph runs (their fold models are "
                       f"networks on landmark clips); baselines and image runs are not exported yet")
    first = pipelines[folds[0]]
    if not config.get("landmarks") or not Path(config["landmarks"]).is_dir():
        raise RunError(f"{run}: the run's landmarks ({config.get('landmarks')}) are not here, and the exported "
                       f"models are checked on the run's own clips; restore that folder first")
    dataset = first.settings.load_dataset(config["landmarks"], config.get("labels"))
    split = pd.read_csv(run / "folds.csv", dtype={"clip": str}).set_index("clip")["fold"]
    clips_fold = split.reindex(dataset.clips).to_numpy()
    out.mkdir(parents=True, exist_ok=True)
    example = torch.as_tensor(dataset.X[:2], dtype=torch.float32)
    modules = {f"fold{fold}": StandardisedModel(p) for fold, p in pipelines.items()}
    modules["ensemble"] = Ensemble(list(modules.values()))
    report = {}
    for name, module in modules.items():
        path = out / f"{name}.onnx"
        _to_onnx(module.eval(), example, path)
        with torch.no_grad():
            reference = module(torch.as_tensor(dataset.X, dtype=torch.float32)).numpy()
        exported = _onnx_probabilities(path, dataset.X)
        difference = float(np.abs(exported - reference).max())
        if difference > MAX_DIFFERENCE:
            raise RuntimeError(f"{path}: ONNX and PyTorch differ by {difference:.2e} (> {MAX_DIFFERENCE}) on the "
                               f"run's clips; this model does not export faithfully")
        entry = {"file": path.name, "max_difference": difference, "checked_clips": len(dataset)}
        rows = np.ones(len(dataset), bool) if name == "ensemble" else clips_fold == int(name[4:])
        entry["accuracy"] = float((exported[rows].argmax(1) == dataset.y[rows]).mean())
        entry["scored_on"] = "every clip (the folds' own training clips among them)" if name == "ensemble" else \
            "the fold's test clips"
        if quantize:
            quantised = out / f"{name}.int8.onnx"
            _quantize(path, quantised)
            small = _onnx_probabilities(quantised, dataset.X)
            int8_accuracy = float((small[rows].argmax(1) == dataset.y[rows]).mean())
            entry.update(int8_file=quantised.name, int8_accuracy=int8_accuracy,
                         int8_max_difference=float(np.abs(small - reference).max()),
                         int8_bytes=quantised.stat().st_size, float_bytes=path.stat().st_size)
        report[name] = entry
    data = first.settings.data
    record = run_record(run=str(run.resolve()), format=fmt, classes=first.classes_, models=report,
                        input={"name": "clips", "shape": ["N", data.length, 68, data.channels], "dtype": "float32"},
                        data={"length": data.length, "length_mode": data.length_mode, "normalize": data.normalize,
                              "relative": data.relative, "velocity": data.velocity, "min_valid": data.min_valid},
                        clip_frames=config.get("clip_frames", data.length))
    (out / "export.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a finished graph run folder")
    parser.add_argument("--format", default="onnx", choices=FORMATS)
    parser.add_argument("--out", required=True, help="folder for the .onnx files and export.json")
    parser.add_argument("--quantize", action="store_true", help="also write dynamically quantised int8 models")
    parser.add_argument("--seed", type=int, default=0, help="recorded; export involves no randomness")
    args = parser.parse_args(argv)

    def run() -> int:
        record = export_run(args.run, args.out, args.format, args.quantize)
        for name, entry in record["models"].items():
            line = f"{name}: {entry['file']}, max difference to PyTorch {entry['max_difference']:.1e}, accuracy " \
                   f"{entry['accuracy']:.3f}"
            if "int8_file" in entry:
                line += f"; int8 {entry['int8_accuracy']:.3f} ({entry['int8_bytes'] / 1e3:.0f} kB)"
            print(line)
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
