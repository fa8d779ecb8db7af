"""Classification scores as the papers report them (weighted) and as imbalance demands (macro)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

SUMMARY_KEYS = (
    "accuracy", "precision_weighted", "recall_weighted", "f1_weighted", "precision_macro", "recall_macro", "f1_macro",
)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, precision/recall/F1 (weighted and macro), per-class scores and the confusion matrix
    (rows: true class, columns: predicted, in the order of ``classes``)."""
    labels = list(range(len(classes)))
    scores = {"accuracy": float(accuracy_score(y_true, y_pred)), "clips": int(len(y_true))}
    for average in ("weighted", "macro"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
        scores.update({f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)})
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    scores["per_class"] = {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i, name in enumerate(classes)
    }
    scores["confusion"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return scores


def summarise(per_fold: list[dict]) -> dict:
    """Mean and standard deviation over folds of every summary score."""
    return {
        key: {
            "mean": float(np.mean([fold[key] for fold in per_fold])),
            "std": float(np.std([fold[key] for fold in per_fold])),
        }
        for key in SUMMARY_KEYS
    }
