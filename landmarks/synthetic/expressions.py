"""Facial action units of pain and the time courses that drive them, shared by the landmark generator and
the photo animator.

Action units follow Prkachin & Solomon: brow lowering AU4, orbit tightening AU6/7, nose wrinkle and
upper-lip raise AU9/10 and eye closure AU43, as displacements of the average face in eye-corner distances.
Time courses: phasic (fast onset and offset), tonic (slow onset, sustained) and neutral (none).
"""

from __future__ import annotations

import numpy as np

from ..layout import MEAN_SHAPE, N_POINTS

CLASSES = ("neutral", "phasic", "tonic")


def _displacement(moves: dict[tuple[int, ...], tuple[float, float]]) -> np.ndarray:
    field = np.zeros((N_POINTS, 2))
    for points, (dx, dy) in moves.items():
        field[list(points)] += (dx, dy)
    return field


def action_units() -> dict[str, np.ndarray]:
    """Displacement (68, 2) of each action unit at full intensity, in eye-corner distances (y down).
    Left/right moves are mirror images (x negated on the subject's left)."""
    au4 = _displacement({
        (17, 18, 19, 24, 25, 26): (0.0, 0.05), (20, 21, 22, 23): (0.0, 0.08), (20, 21): (0.035, 0.0),
        (22, 23): (-0.035, 0.0),
    })
    au6_7 = _displacement({
        (40, 41, 46, 47): (0.0, -0.025), (37, 38, 43, 44): (0.0, 0.015), (1, 2, 15, 14): (0.0, -0.02),
    })
    au9_10 = _displacement({
        (31, 35): (0.0, -0.04), (32, 33, 34): (0.0, -0.03), (28, 29): (0.0, -0.01),
        (49, 50, 51, 52, 53, 61, 62, 63): (0.0, -0.05), (48, 54, 60, 64): (0.0, -0.02),
    })
    au43 = np.zeros((N_POINTS, 2))  # upper lids close onto the lower lids
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        au43[upper] = MEAN_SHAPE[lower] - MEAN_SHAPE[upper]
    blink = au43.copy()
    mouth = _displacement({(56, 57, 58, 65, 66, 67): (0.0, 0.06), (5, 6, 7, 8, 9, 10, 11): (0.0, 0.03)})
    return {"AU4": au4, "AU6_7": au6_7, "AU9_10": au9_10, "AU43": au43, "blink": blink, "mouth": mouth}


def pain_expression() -> np.ndarray:
    units = action_units()
    return units["AU4"] + units["AU6_7"] + units["AU9_10"] + 0.6 * units["AU43"]


def temporal_profile(kind: str, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Expression intensity (frames,) in [0, 1]: phasic = quick rise, short peak, quick fall; tonic =
    slow rise then sustained; neutral = zero."""
    t = np.arange(frames, dtype=float)
    if kind == "neutral":
        return np.zeros(frames)
    if kind == "phasic":
        onset = rng.uniform(0.2, 0.5) * frames
        rise, hold, fall = rng.uniform(1.0, 2.0), rng.uniform(1.0, 3.0), rng.uniform(1.5, 3.0)
        up = np.clip((t - onset) / rise, 0, 1)
        down = np.clip(1 - (t - onset - rise - hold) / fall, 0, 1)
        return np.minimum(up, down)
    if kind == "tonic":
        onset = rng.uniform(0.05, 0.3) * frames
        rise = rng.uniform(0.35, 0.55) * frames
        return np.clip((t - onset) / rise, 0, 1) ** 1.5
    raise ValueError(f"unknown temporal profile {kind!r}; choose one of {', '.join(CLASSES)}")
