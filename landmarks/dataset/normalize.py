"""Per-frame shape normalisation, gap filling and length handling for landmark sequences.

Shapes are arrays (..., 68, 2). Per-frame operations never look at other clips, so they can run before
any train/test split; statistics learned from data live in :class:`Standardizer` (fit on training
folds only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layout import MEAN_SHAPE, NOSE_TIP, eye_distance, eye_midpoint, eye_roll, rotate


def procrustes_align(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Similarity-align each shape (..., 68, 2) to ``reference``: one shape (68, 2) for all, or one per shape
    (..., 68, 2); least-squares rotation, scale and translation, no reflection."""
    ref = np.asarray(reference, dtype=float)
    ref_centre = ref.mean(axis=-2, keepdims=True)
    ref0 = ref - ref_centre
    centre = points.mean(axis=-2, keepdims=True)
    src0 = points - centre
    # closed form for 2-D similarity: rotation angle from the cross-covariance
    a = (src0[..., 0] * ref0[..., 0] + src0[..., 1] * ref0[..., 1]).sum(axis=-1)
    b = (src0[..., 0] * ref0[..., 1] - src0[..., 1] * ref0[..., 0]).sum(axis=-1)
    norm = (src0**2).sum(axis=(-1, -2))
    scale = np.sqrt(a**2 + b**2) / np.where(norm > 0, norm, 1.0)
    angle = np.arctan2(b, a)
    return rotate(src0, angle) * scale[..., None, None] + ref_centre


@dataclass(frozen=True)
class ShapeNormalizer:
    """Per-frame normalisation, each step optional and composable, applied in this order:
    Procrustes alignment to ``reference`` (which fixes position, scale and roll at once), or else
    levelling the eyes (remove head roll), centring (``"eyes"``: outer eye-corner midpoint, ``"nose"``:
    nose tip) and scaling by the outer eye-corner distance."""

    centre: str | None = "eyes"
    scale: bool = True
    level: bool = True
    procrustes: bool = False
    reference: np.ndarray | None = None

    def __post_init__(self):
        if self.centre not in (None, "eyes", "nose"):
            raise ValueError(f"centre must be 'eyes', 'nose' or None, got {self.centre!r}")

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        if self.procrustes:
            return procrustes_align(points, MEAN_SHAPE if self.reference is None else self.reference)
        if self.level:
            pivot = eye_midpoint(points)[..., None, :]
            points = rotate(points - pivot, -eye_roll(points)) + pivot
        if self.centre == "eyes":
            points = points - eye_midpoint(points)[..., None, :]
        elif self.centre == "nose":
            points = points - points[..., NOSE_TIP : NOSE_TIP + 1, :]
        if self.scale:
            distance = eye_distance(points)
            points = points / np.where(distance > 0, distance, 1.0)[..., None, None]
        return points


def fill_gaps(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill frames where ``valid`` is False (T, 68, 2) by linear interpolation in time, with the nearest
    valid frame at the ends. Needs at least one valid frame."""
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        raise ValueError("cannot fill a clip without any valid frame")
    filled = np.array(points, dtype=float, copy=True)
    if valid.all():
        return filled
    times = np.arange(len(valid))
    known = times[valid]
    flat = filled.reshape(len(valid), -1)
    for column in range(flat.shape[1]):
        flat[~valid, column] = np.interp(times[~valid], known, flat[valid, column])
    return flat.reshape(filled.shape)


def resample_time(points: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling of a (T, ...) sequence to ``length`` frames spanning the same time."""
    frames = len(points)
    if frames == length:
        return np.array(points, dtype=float, copy=True)
    if frames == 1:
        return np.repeat(np.asarray(points, dtype=float), length, axis=0)
    source = np.linspace(0.0, frames - 1.0, length)
    lower = np.floor(source).astype(int)
    upper = np.minimum(lower + 1, frames - 1)
    weight = (source - lower).reshape((-1,) + (1,) * (points.ndim - 1))
    return (1.0 - weight) * points[lower] + weight * points[upper]


def pad_or_crop(points: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre-crop a long sequence or pad a short one by repeating its last frame; returns the sequence
    and a mask that is False on padded frames."""
    frames = len(points)
    if frames >= length:
        start = (frames - length) // 2
        return np.array(points[start : start + length], dtype=float), np.ones(length, dtype=bool)
    pad = np.repeat(points[-1:], length - frames, axis=0)
    mask = np.concatenate([np.ones(frames, dtype=bool), np.zeros(length - frames, dtype=bool)])
    return np.concatenate([points, pad]).astype(float), mask


RELATIVE_TO = ("none", "clip-mean", "first-frame")


def relative_to(points: np.ndarray, reference: str) -> np.ndarray:
    """A clip (T, 68, 2) as movement: each frame minus the clip's own mean shape (``"clip-mean"``) or its
    first frame (``"first-frame"``); ``"none"`` returns it as it is. Subtracting the person's own face
    removes identity (face shape, which differs between people more than an expression moves a point) and
    keeps what the face does over time."""
    points = np.asarray(points, dtype=float)
    if reference == "none":
        return points
    if reference == "clip-mean":
        return points - points.mean(axis=-3, keepdims=True)
    if reference == "first-frame":
        return points - points[..., :1, :, :]
    raise ValueError(f"relative_to must be one of {', '.join(RELATIVE_TO)}, got {reference!r}")


def add_velocity(points: np.ndarray) -> np.ndarray:
    """(..., T, 68, 2) -> (..., T, 68, 4): x, y, dx, dy with dx, dy the change from the previous frame
    (zero at the first frame)."""
    velocity = np.diff(points, axis=-3, prepend=points[..., :1, :, :])
    return np.concatenate([points, velocity], axis=-1)


class Standardizer:
    """Per-channel standardisation learned from data (estimator style: fit on training folds only).

    ``fit(X)`` with X (N, T, V, C) learns each channel's mean and standard deviation over all samples,
    frames and points; ``transform`` applies them. Using it on test data before ``fit`` raises.
    """

    def __init__(self, epsilon: float = 1e-8):
        self.epsilon = epsilon
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=float)
        axes = tuple(range(X.ndim - 1))
        self.mean_ = X.mean(axis=axes)
        self.scale_ = X.std(axis=axes) + self.epsilon
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("Standardizer.transform called before fit: fit it on the training part first")
        return (np.asarray(X, dtype=float) - self.mean_) / self.scale_

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)


NORMALIZATIONS = ("eyes", "nose", "procrustes", "none")


def named_normalizer(name: str) -> ShapeNormalizer:
    """The per-frame shape normalisation a run's data settings name: ``procrustes`` (similarity alignment of
    all 68 points to the average face), ``eyes`` or ``nose`` (level, centre and scale by the outer eye
    corners alone, centred on the eyes or the nose tip), or ``none``."""
    options = {"eyes": {"centre": "eyes"}, "nose": {"centre": "nose"}, "procrustes": {"procrustes": True},
               "none": {"centre": None, "scale": False, "level": False}}
    if name not in options:
        raise ValueError(f"normalisation must be one of {', '.join(NORMALIZATIONS)}, got {name!r}")
    return ShapeNormalizer(**options[name])
