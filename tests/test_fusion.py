"""Late fusion: runs of one split only, weights learned from validation clips only, a run folder out."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from experiments.baselines import run_baseline
from experiments.fuse import main
from experiments.fusion import FusionError, fuse_runs
from experiments.train_graph import train_graph
from landmarks import write_synthetic_dataset


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A graph run and the baseline under its folds, on one small synthetic data set."""
    root = tmp_path_factory.mktemp("fusion")
    data = root / "data"
    write_synthetic_dataset(data, subjects=8, clips_per_class={"neutral": 2, "phasic": 2, "tonic": 2}, seed=2)
    train_graph(data, root / "stgcn", labels=data / "labels.csv", model="stgcn", epochs=3, batch_size=16, lr=3e-3,
                folds=4, resample="none", seed=1)
    run_baseline(data, root / "baseline", labels=data / "labels.csv", folds_file=root / "stgcn" / "folds.csv", seed=1)
    return data, root


def test_the_mean_of_a_run_with_itself_reproduces_it(runs, tmp_path):
    _, root = runs
    metrics = fuse_runs([root / "baseline", root / "baseline"], tmp_path / "same")
    original = pd.read_csv(root / "baseline" / "predictions.csv")
    fused = pd.read_csv(tmp_path / "same" / "predictions.csv")
    assert fused.equals(original)
    assert metrics["pooled"] == json.loads((root / "baseline" / "metrics.json").read_text())["pooled"]


def test_learned_weights_depend_on_validation_clips_only(runs, tmp_path):
    _, root = runs
    fuse_runs([root / "stgcn", root / "baseline"], tmp_path / "first", rule="stacking")
    changed = tmp_path / "changed"
    shutil.copytree(root / "baseline", changed)
    predictions = pd.read_csv(changed / "predictions.csv")
    columns = [c for c in predictions.columns if c.startswith("p_")]
    predictions[columns] = predictions[columns].to_numpy()[:, ::-1]  # every test probability changed
    predictions.to_csv(changed / "predictions.csv", index=False)
    fuse_runs([root / "stgcn", changed], tmp_path / "second", rule="stacking")
    learned = [json.loads((tmp_path / name / "config.json").read_text())["learned_per_fold"]
               for name in ("first", "second")]
    assert learned[0] == learned[1] and len(learned[0]) == 4
    validation = pd.read_csv(changed / "validation_predictions.csv")
    validation[columns] = validation[columns].to_numpy()[:, ::-1]  # now a validation clip's probabilities
    validation.to_csv(changed / "validation_predictions.csv", index=False)
    fuse_runs([root / "stgcn", changed], tmp_path / "third", rule="stacking")
    assert json.loads((tmp_path / "third" / "config.json").read_text())["learned_per_fold"] != learned[0]


@pytest.mark.parametrize("rule", ["weighted", "product", "vote"])
def test_every_rule_writes_a_run_folder_that_can_be_fused_again(runs, tmp_path, rule):
    _, root = runs
    metrics = fuse_runs([root / "stgcn", root / "baseline"], tmp_path / rule, rule=rule)
    fused = pd.read_csv(tmp_path / rule / "predictions.csv")
    probabilities = fused[[c for c in fused.columns if c.startswith("p_")]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4) and len(fused) == 48
    assert len(metrics["folds"]) == 4
    if rule == "weighted":
        weights = json.loads((tmp_path / rule / "config.json").read_text())["learned_per_fold"]
        assert all(abs(sum(w) - 1) < 1e-5 and min(w) >= 0 for w in weights.values())
    fuse_runs([tmp_path / rule, root / "stgcn"], tmp_path / f"{rule}-again")


def test_runs_of_other_splits_or_clips_are_refused_with_the_clips_named(runs, tmp_path, capsys):
    data, root = runs
    other = tmp_path / "other"
    run_baseline(data, other, labels=data / "labels.csv", folds=4, seed=7)  # a fresh split
    with pytest.raises(FusionError, match="puts clip\\(s\\) S0.* in other folds"):
        fuse_runs([root / "stgcn", other], tmp_path / "refused")
    fewer = tmp_path / "fewer"
    shutil.copytree(root / "baseline", fewer)
    predictions = pd.read_csv(fewer / "predictions.csv")
    predictions[predictions["clip"] != "S01/neutral/clip01"].to_csv(fewer / "predictions.csv", index=False)
    with pytest.raises(FusionError, match="differ in 1 clip\\(s\\), e.g. S01/neutral/clip01; pass --common-clips"):
        fuse_runs([root / "stgcn", fewer], tmp_path / "refused")
    assert main([str(root / "stgcn"), str(fewer), "--out", str(tmp_path / "common"), "--common-clips"]) == 0
    assert len(pd.read_csv(tmp_path / "common" / "predictions.csv")) == 47
    assert "47 clips every run has; 1 left out" in capsys.readouterr().err
    assert main([str(root / "stgcn"), str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 1
