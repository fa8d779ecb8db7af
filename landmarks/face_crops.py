"""Aligned face crops from the extraction stage: for every clip ``landmarks.extract`` processed, one crop per
frame placed by that frame's landmarks, stored as one uint8 array per clip, with a manifest and resume.

The crop geometry (``CropGeometry``) is a similarity transform of the frame (rotation, uniform scale,
shift; no shear, so the face keeps its proportions): the centres of the two eyes (the mean of each eye's
six landmarks) go to fixed points of the crop, level, ``eye_distance`` x side apart, their midpoint on
the vertical centre line at ``eye_height`` x side from the top. With the defaults (0.36, 0.40) a frontal
face fills the crop from the brows' top to the chin with a margin of about a tenth of the side.

A frame without a face (``success=0``) is cropped with the transform of the nearest tracked frame of the
clip (the earlier one on a tie) and flagged, so no frame is dropped and frame t of the crops is frame t
of the clip. Per clip ``OUT/<clip>.npy`` holds the crops (T, side, side, 3) RGB and ``OUT/<clip>.frames.csv``
one row per frame: frame, tracked (0/1), transform_from (the frame whose landmarks placed the crop) and
the 2x3 transform (m00..m12, frame pixels -> crop pixels).

Still-image data sets (FER-2013, AffectNet: ``<class>/<image>``) are read as one-frame clips (``stills``):
faces are found with the dlib tracker, or taken as they are with ``aligned`` (images that are already face
crops, such as FER-2013's 48x48 grey faces, are resized to the side).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from .dataset.reading import LandmarkFileError, landmark_arrays, read_table
from .extraction.clips import Clip, find_clips, is_image, natural_key
from .extraction.frames import ClipReadError, clip_frames, count_frames, read_image
from .extraction.tracker import FaceTracker
from .parallel import report_progress, run_jobs
from .provenance import run_record
from .schema import (
    FRAME_FILE_COLUMN,
    MANIFEST_NAME,
    STATUS_EMPTY,
    STATUS_FAILED,
    STATUS_NO_FACE,
    STATUS_OK,
    read_manifest,
    write_atomic,
    write_table_atomic,
)
from .synthetic.sequences import clip_table

RIGHT_EYE, LEFT_EYE = slice(36, 42), slice(42, 48)  # the subject's right eye is on the image's left
SETTINGS_NAME = "crops.json"
STATUS_NO_LANDMARKS = "no_landmarks"
CROP_MANIFEST_COLUMNS = ["clip", "source", "frames", "tracked", "borrowed", "status", "error", "seconds"]
TRANSFORM_COLUMNS = ["m00", "m01", "m02", "m10", "m11", "m12"]


@dataclass(frozen=True)
class CropGeometry:
    """Where the eyes go in a square crop of ``size`` pixels (see the module docstring)."""

    size: int = 224
    eye_distance: float = 0.36  # distance between the eye centres, as a share of the side
    eye_height: float = 0.40  # row of the eyes' midpoint, as a share of the side from the top

    def __post_init__(self) -> None:
        if self.size < 16:
            raise ValueError(f"crop size must be at least 16 pixels, got {self.size}")
        if not 0 < self.eye_distance < 1 or not 0 < self.eye_height < 1:
            raise ValueError("eye_distance and eye_height are shares of the crop side, between 0 and 1")

    def eye_targets(self) -> np.ndarray:
        """Crop positions (2, 2) of the subject's right and left eye centres."""
        half = self.eye_distance * self.size / 2
        centre, row = self.size / 2, self.eye_height * self.size
        return np.array([[centre - half, row], [centre + half, row]])

    def transform(self, points: np.ndarray) -> np.ndarray:
        """The 2x3 similarity transform, frame pixels -> crop pixels, that puts the eye centres of ``points``
        (68, 2) on ``eye_targets()``."""
        source = np.stack([points[RIGHT_EYE].mean(axis=0), points[LEFT_EYE].mean(axis=0)])
        target = self.eye_targets()
        across = source[1] - source[0]
        length = float(np.hypot(*across))
        if not np.isfinite(length) or length < 1e-6:
            raise ValueError("the eye centres coincide: these landmarks cannot place a crop")
        scale = (target[1, 0] - target[0, 0]) / length
        angle = -np.arctan2(across[1], across[0])
        linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        shift = target.mean(axis=0) - linear @ source.mean(axis=0)
        return np.hstack([linear, shift[:, None]])


def apply_transform(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) mapped by a 2x3 affine transform."""
    return points @ transform[:, :2].T + transform[:, 2]


def nearest_tracked(success: np.ndarray) -> np.ndarray:
    """For every frame, the index of the nearest frame with ``success`` (the earlier one on a tie)."""
    tracked = np.flatnonzero(success)
    if not len(tracked):
        raise ValueError("no frame of the clip has a face")
    frames = np.arange(len(success))
    after = np.clip(np.searchsorted(tracked, frames), 0, len(tracked) - 1)
    before = np.clip(after - 1, 0, len(tracked) - 1)
    use_before = np.abs(frames - tracked[before]) <= np.abs(tracked[after] - frames)
    return np.where(use_before, tracked[before], tracked[after])


def crop_frame(image: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """One BGR or grey frame warped into an RGB crop of ``size`` pixels (black outside the frame).

    A crop that shrinks the face (a 1080p face to 224 px: about 1/5) first area-averages just the part of
    the frame the crop covers down to the crop's scale, then warps it: no aliasing, and no work spent on
    the rest of the frame."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if scale < 0.75:
        corners = apply_transform(cv2.invertAffineTransform(transform), np.array([[0, 0], [size, 0], [0, size],
                                                                                 [size, size]], float))
        x0, y0 = np.maximum(np.floor(corners.min(axis=0)) - 2, 0).astype(int)
        x1, y1 = np.minimum(np.ceil(corners.max(axis=0)) + 2, image.shape[1::-1]).astype(int)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            region = image[y0:y1, x0:x1]
            width, height = max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale))
            image = cv2.resize(region, (width, height), interpolation=cv2.INTER_AREA)
            stretch = np.diag([region.shape[1] / width, region.shape[0] / height])
            linear = transform[:, :2]
            transform = np.hstack([linear @ stretch, (linear @ np.array([x0, y0]) + transform[:, 2])[:, None]])
    crop = cv2.warpAffine(image, transform, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def resize_aligned(image: np.ndarray, size: int) -> np.ndarray:
    """An image that already is a face crop, resized to ``size`` x ``size`` RGB."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    interpolation = cv2.INTER_AREA if max(image.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.cvtColor(cv2.resize(image, (size, size), interpolation=interpolation), cv2.COLOR_BGR2RGB)


@dataclass
class ClipCrops:
    """One clip's crops (T, side, side, 3) RGB uint8 and, per frame, whether it was tracked, which frame's
    landmarks placed it, and the transform used (T, 2, 3)."""

    crops: np.ndarray
    tracked: np.ndarray
    transform_from: np.ndarray
    transforms: np.ndarray

    def frame_table(self) -> pd.DataFrame:
        table = pd.DataFrame({"frame": np.arange(1, len(self.crops) + 1), "tracked": self.tracked.astype(int),
                              "transform_from": self.transform_from + 1})
        for column, values in zip(TRANSFORM_COLUMNS, self.transforms.reshape(len(self.crops), 6).T, strict=True):
            table[column] = values
        return table


def crop_clip(frames: list[np.ndarray], points: np.ndarray, success: np.ndarray,
              geometry: CropGeometry | None = None) -> ClipCrops:
    """Crops of one clip from its frames and their landmarks (T, 68, 2) with the success mask (T,)."""
    geometry = geometry or CropGeometry()
    if len(frames) != len(points):
        raise ValueError(f"{len(frames)} frames but {len(points)} landmark rows")
    source = nearest_tracked(np.asarray(success, bool))
    transforms = {int(t): geometry.transform(points[t]) for t in np.unique(source)}
    stack = np.stack([transforms[int(t)] for t in source])
    crops = np.stack([crop_frame(image, stack[t], geometry.size) for t, image in enumerate(frames)])
    return ClipCrops(crops, np.asarray(success, bool), source, stack)


def _save_npy_atomic(array: np.ndarray, destination: Path) -> None:
    write_atomic(destination, lambda handle: np.save(handle, array))


def crop_file(out: Path, clip: str) -> Path:
    return out / f"{clip}.npy"


def frames_file(out: Path, clip: str) -> Path:
    return out / f"{clip}.frames.csv"


def load_crops(path: str | os.PathLike) -> np.ndarray:
    """One clip's crops (T, side, side, 3) uint8, memory-mapped (read as they are used)."""
    return np.load(path, mmap_mode="r")


@dataclass
class CropJob:
    clip: Clip
    landmarks: Path | None  # the clip's landmark CSV; None for stills (detected here, or aligned)
    out: Path
    geometry: CropGeometry
    aligned: bool
    landmarks_out: Path | None  # stills: where the detected landmarks are written


@dataclass
class CropReport:
    clip: str
    source: str
    frames: int = 0
    tracked: int = 0
    borrowed: int = 0
    status: str = STATUS_OK
    error: str = ""
    seconds: float = 0.0


_tracker: FaceTracker | None = None


def _still_landmarks(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One still's landmarks (1, 68, 2) and success (1,), found by the dlib tracker."""
    global _tracker
    if _tracker is None:
        _tracker = FaceTracker()
    _tracker.reset()
    found = _tracker.process(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    if found is None:
        return np.full((1, 68, 2), np.nan), np.zeros(1, bool)
    return found.points[None].astype(float), np.ones(1, bool)


def _clip_images(job: CropJob) -> tuple[list[np.ndarray], list[str], list[str | None]]:
    """The clip's frames in colour, the unreadable ones' messages, and the frame file names."""
    images, unreadable, files = [], [], []
    if job.clip.kind == "still":
        return [read_image(job.clip.path, colour=True)], [], [job.clip.path.name]
    for frame in clip_frames(job.clip.path, job.clip.kind, colour=True):
        files.append(frame.file)
        if frame.image is None:
            unreadable.append(f"{frame.file}: {frame.error}")
        images.append(frame.image)
        report_progress(1)
    return images, unreadable, files


def _crop_job(job: CropJob) -> CropReport:
    """Crop one clip and write its files; a clip that cannot be cropped is reported, never raised."""
    report = CropReport(job.clip.name, str(job.clip.path))
    started = time.perf_counter()
    try:
        report = _crop_one(job, report)
    except (ClipReadError, LandmarkFileError, OSError, ValueError) as error:
        report.status, report.error = STATUS_FAILED, str(error)
    except Exception as error:  # a bad clip never stops a batch run
        report.status, report.error = STATUS_FAILED, f"{type(error).__name__}: {error}"
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _crop_one(job: CropJob, report: CropReport) -> CropReport:
    if job.clip.kind == "empty":
        report.status, report.error = STATUS_EMPTY, "folder holds no image or video files"
        return report
    if job.landmarks is not None and not job.landmarks.is_file():
        report.status = STATUS_NO_LANDMARKS
        report.error = f"no landmark CSV {job.landmarks}: run landmarks.extract on this clip first"
        return report
    images, unreadable, files = _clip_images(job)
    report.frames = len(images)
    if job.aligned:
        crops = np.stack([resize_aligned(image, job.geometry.size) for image in images])
        _save_npy_atomic(crops, crop_file(job.out, job.clip.name))
        report.tracked = len(images)
        if job.clip.kind == "still":
            report_progress(1)
        return report
    if job.landmarks is None:  # a still image: find its face here
        points, success = _still_landmarks(images[0])
        report_progress(1)
        if job.landmarks_out is not None:
            write_table_atomic(clip_table(points, success), job.landmarks_out / f"{job.clip.name}.csv")
    else:
        table = read_table(job.landmarks)
        if len(table) != len(images):
            raise ValueError(f"{job.landmarks} has {len(table)} rows but the clip has {len(images)} frames: "
                             f"the CSV belongs to another version of the clip; extract it again")
        if FRAME_FILE_COLUMN in table.columns and files and list(table[FRAME_FILE_COLUMN].astype(str)) != files:
            raise ValueError(f"{job.landmarks} lists other frame files than {job.clip.path} holds: extract it again")
        points, success = landmark_arrays(table)
    if unreadable:
        success = success & np.array([image is not None for image in images])
        report.error = f"unreadable frames (cropped black): {'; '.join(unreadable)}"
    report.tracked = int(success.sum())
    report.borrowed = report.frames - report.tracked
    if not report.tracked:
        report.status, report.error = STATUS_NO_FACE, "no frame with a face: nothing to place the crop by"
        return report
    blank = np.zeros((1, 1, 3), np.uint8)
    clip = crop_clip([blank if image is None else image for image in images], points, success, job.geometry)
    write_table_atomic(clip.frame_table(), frames_file(job.out, job.clip.name), float_format="%.6f")
    _save_npy_atomic(clip.crops, crop_file(job.out, job.clip.name))
    return report


def find_stills(root: Path) -> list[Clip]:
    """Every image file under ``root`` as a one-frame clip named by its path without extension."""
    if not root.is_dir():
        raise FileNotFoundError(f"still-image folder {root} does not exist")
    files = [p for p in root.rglob("*") if p.is_file() and is_image(p) and not p.name.startswith(".")]
    clips = [Clip(p.relative_to(root).with_suffix("").as_posix(), p, "still") for p in files]
    return sorted(clips, key=lambda clip: natural_key(clip.name))


def _check_settings(out: Path, settings: dict, overwrite: bool) -> None:
    """A crop folder holds crops of one geometry: refuse to mix in crops made otherwise."""
    recorded = out / SETTINGS_NAME
    if recorded.is_file() and not overwrite:
        previous = json.loads(recorded.read_text()).get("settings")
        if previous != settings:
            raise ValueError(f"{out} holds crops made with {previous}, not {settings}: write them to another "
                             f"folder, or pass overwrite=True (--overwrite) to redo every clip")


def _is_complete(job: CropJob) -> bool:
    """A crop file at its final name is complete (atomic rename); it is redone when its landmark CSV is
    newer (the clip was extracted again)."""
    path = crop_file(job.out, job.clip.name)
    if not path.is_file():
        return False
    return job.landmarks is None or not job.landmarks.is_file() or job.landmarks.stat().st_mtime <= path.stat().st_mtime


def crop_faces(
    frames: str | os.PathLike,
    landmarks: str | os.PathLike | None,
    out: str | os.PathLike,
    *,
    geometry: CropGeometry | None = None,
    stills: bool = False,
    aligned: bool = False,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    record_extra: dict | None = None,
) -> pd.DataFrame:
    """Crop every clip under ``frames`` (found as ``landmarks.extract`` finds them) by its landmark CSV
    under ``landmarks`` into ``out``; returns the manifest (also ``out/manifest.csv``: clip, source,
    frames, tracked, borrowed, status, error, seconds) and writes ``out/crops.json`` (settings, versions).

    ``stills``: every image under ``frames`` is a one-frame clip, its face found by dlib here (landmarks
    written to ``landmarks`` when given) or, with ``aligned``, taken as it is. Clips already cropped are
    skipped unless ``overwrite``; a clip that cannot be cropped is reported and the run goes on.
    """
    geometry = geometry or CropGeometry()
    frames, out = Path(frames), Path(out)
    if aligned and not stills:
        raise ValueError("aligned applies to still-image data sets (stills=True, --stills): frames of clips are "
                         "cropped by their landmarks")
    if not stills and landmarks is None:
        raise ValueError("crops of clips need the landmark CSVs landmarks.extract wrote for them (LANDMARKS)")
    landmarks = None if landmarks is None else Path(landmarks)
    if not stills and not landmarks.is_dir():
        raise FileNotFoundError(f"landmark folder {landmarks} does not exist: run python -m landmarks.extract "
                                f"{frames} {landmarks} first")
    clips = find_stills(frames) if stills else find_clips(frames)
    settings = {"geometry": asdict(geometry), "stills": stills, "aligned": aligned}
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings, overwrite)
    record = run_record(frames=str(frames), landmarks=None if landmarks is None else str(landmarks), out=str(out),
                        settings=settings, **(record_extra or {}))
    (out / SETTINGS_NAME).write_text(json.dumps(record, indent=2) + "\n")

    previous = read_manifest(out)
    reports: dict[str, CropReport] = {}
    jobs = []
    for clip in clips:
        csv = None if stills else landmarks / f"{clip.name}.csv"
        job = CropJob(clip, csv, out, geometry, aligned, landmarks if stills else None)
        earlier = previous.get(clip.name)
        if not overwrite and _is_complete(job) and earlier is not None and earlier.get("status") == STATUS_OK:
            reports[clip.name] = CropReport(**{k: earlier[k] for k in CROP_MANIFEST_COLUMNS})
        else:
            jobs.append(job)
    total = len(jobs) if stills else sum(count_frames(j.clip.path, j.clip.kind) for j in jobs if j.clip.kind != "empty")
    bar = tqdm(total=total, unit="frame", desc="cropping", disable=not progress, dynamic_ncols=True)
    if reports:
        bar.write(f"resuming: {len(reports)} clip(s) already cropped in {out}, {len(jobs)} to do")
    try:
        for _, report in run_jobs(_crop_job, jobs, workers=workers, start_method="fork", on_progress=bar.update,
                                  describe=lambda job: f"clip {job.clip.name}"):
            reports[report.clip] = report
            _write_manifest(out, clips, reports)
    finally:
        bar.close()
    return _write_manifest(out, clips, reports)


def _write_manifest(out: Path, clips: list[Clip], reports: dict[str, CropReport]) -> pd.DataFrame:
    rows = [asdict(reports[clip.name]) for clip in clips if clip.name in reports]
    table = pd.DataFrame(rows, columns=CROP_MANIFEST_COLUMNS)
    write_table_atomic(table, out / MANIFEST_NAME)
    return table
