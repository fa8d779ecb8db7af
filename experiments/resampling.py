"""Oversampling of the training part only (SMOTE or random), on flattened landmark sequences.

Synthetic clips are interpolations between real training clips of one class; they exist only inside
a training fold and are never validated or tested on.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler

METHODS = ("smote", "random", "none")


def smote_neighbours(smallest: int, k_neighbors: int = 5, name: str = "one class") -> int:
    """SMOTE's neighbour count for a training part whose smallest class (``name``) has ``smallest`` clips:
    ``k_neighbors``, or fewer when that class cannot supply them; a class of a single clip is refused."""
    if smallest < 2:
        raise ValueError(
            f"SMOTE needs at least 2 training clips of every class, but class {name} has only 1 in this "
            "training part; use --resample random or none, or fewer folds"
        )
    return min(k_neighbors, smallest - 1)


def oversample(
    X: np.ndarray,
    y: np.ndarray,
    method: str,
    seed: int,
    k_neighbors: int = 5,
    class_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balance the classes of (X, y); X of any shape (N, ...). Returns (X, y, synthetic) where the first
    N rows are the input unchanged and ``synthetic`` marks the rows added.

    SMOTE needs ``k_neighbors`` same-class neighbours; when the smallest class has fewer clips, k is lowered
    to what it allows (with a warning), and a class of a single clip stops with an error that names it
    (from ``class_names``, indexed by label, when given).
    """
    if method not in METHODS:
        raise ValueError(f"unknown resampling {method!r}; choose one of {', '.join(METHODS)}")
    X, y = np.asarray(X), np.asarray(y)
    if method == "none" or len(np.unique(y)) < 2:
        return X, y, np.zeros(len(y), dtype=bool)
    flat = X.reshape(len(X), -1)
    if method == "random":
        sampler = RandomOverSampler(random_state=seed)
    else:
        present, counts = np.unique(y, return_counts=True)
        smallest = int(counts.min())
        label = int(present[counts.argmin()])
        name = repr(class_names[label]) if class_names is not None else f"label {label}"
        k = smote_neighbours(smallest, k_neighbors, name)
        if k < k_neighbors:
            warnings.warn(
                f"SMOTE: the smallest class, {name}, has {smallest} training clips, so k_neighbors is lowered "
                f"from {k_neighbors} to {k}",
                stacklevel=2,
            )
        sampler = SMOTE(k_neighbors=k, random_state=seed)
    flat_resampled, y_resampled = sampler.fit_resample(flat, y)
    synthetic = np.arange(len(y_resampled)) >= len(y)
    return flat_resampled.reshape(-1, *X.shape[1:]).astype(X.dtype), y_resampled, synthetic
