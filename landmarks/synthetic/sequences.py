"""Synthetic landmark clips with known labels: varied faces making pain expressions over time.

Faces are the average face with a per-subject identity deformation; expressions are the pain action units
of ``expressions`` driven by a temporal profile per class (phasic, tonic, or neutral: no pain units, blinks
and small mouth movements only). Head motion, tracker jitter and dropped frames are added on top. The files
use the extraction schema, so every later stage runs on them unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..layout import MEAN_SHAPE, N_POINTS, mirror_permutation, rotate
from ..schema import CSV_COLUMNS, write_table_atomic
from .expressions import CLASSES, action_units, pain_expression, temporal_profile


@dataclass(frozen=True)
class SyntheticSettings:
    frames: int = 20
    identity_spread: float = 0.04  # per-subject shape variation, eye-corner distances
    head_rotation_deg: float = 1.0  # random-walk step of head roll per frame
    head_shift: float = 0.01  # random-walk step of head position per frame, eye-corner distances
    jitter: float = 0.008  # tracker noise per point and frame, eye-corner distances
    drop_rate: float = 0.05  # share of frames without a face (success=0)
    blink_rate: float = 0.05  # chance per frame that a blink starts (all classes)


def _identity(rng: np.random.Generator, spread: float) -> np.ndarray:
    noise = rng.normal(0.0, spread, size=(N_POINTS, 2))
    symmetric = (noise + noise[mirror_permutation()] * np.array([-1.0, 1.0])) / 2.0
    widths = np.array([1.0 + rng.normal(0, spread), 1.0 + rng.normal(0, spread)])
    return MEAN_SHAPE * widths + symmetric


def synthetic_clip(
    kind: str, identity: np.ndarray, rng: np.random.Generator, settings: SyntheticSettings, expressiveness: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One clip in eye-corner units around the origin: points (T, 68, 2) and success (T,)."""
    frames = settings.frames
    units = action_units()
    intensity = temporal_profile(kind, frames, rng) * rng.uniform(0.6, 1.0) * expressiveness
    shapes = identity[None] + intensity[:, None, None] * pain_expression()[None]
    shapes = shapes + blink_course(frames, settings.blink_rate, rng)[:, None, None] * units["blink"] * 0.9
    if kind == "neutral":  # talking-like mouth movement, unrelated to pain
        shapes = shapes + rng.uniform(0, 0.5) * np.abs(np.sin(np.arange(frames) / 2.0))[:, None, None] * units["mouth"]
    return head_motion_and_tracking(shapes, rng, settings.head_rotation_deg, settings.head_shift, settings.jitter,
                                    settings.drop_rate)


def blink_course(frames: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Eye closure (frames,) in [0, 1]: a blink starts at each frame with chance ``rate``, closed for one
    frame and half closed the next."""
    blink = np.zeros(frames)
    for start in np.nonzero(rng.random(frames) < rate)[0]:
        blink[start : start + 2] = np.maximum(blink[start : start + 2], [1.0, 0.5][: len(blink[start : start + 2])])
    return blink


def head_motion_and_tracking(
    shapes: np.ndarray, rng: np.random.Generator, rotation_deg: float, shift: float, jitter: float, drop_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Shapes (T, 68, 2) moved by a random walk of head roll (``rotation_deg`` per frame) and position
    (``shift`` per frame), with tracker noise ``jitter`` per point, and which frames the tracker found
    (share ``drop_rate`` lost, at least one found): (points, success)."""
    frames = len(shapes)
    roll = np.cumsum(rng.normal(0, np.deg2rad(rotation_deg), frames))
    walk = np.cumsum(rng.normal(0, shift, (frames, 2)), axis=0)
    moved = rotate(shapes, roll) + walk[:, None, :]
    moved = moved + rng.normal(0, jitter, moved.shape)
    success = rng.random(frames) >= drop_rate
    success[rng.integers(frames)] = True
    return moved, success


def synthetic_sequences(
    subjects: int = 8,
    clips_per_class: dict[str, int] | None = None,
    settings: SyntheticSettings | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate clips in memory: a table with columns clip, label, subject, points (T, 68, 2, eye-corner
    units) and success (T,). ``clips_per_class`` is per subject (unequal counts give imbalance)."""
    settings = settings or SyntheticSettings()
    counts = clips_per_class or {name: 3 for name in CLASSES}
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(subjects):
        subject = f"S{s + 1:02d}"
        identity = _identity(rng, settings.identity_spread)
        expressiveness = rng.uniform(0.7, 1.2)
        for label, count in counts.items():
            for c in range(count):
                points, success = synthetic_clip(label, identity, rng, settings, expressiveness)
                rows.append({
                    "clip": f"{subject}/{label}/clip{c + 1:02d}", "label": label, "subject": subject,
                    "points": points, "success": success,
                })
    return pd.DataFrame(rows)


def clip_table(points: np.ndarray, success: np.ndarray, fps: float = 30.0) -> pd.DataFrame:
    """A clip (pixels) as a table in the extraction schema, landmark cells empty where success is 0."""
    frames = len(points)
    coords = np.concatenate([points[..., 0], points[..., 1]], axis=1)
    coords[~success] = np.nan
    meta = np.column_stack([np.arange(1, frames + 1), np.zeros(frames), np.arange(frames) / fps,
                            success.astype(float) * 0.9, success.astype(int)])
    table = pd.DataFrame(np.column_stack([meta, coords]), columns=CSV_COLUMNS)
    for column in ("frame", "face_id", "success"):
        table[column] = table[column].astype(int)
    return table


def write_synthetic_dataset(
    output: str | os.PathLike,
    subjects: int = 8,
    clips_per_class: dict[str, int] | None = None,
    settings: SyntheticSettings | None = None,
    seed: int = 0,
    image_size: tuple[int, int] = (1920, 1080),
) -> pd.DataFrame:
    """Write synthetic clips as landmark CSVs (pixels of a ``image_size`` frame) plus ``labels.csv``
    (clip, label, subject) under ``output``; returns the labels table."""
    return write_clip_tables(synthetic_sequences(subjects, clips_per_class, settings, seed), output, seed, image_size)


def write_clip_tables(
    table: pd.DataFrame, output: str | os.PathLike, seed: int, image_size: tuple[int, int] = (1920, 1080)
) -> pd.DataFrame:
    """Write in-memory clips (clip, label, subject, points in eye-corner units, success) as landmark CSVs,
    each face placed at a random size and position of a ``image_size`` frame, plus ``labels.csv``; returns
    the labels table."""
    output = Path(output)
    rng = np.random.default_rng(seed + 1)
    for row in table.itertuples(index=False):
        eye_px = rng.uniform(0.12, 0.2) * image_size[0]
        centre = np.array(image_size) / 2.0 + rng.normal(0, 0.03, 2) * image_size[1]
        write_table_atomic(clip_table(row.points * eye_px + centre, row.success), output / f"{row.clip}.csv")
    labels = table[["clip", "label", "subject"]]
    write_table_atomic(labels, output / "labels.csv")
    return labels
