"""The frame-order-blind baseline as a fold pipeline: a run folder like the models', under their folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.baselines import BaselineSettings, LinearBaselinePipeline, run_baseline
from experiments.protocol import grouped_folds, write_folds
from experiments.run_folder import load_fold_model
from experiments.settings import SettingsError
from landmarks import write_synthetic_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    write_synthetic_dataset(folder, subjects=8, clips_per_class={"neutral": 3, "phasic": 2, "tonic": 2}, seed=4)
    return folder


def test_the_baseline_runs_through_the_engine_under_another_runs_folds(data, tmp_path):
    dataset = BaselineSettings().load_dataset(data, data / "labels.csv")  # absolute shapes, as the baseline loads
    split = grouped_folds(dataset.y, dataset.subjects, 4, seed=9)
    write_folds(tmp_path / "folds.csv", dataset.clips, dataset.subjects, split)
    metrics = run_baseline(data, tmp_path / "run", labels=data / "labels.csv", folds_file=tmp_path / "folds.csv")
    for name in ("config.json", "predictions.csv", "validation_predictions.csv", "metrics.json", "confusion.png"):
        assert (tmp_path / "run" / name).is_file(), name
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert (pd.read_csv(tmp_path / "run" / "folds.csv")["fold"].to_numpy() == split).all()
    for facts in metrics["folds"]:  # each fold learned from its fit clips alone: not validation, not test
        fit = (split != facts["fold"]) & ~np.isin(dataset.subjects, facts["validation_subjects"])
        assert fit.sum() == facts["fit_clips"]
        test = split == facts["fold"]
        alone = LinearBaselinePipeline(BaselineSettings()).fit(dataset.X[fit], dataset.y[fit], None, None,
                                                             classes=dataset.classes, seed=0)
        expected = np.array(dataset.classes)[alone.predict_proba(dataset.X[test]).argmax(1)]
        assert (predictions.loc[test, "y_pred"].to_numpy() == expected).all()
    assert metrics["pooled"]["accuracy"] == pytest.approx((predictions["y_pred"] == predictions["y_true"]).mean())
    fold = load_fold_model(tmp_path / "run", 1)  # the baseline's fold files reload like any other
    tested = predictions["fold"] == 1
    probabilities = fold.predict_proba(dataset.X[tested.to_numpy()])
    assert np.allclose(probabilities, predictions.loc[tested, [f"p_{c}" for c in dataset.classes]], atol=1e-6)
    # order-blind: reversed frames give the same probabilities, up to float32 summation order
    assert np.allclose(fold.predict_proba(dataset.X[tested.to_numpy()][:, ::-1]), probabilities, atol=1e-5)
    temporal = run_baseline(data, tmp_path / "temporal", labels=data / "labels.csv", features="sequence",
                            folds_file=tmp_path / "folds.csv")
    assert len(temporal["folds"]) == 4
    sequence = load_fold_model(tmp_path / "temporal", 1)  # the temporal linear peer sees the frames' order
    assert not np.allclose(sequence.predict_proba(dataset.X[tested.to_numpy()][:, ::-1]),
                           sequence.predict_proba(dataset.X[tested.to_numpy()]))
    with pytest.raises(SettingsError, match="features must be one of frame-average, sequence"):
        run_baseline(data, tmp_path / "other", features="pixels")
    with pytest.raises(SettingsError, match="takes no setting head"):
        run_baseline(data, tmp_path / "other", head="lstm")


def test_without_validation_subjects_the_baseline_learns_from_every_training_subject(data, tmp_path):
    """What the dynamics suite relies on when the deep models train on every training subject: the linear
    peers then do too, so neither side of the comparison is fitted on fewer subjects."""
    dataset = BaselineSettings().load_dataset(data, data / "labels.csv")
    split = grouped_folds(dataset.y, dataset.subjects, 4, seed=9)
    write_folds(tmp_path / "folds.csv", dataset.clips, dataset.subjects, split)
    metrics = run_baseline(data, tmp_path / "run", labels=data / "labels.csv", folds_file=tmp_path / "folds.csv",
                           validation_share=0)
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    for facts in metrics["folds"]:
        test = split == facts["fold"]
        assert facts["fit_clips"] == (~test).sum() and facts["validation_subjects"] == []
        alone = LinearBaselinePipeline(BaselineSettings()).fit(dataset.X[~test], dataset.y[~test], None, None,
                                                             classes=dataset.classes, seed=0)
        expected = np.array(dataset.classes)[alone.predict_proba(dataset.X[test]).argmax(1)]
        assert (predictions.loc[test, "y_pred"].to_numpy() == expected).all()
