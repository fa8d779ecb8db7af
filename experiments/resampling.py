"""Oversampling of the training part only (SMOTE or random), on flattened landmark sequences.

Synthetic clips are interpolations between real training clips of one class; they exist only inside
a training fold and are never validated or tested on.
"""

from __future__ import annotations

import warnings

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler

METHODS = ("smote", "random", "none")


def oversample(
    X: np.ndarray, y: np.ndarray, method: str, seed: int, k_neighbors: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balance the classes of (X, y); X of any shape (N, ...). Returns (X, y, synthetic) where the first
    N rows are the input unchanged and ``synthetic`` marks the rows added.

    SMOTE needs ``k_neighbors`` same-class neighbours; when the smallest class has fewer clips, k is lowered
    to what it allows (with a warning), and a class of a single clip stops with an error.
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
        smallest = int(np.bincount(y)[np.unique(y)].min())
        if smallest < 2:
            raise ValueError(
                "SMOTE needs at least 2 training clips of every class, but a class has only 1 in this training "
                "part; use --resample random or none, or fewer folds"
            )
        k = min(k_neighbors, smallest - 1)
        if k < k_neighbors:
            warnings.warn(
                f"SMOTE: the smallest class has {smallest} training clips, so k_neighbors is lowered "
                f"from {k_neighbors} to {k}",
                stacklevel=2,
            )
        sampler = SMOTE(k_neighbors=k, random_state=seed)
    flat_resampled, y_resampled = sampler.fit_resample(flat, y)
    synthetic = np.arange(len(y_resampled)) >= len(y)
    return flat_resampled.reshape(-1, *X.shape[1:]).astype(X.dtype), y_resampled, synthetic
