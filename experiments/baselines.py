"""The simple peers every landmark model is judged against, under the same folds: standardised logistic
regression inside each training part, on

- ``frame-average`` features: each clip's mean shape over its frames. Any reordering of the frames gives the
  same input, so a model that cannot beat it is not using the face's movement over time.
- ``sequence`` features: every frame's coordinates, flattened (the temporal linear model): a graph model
  should beat it too, or its graph and recurrence add nothing a linear map of the time course lacks.

They are fold pipelines like the graph models', so they run through the same cross-validation engine and
write the same run folder:

    run_baseline("landmarks/", "runs/baseline", labels="labels.csv", folds_file="runs/stgcn/folds.csv")
    run_baseline("landmarks/", "runs/temporal", features="sequence", folds_file="runs/stgcn/folds.csv")
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from landmarks import LandmarkDataset

from .cross_validation import cross_validate
from .fold_pipeline import FoldPipeline, restore_scaler, scaler_state
from .protocol import check_no_leakage, read_folds
from .run_folder import check_run_folder
from .settings import DataSettings, ExecutionSettings, ProtocolSettings, SettingsError, group_flat


@dataclass
class BaselineSettings:
    """The baseline's run: how clips are loaded, the protocol's folds, the features (``frame-average`` or
    ``sequence``) and the regularisation of the logistic regression (inverse strength, scikit-learn's C)."""

    data: DataSettings = field(default_factory=lambda: DataSettings(relative="none"))
    protocol: ProtocolSettings = field(default_factory=lambda: ProtocolSettings(resample="none"))
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    regularisation: float = 1.0
    features: str = "frame-average"

    def __post_init__(self) -> None:
        if self.features not in FEATURES:
            raise SettingsError(f"features must be one of {', '.join(FEATURES)}, got {self.features!r}")
        if self.features == "frame-average" and self.data.relative != "none":
            raise SettingsError(f"the frame-average baseline learns from each clip's mean shape, which relative="
                                f"{self.data.relative!r} makes zero; leave relative at none for it")
        if self.protocol.tune_trials:
            raise SettingsError("the linear baselines have nothing to tune: leave tune_trials at 0")

    def make_pipeline(self) -> LinearBaselinePipeline:
        return LinearBaselinePipeline(self)

    def describe(self) -> str:
        return f"{self.features} baseline"

    def as_dict(self) -> dict:
        return asdict(self)

    def load_dataset(self, landmarks: str | os.PathLike, labels: str | os.PathLike | None = None) -> LandmarkDataset:
        return self.data.load(landmarks, labels)

    @classmethod
    def from_dict(cls, values: dict) -> BaselineSettings:
        return cls(DataSettings(**values["data"]), ProtocolSettings(**values["protocol"]),
                   ExecutionSettings(**values["execution"]), values["regularisation"], values["features"])


def frame_average_features(X: np.ndarray) -> np.ndarray:
    """Each clip's mean shape over frames, flattened: (N, T, V, C) -> (N, V * 2)."""
    return np.asarray(X)[..., :2].mean(axis=1).reshape(len(X), -1)


def sequence_features(X: np.ndarray) -> np.ndarray:
    """Every frame's channels, flattened in time order: (N, T, V, C) -> (N, T * V * C)."""
    return np.asarray(X).reshape(len(X), -1)


FEATURES = {"frame-average": frame_average_features, "sequence": sequence_features}


class LinearBaselinePipeline(FoldPipeline):
    """Standardiser -> logistic regression on the settings' features of each clip, fitted on the fit part of
    a fold (the validation part selects nothing: there is no epoch to choose)."""

    kind = "linear-baseline"

    def __init__(self, settings: BaselineSettings) -> None:
        self.settings = settings

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> LinearBaselinePipeline:
        self.classes_ = list(classes)
        features = FEATURES[self.settings.features](X)
        self.scaler_ = StandardScaler().fit(features)
        self.model_ = LogisticRegression(C=self.settings.regularisation, max_iter=5000)
        self.model_.fit(self.scaler_.transform(features), y)
        self.facts_ = {"classes_seen": [self.classes_[i] for i in self.model_.classes_]}
        self.history_ = {"train_loss": [], "val_loss": [], "val_accuracy": [], "best_epoch": 0}
        if on_epoch is not None:
            on_epoch(1)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes); a class the fit part lacked gets probability 0."""
        seen = self.model_.predict_proba(self.scaler_.transform(FEATURES[self.settings.features](X)))
        probabilities = np.zeros((len(X), len(self.classes_)))
        probabilities[:, self.model_.classes_] = seen
        return probabilities

    def state(self) -> dict:
        return {
            "settings": self.settings.as_dict(), "classes": self.classes_,
            "scaler": scaler_state(self.scaler_),
            "model": {"coef": torch.from_numpy(self.model_.coef_),
                      "intercept": torch.from_numpy(self.model_.intercept_),
                      "classes": torch.from_numpy(self.model_.classes_)},
        }

    @classmethod
    def from_state(cls, state: dict) -> LinearBaselinePipeline:
        pipeline = cls(BaselineSettings.from_dict(state["settings"]))
        pipeline.classes_ = list(state["classes"])
        pipeline.scaler_ = restore_scaler(StandardScaler(), state["scaler"])
        pipeline.model_ = LogisticRegression(C=pipeline.settings.regularisation)
        pipeline.model_.coef_ = state["model"]["coef"].numpy()
        pipeline.model_.intercept_ = state["model"]["intercept"].numpy()
        pipeline.model_.classes_ = state["model"]["classes"].numpy()
        pipeline.model_.n_features_in_ = pipeline.model_.coef_.shape[1]
        return pipeline


def baseline_settings(regularisation: float = 1.0, features: str = "frame-average", **flat) -> BaselineSettings:
    """Baseline settings from flat names (``length``, ``normalize``, ``velocity``, ``folds``, ``seed`` ...). The
    temporal model takes the data settings' defaults, as the graph models do (clip-relative shapes); the
    frame-average one takes absolute shapes, whose clip mean is its input."""
    if features == "frame-average" and flat.get("relative") is None:
        flat = {**flat, "relative": "none"}
    groups, _, rest = group_flat({name: value for name, value in flat.items() if value is not None})
    if rest:
        raise SettingsError(f"the frame-average baseline takes no setting {', '.join(sorted(rest))}")
    return BaselineSettings(groups["data"], groups["protocol"], groups["execution"], regularisation, features)


def run_baseline(
    landmarks: str | os.PathLike,
    out: str | os.PathLike,
    labels: str | os.PathLike | None = None,
    folds_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    regularisation: float = 1.0,
    features: str = "frame-average",
    **flat,
) -> dict:
    """The baseline as a run folder under the same protocol as the models (``folds_file``: an earlier run's
    folds.csv, so it sits in every comparison); returns metrics.json's content."""
    settings = baseline_settings(regularisation, features, **flat)
    check_run_folder(out, overwrite)
    dataset = settings.load_dataset(landmarks, labels)
    folds = read_folds(folds_file, dataset.clips, dataset.subjects) if folds_file is not None else None
    config = {"landmarks": str(Path(landmarks).resolve()), "labels": None if labels is None else str(labels),
              "folds_file": None if folds_file is None else str(folds_file), "dataset": dataset.summary(),
              "clip_frames": int(np.median(dataset.raw_frames))}
    return cross_validate(dataset, settings, out, folds=folds, config=config, overwrite=overwrite)


def frame_average_baseline(dataset: LandmarkDataset, folds: np.ndarray, regularisation: float = 1.0) -> np.ndarray:
    """Out-of-fold class predictions (N,) of the baseline for a given split, without a run folder."""
    predictions = np.zeros(len(dataset), dtype=int)
    settings = BaselineSettings(regularisation=regularisation)
    for fold in np.unique(folds):
        train, test = np.nonzero(folds != fold)[0], np.nonzero(folds == fold)[0]
        check_no_leakage(dataset.subjects, train, test, f"baseline fold {fold}")
        pipeline = LinearBaselinePipeline(settings).fit(dataset.X[train], dataset.y[train], dataset.X[:0],
                                                      dataset.y[:0], classes=dataset.classes, seed=0)
        predictions[test] = pipeline.predict_proba(dataset.X[test]).argmax(1)
    return predictions
