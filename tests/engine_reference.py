"""The data and settings of the reference runs that pin the cross-validation engine's numbers.

``tests/data/reference_runs/`` holds predictions.csv and metrics.json of runs made with the engine as it was
before the branch-agnostic rewrite (commit 9a09558); ``test_engine_reference`` re-runs them and asks for the
same bytes. The clips are made here from numpy's generator alone, so the check depends on the engine and the
models, not on the synthetic-data modules.
"""

from __future__ import annotations

import numpy as np

CLASSES = ["neutral", "phasic", "tonic"]

REFERENCE_RUNS = {
    # STGCN-LSTM with SMOTE, class weights and velocity channels; its graph, head, dropout and training without
    # augmentation, gradient clipping or a checkpoint ensemble as they were then (the defaults have since
    # become the reference graph, a Bi-LSTM, dropout 0.25, augmented clips, clipped gradients and the 5 best
    # epochs averaged: changes of the model and the recipe, not the engine's)
    "stgcn_lstm_smote": {"model": "stgcn-lstm", "graph": "anatomical", "head": "stacked", "dropout": 0.0,
                         "resample": "smote", "class_weights": "simple", "augment": False, "epochs": 3, "folds": 3,
                         "batch_size": 8, "lr": 3e-3, "seed": 7, "clip_norm": 0.0, "checkpoints": 1},
    # the other model, focal loss, random oversampling, augmentation and early stopping, unclipped, the best
    # epoch alone; STGCN as it was then (the anatomical graph, one average over the clip, strides 1, 2, 2,
    # blocks of 16, 32, 64 channels: its defaults have since become the reference graph, five stretches, every
    # frame kept and narrower blocks, model changes, not the engine's)
    "stgcn_focal_augment": {"model": "stgcn", "graph": "anatomical", "time_bins": 1, "strides": (1, 2, 2),
                            "channels": (16, 32, 64), "resample": "random", "loss": "focal", "augment": True,
                            "patience": 2, "epochs": 4, "folds": 3, "batch_size": 8, "lr": 3e-3, "seed": 3,
                            "clip_norm": 0.0, "checkpoints": 1},
}


def reference_arrays(subjects: int = 8, frames: int = 20, seed: int = 0):
    """(X (N, T, 68, 4), y, subjects, clips): faces with a per-subject shape whose points move along a
    fixed random field with a per-class time course, plus velocity channels; neutral clips are twice as
    common as phasic or tonic ones."""
    rng = np.random.default_rng(seed)
    field = rng.normal(0.0, 0.05, size=(68, 2))
    t = np.linspace(0.0, 1.0, frames)
    courses = {
        "neutral": lambda: np.zeros(frames),
        "phasic": lambda: np.exp(-(((t - rng.uniform(0.3, 0.6)) / 0.1) ** 2)),
        "tonic": lambda: np.clip((t - rng.uniform(0.05, 0.3)) / 0.4, 0.0, 1.0),
    }
    counts = {"neutral": 4, "phasic": 2, "tonic": 2}
    X, y, subject_ids, clips = [], [], [], []
    for s in range(subjects):
        face = rng.normal(0.0, 1.0, size=(68, 2))
        for label, count in counts.items():
            for c in range(count):
                course = courses[label]() * rng.uniform(0.6, 1.0)
                points = face[None] + course[:, None, None] * field[None]
                points = points + rng.normal(0.0, 0.01, size=points.shape)
                velocity = np.diff(points, axis=0, prepend=points[:1])
                X.append(np.concatenate([points, velocity], axis=-1))
                y.append(CLASSES.index(label))
                subject_ids.append(f"S{s + 1:02d}")
                clips.append(f"S{s + 1:02d}/{label}/clip{c + 1:02d}")
    return np.stack(X).astype(np.float32), np.array(y, dtype=np.int64), np.array(subject_ids), clips
