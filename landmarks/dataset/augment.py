"""Augmentation of landmark sequences (T, 68, 2): small similarity motions, jitter, timing, mirroring.

Every function takes a ``numpy.random.Generator`` so training is reproducible from one seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layout import eye_distance, eye_midpoint, mirror_permutation, rotate
from .normalize import resample_time


def mirror(points: np.ndarray, axis_x: float | None = None) -> np.ndarray:
    """Horizontal mirror: x reflected about ``axis_x`` (default: the sequence's mean eye midpoint; 0 for
    centred shapes) *and* points re-indexed with their left/right twins, so the right eye's slots keep
    holding a right eye."""
    points = np.asarray(points, dtype=float)
    if axis_x is None:
        axis_x = float(eye_midpoint(points)[..., 0].mean())
    flipped = points[..., mirror_permutation(), :].copy()
    flipped[..., 0] = 2.0 * axis_x - flipped[..., 0]
    return flipped


def similarity(points: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    """Rotate by ``angle_deg`` and scale about the sequence's mean eye midpoint, then shift."""
    points = np.asarray(points, dtype=float)
    centre = eye_midpoint(points).reshape(-1, 2).mean(axis=0)
    return rotate(points - centre, np.deg2rad(angle_deg)) * scale + centre + np.asarray(shift)


def temporal_crop(points: np.ndarray, keep: float, rng: np.random.Generator) -> np.ndarray:
    """A random window of ``keep`` (0-1] of the frames, stretched back to the original length."""
    frames = len(points)
    window = max(2, int(round(keep * frames)))
    start = int(rng.integers(0, frames - window + 1))
    return resample_time(points[start : start + window], frames)


def speed_change(points: np.ndarray, factor: float) -> np.ndarray:
    """Play the clip ``factor`` times faster (>1: the expression ends early and the last frame holds;
    <1: slower, the clip's end is cut), keeping the length."""
    frames = len(points)
    source = np.clip(np.arange(frames) * factor, 0, frames - 1)
    lower = np.floor(source).astype(int)
    upper = np.minimum(lower + 1, frames - 1)
    weight = (source - lower)[:, None, None]
    return (1.0 - weight) * points[lower] + weight * points[upper]


@dataclass(frozen=True)
class Augmenter:
    """Random augmentation of one sequence (T, 68, 2) in units of its coordinates (shift and jitter are
    relative to the eye-corner distance, so the same settings suit pixels and normalised shapes)."""

    rotation_deg: float = 5.0
    scale: float = 0.05
    shift: float = 0.05
    jitter: float = 0.01
    crop: float = 0.9
    speed: float = 0.1
    mirror_probability: float = 0.5

    def __call__(self, points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        unit = float(np.nanmean(eye_distance(points))) or 1.0
        if rng.random() < self.mirror_probability:
            points = mirror(points)
        points = similarity(
            points,
            rng.uniform(-self.rotation_deg, self.rotation_deg),
            1.0 + rng.uniform(-self.scale, self.scale),
            tuple(rng.uniform(-self.shift, self.shift, size=2) * unit),
        )
        if self.crop < 1.0:
            points = temporal_crop(points, rng.uniform(self.crop, 1.0), rng)
        if self.speed > 0:
            points = speed_change(points, 1.0 + rng.uniform(-self.speed, self.speed))
        if self.jitter > 0:
            points = points + rng.normal(0.0, self.jitter * unit, size=points.shape)
        return points
