"""Export for devices (experiments.export) and the onnxruntime-only scoring path (experiments.onnx_predict)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from experiments.baselines import run_baseline
from experiments.export import export_run
from experiments.predict import predict_run
from experiments.scoring import RunError
from experiments.train_graph import train_graph

from .conftest import REPO


@pytest.fixture(scope="module")
def graph_run(animated_set, tmp_path_factory):
    frames, _, landmarks = animated_set
    root = tmp_path_factory.mktemp("export")
    train_graph(landmarks, root / "run", frames / "labels.csv", model="stgcn-lstm", folds=3, epochs=3)
    return root / "run"


def test_every_fold_and_the_ensemble_export_and_agree_with_pytorch(graph_run, tmp_path):
    record = export_run(graph_run, tmp_path / "onnx", quantize=True)
    assert set(record["models"]) == {"fold0", "fold1", "fold2", "ensemble"}
    for entry in record["models"].values():
        assert (tmp_path / "onnx" / entry["file"]).is_file() and (tmp_path / "onnx" / entry["int8_file"]).is_file()
        assert entry["max_difference"] <= 1e-4 and entry["checked_clips"] == 36
        assert 0 <= entry["int8_accuracy"] <= 1 and entry["int8_bytes"] > 0
    metrics = json.loads((graph_run / "metrics.json").read_text())
    for fold in metrics["folds"]:  # a fold's ONNX accuracy on its test clips is the run's own
        assert record["models"][f"fold{fold['fold']}"]["accuracy"] == pytest.approx(fold["accuracy"])
    assert json.loads((tmp_path / "onnx" / "export.json").read_text())["data"]["normalize"] == "procrustes"


def test_an_stgcn_run_with_its_time_stretches_exports_too(animated_set, tmp_path):
    frames, _, landmarks = animated_set
    train_graph(landmarks, tmp_path / "stgcn", frames / "labels.csv", model="stgcn", folds=2, epochs=1)
    record = export_run(tmp_path / "stgcn", tmp_path / "onnx")
    assert set(record["models"]) == {"fold0", "fold1", "ensemble"}
    assert all(entry["max_difference"] <= 1e-4 for entry in record["models"].values())


def test_the_onnx_path_scores_like_predict_without_importing_torch(animated_set, graph_run, tmp_path):
    _, _, landmarks = animated_set
    export_run(graph_run, tmp_path / "onnx")
    script = (f"import sys; from experiments.onnx_predict import onnx_predict; "
              f"t = onnx_predict({str(tmp_path / 'onnx')!r}, {str(landmarks)!r}); "
              f"t.to_csv({str(tmp_path / 'onnx.csv')!r}, index=False); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", "the ONNX path must run where PyTorch is not installed"
    onnx = pd.read_csv(tmp_path / "onnx.csv").set_index("clip")
    clips = predict_run(graph_run, landmarks, tmp_path / "predicted", progress=False, timelines=False)
    clips = clips.set_index("clip")
    columns = ["p_neutral", "p_phasic", "p_tonic"]
    assert len(onnx) == 36 and np.allclose(onnx.loc[clips.index, columns], clips[columns], atol=1e-4)


def test_runs_that_cannot_be_exported_are_refused_with_the_reason(animated_set, graph_run, tmp_path):
    frames, _, landmarks = animated_set
    run_baseline(landmarks, tmp_path / "baseline", labels=frames / "labels.csv", folds=3)
    with pytest.raises(RunError, match="export takes graph runs"):
        export_run(tmp_path / "baseline", tmp_path / "out")
    with pytest.raises(RunError, match="holds no finished run"):
        export_run(tmp_path, tmp_path / "out")
    refused = subprocess.run([sys.executable, "-m", "experiments.export", str(graph_run), "--format", "tflite", "--out",
                              str(tmp_path / "x")], capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
