"""Frame-order-blind reference: how far the clip's average shape alone gets, under the same folds.

A landmark model that cannot beat this baseline is not using the face's movement over time. The
baseline averages every clip over its frames (so any reordering of frames gives the same input) and fits
a standardised logistic regression inside each training fold.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from landmarks import LandmarkDataset

from .metrics import classification_metrics, summarise
from .protocol import check_no_leakage


def frame_average_baseline(dataset: LandmarkDataset, folds: np.ndarray, regularisation: float = 1.0) -> np.ndarray:
    """Out-of-fold class predictions (N,) of logistic regression on each clip's mean over frames."""
    features = dataset.X[..., :2].mean(axis=1).reshape(len(dataset), -1)
    predictions = np.zeros(len(dataset), dtype=int)
    for fold in np.unique(folds):
        train, test = np.nonzero(folds != fold)[0], np.nonzero(folds == fold)[0]
        check_no_leakage(dataset.subjects, train, test, f"baseline fold {fold}")
        classifier = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=5000))
        classifier.fit(features[train], dataset.y[train])
        predictions[test] = classifier.predict(features[test])
    return predictions


def out_of_fold_metrics(y: np.ndarray, predicted: np.ndarray, folds: np.ndarray, classes: list[str]) -> dict:
    """Scores of out-of-fold predictions as metrics.json holds a run's: per fold, mean and std, pooled."""
    per_fold = [{"fold": int(fold), **classification_metrics(y[folds == fold], predicted[folds == fold], classes)}
                for fold in np.unique(folds)]
    return {"classes": classes, "summary": summarise(per_fold),
            "pooled": classification_metrics(y, predicted, classes), "folds": per_fold}
