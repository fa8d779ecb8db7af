"""Real-looking clips from real photos: pain action units animated on each photo's own face (one photo per
subject, or one for all).

The photo's 68 landmarks are detected once; each frame moves them by the same action-unit
displacements the synthetic generator uses (phasic / tonic / neutral time courses, or a dynamics task's,
and a per-subject face shape change), renders the photo with a piecewise-affine warp that carries every triangle of the
landmark mesh onto its moved position (the frame border stays put), and adds head motion. The moved
landmarks are written beside the frames as ground truth, so extraction can be checked against them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from scipy.interpolate import LinearNDInterpolator
from skimage import data

from ..extraction.tracker import FaceTracker
from ..layout import MEAN_SHAPE, eye_distance, eye_roll, rotate
from ..schema import write_table_atomic
from .dynamics import resolve_task
from .expressions import CLASSES, action_units, pain_expression, temporal_profile
from .sequences import clip_table

GRID_STEP = 4  # the warp is computed on a grid this coarse and interpolated up (it is piecewise linear)


def astronaut() -> np.ndarray:
    """scikit-image's public-domain astronaut photo (BGR, 512 x 512): the package's own real face."""
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def _close_up(photo: np.ndarray, size: tuple[int, int], tracker: FaceTracker) -> np.ndarray:
    """A PEMF-like close-up: the photo's face centred, brows to chin filling 55% of the frame height."""
    found = tracker.process(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    if found is None:
        raise ValueError("no face found in the photo to animate; use a photo with one clear frontal face")
    points = found.points
    scale = 0.55 * size[1] / float(np.ptp(points[:, 1]))
    centre = points.mean(axis=0)
    matrix = np.array([[scale, 0.0, size[0] / 2.0 - scale * centre[0]],
                       [0.0, scale, size[1] / 2.0 - scale * centre[1]]])
    return cv2.warpAffine(photo, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _anchors(size: tuple[int, int], per_side: int = 6) -> np.ndarray:
    width, height = size
    xs, ys = np.linspace(0, width - 1, per_side), np.linspace(0, height - 1, per_side)
    border = [(x, 0) for x in xs] + [(x, height - 1) for x in xs] + [(0, y) for y in ys[1:-1]]
    border += [(width - 1, y) for y in ys[1:-1]]
    return np.array(border, dtype=float)


def _face_ring(points: np.ndarray, factor: float = 1.6, count: int = 16) -> np.ndarray:
    """Fixed points on an ellipse around the face, so the warp stays local to the face."""
    centre = points.mean(axis=0)
    radius = (points.max(axis=0) - points.min(axis=0)) / 2.0 * factor
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    return centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius


def warp_to(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Piecewise-affine warp moving ``source`` points (N, 2) onto ``target``; the mesh is the Delaunay
    triangulation of the targets, and pixels outside it keep their place."""
    height, width = image.shape[:2]
    grid_x = np.arange(0, width + GRID_STEP, GRID_STEP, dtype=float)
    grid_y = np.arange(0, height + GRID_STEP, GRID_STEP, dtype=float)
    gx, gy = np.meshgrid(grid_x, grid_y)
    back = LinearNDInterpolator(target, source)(np.column_stack([gx.ravel(), gy.ravel()]))
    back = back.reshape(len(grid_y), len(grid_x), 2)
    identity = np.stack([gx, gy], axis=-1)
    back = np.where(np.isnan(back), identity, back).astype(np.float32)
    map_x = cv2.resize(back[..., 0], None, fx=GRID_STEP, fy=GRID_STEP, interpolation=cv2.INTER_LINEAR)
    map_y = cv2.resize(back[..., 1], None, fx=GRID_STEP, fy=GRID_STEP, interpolation=cv2.INTER_LINEAR)
    return cv2.remap(image, map_x[:height, :width], map_y[:height, :width], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def _to_face_frame(displacement: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Displacements in eye-corner units of an upright face -> pixels of this face (its size and roll)."""
    return rotate(displacement, eye_roll(points)) * float(eye_distance(points))


def face_photos(folder: str | os.PathLike, min_face: int = 150, limit: int | None = None) -> list[np.ndarray]:
    """Every frontal face of at least ``min_face`` pixels in the photos of ``folder`` (natural file order,
    then left to right), each cut out with a margin of its own size around it: one photo per real person,
    for animating subjects that differ in identity. dlib's example photos (``bald_guys.jpg``: 24 faces) give
    a dozen."""
    import dlib

    from ..extraction.clips import frame_files

    detector = dlib.get_frontal_face_detector()
    faces = []
    for path in frame_files(Path(folder)):
        image = cv2.imread(str(path))
        if image is None:
            continue
        boxes = sorted(detector(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 0), key=lambda box: box.left())
        for box in boxes:
            if box.width() < min_face:
                continue
            margin = box.width()
            top, left = max(box.top() - margin, 0), max(box.left() - margin, 0)
            bottom, right = min(box.bottom() + margin, image.shape[0]), min(box.right() + margin, image.shape[1])
            faces.append(np.ascontiguousarray(image[top:bottom, left:right]))
            if limit is not None and len(faces) >= limit:
                return faces
    return faces


def _intensity(label: str, frames: int, rng: np.random.Generator, task: str | None) -> np.ndarray:
    """A clip's expression intensity over time: the pain classes' phasic / tonic / neutral courses, or the
    time course of a dynamics task's class (equal mean intensity across its moving classes)."""
    if task is None:
        return temporal_profile(label, frames, rng) * rng.uniform(0.7, 1.0)
    spec, difficulty = resolve_task(task, "clean")
    return np.clip(spec.profile(label, frames, rng, difficulty), 0.0, 1.5)


def animate_photo(
    output: str | os.PathLike,
    photo: np.ndarray | None = None,
    subjects: int = 2,
    clips_per_class: dict[str, int] | None = None,
    frames: int = 20,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 0,
    truth_dir: str | os.PathLike | None = None,
    photos: Sequence[np.ndarray] | None = None,
    task: str | None = None,
) -> pd.DataFrame:
    """Write PEMF-shaped frame folders ``<output>/<subject>/<class>/<clip>/frame_<n>.png`` animated from
    real photos, ``labels.csv`` in ``output``, and ground-truth landmark CSVs under ``truth_dir`` (default
    ``<output>_truth``). Returns the labels table.

    Subject k is animated from ``photos[k]`` (cycled; ``face_photos`` cuts people out of group photos), or
    from ``photo`` (the astronaut by default) for every subject. The classes are the pain time courses
    (phasic, tonic, neutral) or, with ``task``, a dynamics task's (``order``: onset, offset, neutral, ...),
    whose classes differ by their time course and not by their mean intensity."""
    output = Path(output)
    truth = Path(truth_dir) if truth_dir is not None else output.with_name(output.name + "_truth")
    tracker = FaceTracker()
    sources = list(photos) if photos else [astronaut() if photo is None else photo]
    scenes = []
    for source in sources:
        tracker.reset()
        canvas = _close_up(source, size, tracker)
        tracker.reset()
        found = tracker.process(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY))
        if found is None:
            raise ValueError("no face found in a photo once framed as a close-up; use photos with a clear frontal face")
        scenes.append((canvas, found.points, np.vstack([_anchors(size), _face_ring(found.points)])))
    classes = resolve_task(task, "clean")[0].classes if task is not None else CLASSES
    counts = clips_per_class or {name: 2 for name in classes}
    unknown = sorted(set(counts) - set(classes))
    if unknown:
        raise ValueError(f"class(es) {', '.join(unknown)} are not classes of {task or 'the pain courses'}: "
                         f"{', '.join(classes)}")
    rng = np.random.default_rng(seed)
    units, pain = action_units(), pain_expression()
    rows = []
    for s in range(subjects):
        subject = f"S{s + 1:02d}"
        canvas, base, fixed = scenes[s % len(scenes)]
        widths = 1.0 + rng.normal(0.0, 0.03, 2)  # a smooth per-subject change of face proportions
        shape_change = _to_face_frame(MEAN_SHAPE * widths - MEAN_SHAPE, base)
        for label, count in counts.items():
            for c in range(count):
                clip = f"{subject}/{label}/clip{c + 1:02d}"
                folder = output / clip
                folder.mkdir(parents=True, exist_ok=True)
                intensity = _intensity(label, frames, rng, task)
                blink = np.zeros(frames)
                if rng.random() < 0.5:
                    start = int(rng.integers(frames - 1))
                    blink[start : start + 2] = (0.9, 0.4)[: len(blink[start : start + 2])]
                roll = np.cumsum(rng.normal(0, 0.6, frames))
                shift = np.cumsum(rng.normal(0, 0.004 * size[1], (frames, 2)), axis=0)
                scale = 1.0 + np.cumsum(rng.normal(0, 0.004, frames))
                truths = []
                for t in range(frames):
                    moved_units = intensity[t] * pain + blink[t] * units["blink"]
                    target = base + shape_change + _to_face_frame(moved_units, base)
                    frame = warp_to(canvas, np.vstack([base, fixed]), np.vstack([target, fixed]))
                    motion = cv2.getRotationMatrix2D(tuple(base.mean(axis=0)), float(roll[t]), float(scale[t]))
                    motion[:, 2] += shift[t]
                    frame = cv2.warpAffine(frame, motion, size, borderMode=cv2.BORDER_REFLECT)
                    truths.append(target @ motion[:, :2].T + motion[:, 2])
                    cv2.imwrite(str(folder / f"frame_{t + 1}.png"), frame)
                write_table_atomic(clip_table(np.stack(truths), np.ones(frames, bool)), truth / f"{clip}.csv")
                rows.append((clip, label, subject))
    labels = pd.DataFrame(rows, columns=["clip", "label", "subject"])
    write_table_atomic(labels, output / "labels.csv")
    return labels
