"""Leakage-free splits: subject-grouped, stratified outer folds and inner validation splits.

No subject is ever on both sides of a split. ``check_no_leakage`` re-checks every split at run time, so
a hand-made or edited folds file that mixes subjects is refused instead of silently inflating scores.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

FOLDS_COLUMNS = ["clip", "subject", "fold"]


class LeakageError(RuntimeError):
    """A subject appears in both the training and the evaluation part of a split."""


def grouped_folds(y: np.ndarray, subjects: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold number (0..n_folds-1) of every clip: stratified by label, grouped by subject."""
    groups = np.asarray(subjects)
    count = len(np.unique(groups))
    if n_folds < 2:
        raise ValueError(f"folds must be at least 2, got {n_folds}")
    if count < n_folds:
        raise ValueError(
            f"{n_folds} subject-grouped folds need at least {n_folds} subjects, the data has {count}: "
            f"use --folds {count} or fewer"
        )
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = np.full(len(y), -1, dtype=int)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        folds[test] = fold
    return folds


def check_no_leakage(subjects: np.ndarray, train: np.ndarray, test: np.ndarray, where: str) -> None:
    """Raise ``LeakageError`` naming the subjects that sit on both sides of a split."""
    shared = sorted(set(np.asarray(subjects)[train]) & set(np.asarray(subjects)[test]))
    if shared:
        listed = ", ".join(map(str, shared[:10])) + (" ..." if len(shared) > 10 else "")
        raise LeakageError(
            f"{where}: subject(s) {listed} appear in both training and evaluation data; every clip of a "
            f"subject must be in the same fold (regenerate the folds, or fix the folds file)"
        )


def validation_split(
    y: np.ndarray, subjects: np.ndarray, share: float, seed: int, grouped: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Split a training part into (fit, validation) positions by subject, stratified, about ``share`` of
    the subjects held out for early stopping and model selection (``share`` 0: none, every position fits).
    ``grouped=False`` splits clips instead (the published practice; kept only to measure what it does to
    scores)."""
    if share == 0:
        return np.arange(len(y)), np.zeros(0, dtype=int)
    if not grouped:
        splitter = StratifiedKFold(n_splits=max(2, round(1.0 / share)), shuffle=True, random_state=seed)
        return next(splitter.split(np.zeros(len(y)), y))
    groups = np.asarray(subjects)
    count = len(np.unique(groups))
    if count < 2:
        raise ValueError(
            f"the training part has only {count} subject, so no subject-grouped validation split is possible; "
            f"use more subjects or fewer folds"
        )
    splits = int(min(count, max(2, round(1.0 / share))))
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    fit, validation = next(splitter.split(np.zeros(len(y)), y, groups))
    return fit, validation


def write_folds(path: str | os.PathLike, clips: list[str], subjects: np.ndarray, folds: np.ndarray) -> None:
    table = pd.DataFrame({"clip": clips, "subject": subjects, "fold": folds})
    table.to_csv(path, index=False)


def read_folds(path: str | os.PathLike, clips: list[str], subjects: np.ndarray) -> np.ndarray:
    """The fold of every clip from a ``folds.csv`` (clip, subject, fold) of an earlier run; every clip of
    the data set must be listed with the same subject."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"folds file {path} does not exist")
    table = pd.read_csv(path, dtype={"clip": str, "subject": str})
    missing_columns = [c for c in FOLDS_COLUMNS if c not in table.columns]
    if missing_columns:
        raise ValueError(f"folds file {path} lacks column(s) {', '.join(missing_columns)}; expected clip,subject,fold")
    if table["clip"].duplicated().any():
        raise ValueError(f"folds file {path} lists clip {table['clip'][table['clip'].duplicated()].iloc[0]} twice")
    by_clip = table.set_index("clip")
    missing = [c for c in clips if c not in by_clip.index]
    if missing:
        raise ValueError(
            f"folds file {path} has no fold for {len(missing)} clip(s) of the data set, e.g. {missing[:3]}; "
            f"it was made for other data"
        )
    listed = by_clip.loc[clips]
    wrong = [c for c, s, listed_s in zip(clips, subjects, listed["subject"], strict=True) if str(s) != listed_s]
    if wrong:
        raise ValueError(f"folds file {path} gives other subjects for clip(s) {wrong[:3]} than the data set")
    return listed["fold"].to_numpy(dtype=int)
