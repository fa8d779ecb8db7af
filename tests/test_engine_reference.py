"""The cross-validation engine, rewritten to serve every model kind, gives the graph branch the very numbers
it gave before the rewrite: the same predictions, byte for byte, and the same scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
    assert (tmp_path / name / "predictions.csv").read_bytes() == (expected / "predictions.csv").read_bytes()
    before = json.loads((expected / "metrics.json").read_text())
    assert metrics["summary"] == before["summary"] and metrics["pooled"] == before["pooled"]
    for now, then in zip(metrics["folds"], before["folds"], strict=True):
        assert {key: now[key] for key in SCORES} == {key: then[key] for key in SCORES}
