"""The 68-point iBUG 300-W face layout (0-based), the one place that knows it: point count, regions, the
eye and nose indices, left/right twins, an average face, and the few pieces of shape geometry built on them
(eye midpoint and distance, a 2-D rotation).

Everything that deals with faces (extraction, normalisation, augmentation, the synthetic generators and the
facial graphs in ``graphs``) takes these from here. Only numpy is imported, so ``graphs`` and ``models`` can
use it without loading the extraction stage.

Sides are the subject's own: the image-left half of a frontal face (points 0-7, 17-21, 36-41, ...) is the
subject's right side, as in the iBUG annotation guidelines.
"""

from __future__ import annotations

import numpy as np

N_POINTS = 68

REGIONS: dict[str, tuple[int, ...]] = {
    "jaw": tuple(range(0, 17)),
    "brow": tuple(range(17, 27)),
    "nose": tuple(range(27, 36)),
    "eye": tuple(range(36, 48)),
    "mouth": tuple(range(48, 68)),
}

# Each point's left/right twin; points on the midline are their own twin.
_MIRROR = (
    list(range(16, -1, -1))  # jaw 0..16
    + list(range(26, 16, -1))  # brows 17..26
    + [27, 28, 29, 30]  # nose bridge (midline)
    + [35, 34, 33, 32, 31]  # nostrils
    + [45, 44, 43, 42, 47, 46]  # right eye 36..41 -> left eye
    + [39, 38, 37, 36, 41, 40]  # left eye 42..47 -> right eye
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips 48..59
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips 60..67
)

NOSE_TIP = 30
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 36, 45  # the outer eye corners: the unit of length of normalised shapes

# Average face, from dlib's 43 reference shapes in iBUG order: Procrustes-aligned, mirror-symmetrised,
# in units of the outer eye-corner distance, origin at the eye-corner midpoint, y pointing down.
MEAN_SHAPE = np.array(
    [
        [-0.8622, 0.0473], [-0.8528, 0.2743], [-0.832, 0.4966], [-0.7861, 0.7171], [-0.6966, 0.92],
        [-0.5568, 1.0921], [-0.3898, 1.2401], [-0.2055, 1.36], [0.0, 1.393], [0.2055, 1.36],
        [0.3898, 1.2401], [0.5568, 1.0921], [0.6966, 0.92], [0.7861, 0.7171], [0.832, 0.4966],
        [0.8528, 0.2743], [0.8622, 0.0473], [-0.6728, -0.1597], [-0.5767, -0.259], [-0.4383, -0.2985],
        [-0.2912, -0.2868], [-0.1506, -0.2319], [0.1506, -0.2319], [0.2912, -0.2868], [0.4383, -0.2985],
        [0.5767, -0.259], [0.6728, -0.1597], [0.0, -0.0415], [0.0, 0.0967], [0.0, 0.2339],
        [0.0, 0.3792], [-0.1715, 0.4779], [-0.0892, 0.5108], [0.0, 0.5384], [0.0892, 0.5108],
        [0.1715, 0.4779], [-0.5, 0.0], [-0.4107, -0.0463], [-0.3104, -0.0478], [-0.223, 0.0068],
        [-0.3135, 0.0227], [-0.4146, 0.0232], [0.223, 0.0068], [0.3104, -0.0478], [0.4107, -0.0463],
        [0.5, 0.0], [0.4146, 0.0232], [0.3135, 0.0227], [-0.3505, 0.7588], [-0.2303, 0.6924],
        [-0.0939, 0.6721], [0.0, 0.6863], [0.0939, 0.6721], [0.2303, 0.6924], [0.3505, 0.7588],
        [0.237, 0.8996], [0.1027, 0.9533], [0.0, 0.9617], [-0.1027, 0.9533], [-0.237, 0.8996],
        [-0.3006, 0.766], [-0.0954, 0.7302], [0.0, 0.7406], [0.0954, 0.7302], [0.3006, 0.766],
        [0.0991, 0.8522], [0.0, 0.8648], [-0.0991, 0.8522],
    ]
)


def mirror_permutation() -> np.ndarray:
    """Index permutation mapping each point to its left/right twin (an involution).

    A horizontal flip must negate x *and* re-index the points: ``flipped = points[..., perm, :]`` with
    x negated. Flipping x alone leaves the right eye's slots holding the left eye.
    """
    return np.array(_MIRROR, dtype=np.int64)


def region_of(point: int) -> str:
    for name, members in REGIONS.items():
        if point in members:
            return name
    raise ValueError(f"point {point} is outside the 68-point layout (0..67)")


def side_of(point: int) -> str:
    """``"right"``, ``"left"`` or ``"centre"``: the subject's own side."""
    twin = _MIRROR[point]
    if twin == point:
        return "centre"
    return "right" if MEAN_SHAPE[point, 0] < 0 else "left"


def mean_shape() -> np.ndarray:
    """A copy of the average face (68, 2)."""
    return MEAN_SHAPE.copy()


def eye_midpoint(points: np.ndarray) -> np.ndarray:
    """Midpoint of the outer eye corners of shapes (..., 68, 2): (..., 2)."""
    return (points[..., RIGHT_EYE_OUTER, :] + points[..., LEFT_EYE_OUTER, :]) / 2.0


def eye_distance(points: np.ndarray) -> np.ndarray:
    """Outer eye-corner distance of shapes (..., 68, 2): (...)."""
    return np.linalg.norm(points[..., LEFT_EYE_OUTER, :] - points[..., RIGHT_EYE_OUTER, :], axis=-1)


def eye_roll(points: np.ndarray) -> np.ndarray:
    """Head roll of shapes (..., 68, 2) in radians: the angle of the line from the right to the left outer
    eye corner (0 when the eyes are level; image y points down)."""
    delta = points[..., LEFT_EYE_OUTER, :] - points[..., RIGHT_EYE_OUTER, :]
    return np.arctan2(delta[..., 1], delta[..., 0])


def rotate(points: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Points (..., 2) rotated about the origin by ``angle`` radians, one angle per leading index of
    ``points`` less its last two axes (a scalar rotates everything)."""
    angle = np.asarray(angle, dtype=float)
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    x, y = points[..., 0], points[..., 1]
    return np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1)
