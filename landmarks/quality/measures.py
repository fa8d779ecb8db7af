"""How well a clip was tracked, measured from its landmark CSV alone: the share of frames with a face, the
longest gap, jitter of the stable points, implausible jumps, face size and detector confidence; and the flag
a clip gets when a measure passes its threshold.

Jitter and jumps are in outer eye-corner distances of the face, so the thresholds suit any resolution.
Jitter is the frame-to-frame movement of points that expressions hardly move (nose bridge, eye corners)
after the previous frame's head pose is taken out by a similarity alignment; a jump is a frame whose face
moved implausibly far from the previous tracked frame, either as a whole (the centre moved, as when the
tracker switches to another face) or in its shape (some points left the others).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..dataset.normalize import procrustes_align
from ..layout import eye_distance

STABLE_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)  # nose bridge and tip, inner and outer eye corners


@dataclass(frozen=True)
class QualityThresholds:
    """Where a measure flags a clip (documented defaults; every one can be changed)."""

    min_tracked_share: float = 0.9  # flag when a face is found in fewer frames than this share
    max_gap: int = 5  # flag a run of more frames than this without a face
    max_jitter: float = 0.02  # flag a median stable-point movement above this (eye-corner distances per frame)
    jump_centre: float = 0.5  # a frame whose face centre moved more than this (eye-corner distances) is a jump
    jump_shape: float = 0.25  # ... or whose points moved more than this from the aligned previous shape
    min_face_px: float = 40.0  # flag faces whose outer eye corners are closer than this, in pixels


@dataclass
class ClipQuality:
    """One row of qc.csv."""

    clip: str
    frames: int
    tracked_share: float
    longest_gap: int
    gap_start: int  # 1-based frame number where the longest gap starts; 0 without a gap
    jitter: float
    jumps: int
    jump_frames: list[int] = field(default_factory=list)  # 1-based
    moved_most: list[int] = field(default_factory=list)  # 1-based, the frames that moved most, worst first
    eye_distance_px: float = float("nan")
    confidence: float = float("nan")
    flagged: bool = False
    reasons: str = ""

    def row(self) -> dict:
        values = asdict(self)
        values["jump_frames"] = " ".join(map(str, self.jump_frames))
        values["moved_most"] = " ".join(map(str, self.moved_most))
        return values


def longest_gap(success: np.ndarray) -> tuple[int, int]:
    """Length of the longest run of frames without a face, and where it starts (0-based; -1 if none)."""
    best, start, run = 0, -1, 0
    for index, tracked in enumerate(np.asarray(success, dtype=bool)):
        run = 0 if tracked else run + 1
        if run > best:
            best, start = run, index - run + 1
    return best, start


def frame_movements(points: np.ndarray, success: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each tracked frame after the first tracked one: its index, the movement of the face centre from
    the previous tracked frame, the mean movement of the stable points and the largest movement of any point
    after aligning the frame to the previous one (all in the previous frame's eye-corner distances)."""
    tracked = np.nonzero(np.asarray(success, dtype=bool))[0]
    if len(tracked) < 2:
        empty = np.zeros(0)
        return tracked[:0], empty, empty, empty
    current, previous = points[tracked[1:]], points[tracked[:-1]]
    unit = np.maximum(eye_distance(previous), 1e-9)
    centre = np.linalg.norm(current.mean(axis=1) - previous.mean(axis=1), axis=-1) / unit
    residual = np.linalg.norm(procrustes_align(current, previous) - previous, axis=-1) / unit[:, None]
    return tracked[1:], centre, residual[:, list(STABLE_POINTS)].mean(axis=1), residual.max(axis=1)


def clip_quality(
    clip: str, points: np.ndarray, success: np.ndarray, confidence: np.ndarray | None = None,
    thresholds: QualityThresholds | None = None, moved_most: int = 2,
) -> ClipQuality:
    """The quality measures of one clip (points (T, 68, 2) in pixels, NaN where ``success`` is false),
    whether, and why, it is flagged, and its ``moved_most`` frames that came closest to (or past) a jump."""
    limits = thresholds or QualityThresholds()
    success = np.asarray(success, dtype=bool)
    gap, gap_start = longest_gap(success)
    frames_after, centre, stable, largest = frame_movements(points, success)
    jumped = frames_after[(centre > limits.jump_centre) | (largest > limits.jump_shape)]
    badness = np.maximum(centre / limits.jump_centre, largest / limits.jump_shape)  # 1 and above: a jump
    ranked = frames_after[np.argsort(-badness, kind="stable")[:moved_most]]
    quality = ClipQuality(
        clip=clip, frames=len(success), tracked_share=float(success.mean()) if len(success) else 0.0,
        longest_gap=gap, gap_start=gap_start + 1, jitter=float(np.median(stable)) if len(stable) else float("nan"),
        jumps=len(jumped), jump_frames=[int(i) + 1 for i in jumped], moved_most=[int(i) + 1 for i in ranked],
        eye_distance_px=float(np.median(eye_distance(points[success]))) if success.any() else float("nan"),
        confidence=float(np.median(confidence[success])) if confidence is not None and success.any() else float("nan"),
    )
    reasons = []
    if quality.tracked_share < limits.min_tracked_share:
        reasons.append(f"face found in {100 * quality.tracked_share:.0f}% of frames")
    if gap > limits.max_gap:
        reasons.append(f"{gap} frames without a face from frame {quality.gap_start}")
    if quality.jitter > limits.max_jitter:
        reasons.append(f"jitter {quality.jitter:.3f} eye-corner distances per frame")
    if quality.jumps:
        shown = ", ".join(map(str, quality.jump_frames[:5])) + (" ..." if quality.jumps > 5 else "")
        reasons.append(f"{quality.jumps} jump(s) at frame(s) {shown}")
    if quality.eye_distance_px < limits.min_face_px:
        reasons.append(f"small face ({quality.eye_distance_px:.0f} px between the outer eye corners)")
    quality.flagged, quality.reasons = bool(reasons), "; ".join(reasons)
    return quality

