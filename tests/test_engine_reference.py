"""The cross-validation engine, rewritten to serve every model kind, gives the graph branch the very numbers
it gave before the rewrite: the same predicted class for every clip, the same scores, and probabilities
within 0.01. The reference files were written on another CPU; the same code on this machine's CPU gives
probabilities up to 0.0053 apart after a few epochs (floating-point kernels round differently and training
amplifies it), so the probabilities are compared with a tolerance and everything discrete exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cross_validation import cross_validate
from experiments.graph_branch import settings_for
from landmarks import LandmarkDataset

from .engine_reference import CLASSES, REFERENCE_RUNS, reference_arrays

REFERENCE = Path(__file__).parent / "data" / "reference_runs"
SCORES = ("accuracy", "precision_weighted", "recall_weighted", "f1_weighted", "f1_macro", "per_class", "confusion",
          "synthetic_clips", "best_epoch", "epochs_run", "optimiser_steps", "class_weights", "fit_clips",
          "validation_clips", "test_clips", "validation_subjects", "test_subjects")


@pytest.mark.parametrize("name", sorted(REFERENCE_RUNS))
def test_graph_runs_reproduce_the_numbers_of_the_engine_before_its_rewrite(name, tmp_path):
    X, y, subjects, clips = reference_arrays()
    dataset = LandmarkDataset(X, np.ones(X.shape[:2], bool), y, CLASSES, subjects, clips, np.zeros(len(y)))
    metrics = cross_validate(dataset, settings_for(**REFERENCE_RUNS[name]), tmp_path / name)
    expected = REFERENCE / name
    now, then = pd.read_csv(tmp_path / name / "predictions.csv"), pd.read_csv(expected / "predictions.csv")
    assert list(now.columns) == list(then.columns)
    exact = ["clip", "subject", "fold", "y_true", "y_pred"]
    assert now[exact].equals(then[exact])
    probabilities = [column for column in now.columns if column.startswith("p_")]
    np.testing.assert_allclose(now[probabilities].to_numpy(), then[probabilities].to_numpy(), atol=0.01)
    before = json.loads((expected / "metrics.json").read_text())
    assert metrics["summary"] == before["summary"] and metrics["pooled"] == before["pooled"]
    for now, then in zip(metrics["folds"], before["folds"], strict=True):
        assert {key: now[key] for key in SCORES} == {key: then[key] for key in SCORES}
