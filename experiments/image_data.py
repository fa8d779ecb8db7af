"""Clips of face crops (``landmarks.crops`` output) as a labelled data set for the cross-validation engine.

``CropClips`` is the lazy input: the crop files of some clips, indexable by clip positions as the engine
indexes (``X[fit_idx]``), read only when a pipeline asks (``clip(i)``, ``load()``), each clip brought to
``length`` frames (evenly spaced frame positions; a still image repeats its one frame), ``size`` pixels and
optionally greyscale. Labels and subjects come from a labels file or the clip paths, as for landmarks.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from landmarks.dataset.assemble import DatasetError, class_names_of, clip_labels
from landmarks.dataset.labels import read_labels_file
from landmarks.face_crops import load_crops
from landmarks.schema import MANIFEST_NAME, STATUS_OK


def frame_positions(total: int, length: int) -> np.ndarray:
    """``length`` frame indices spread evenly over a clip of ``total`` frames (first and last included)."""
    return np.linspace(0, total - 1, length).round().astype(int)


def shape_frames(crops: np.ndarray, length: int, size: int, grey: bool) -> np.ndarray:
    """A clip's crops (T, side, side, 3) as an image model takes them: ``length`` evenly spaced frames of
    ``size`` pixels, greyscale (over three channels) when asked; uint8."""
    frames = np.asarray(crops[frame_positions(len(crops), length)])
    if frames.shape[1] != size:
        interpolation = cv2.INTER_AREA if frames.shape[1] > size else cv2.INTER_LINEAR
        frames = np.stack([cv2.resize(frame, (size, size), interpolation=interpolation) for frame in frames])
    if grey:
        luminance = frames @ np.array([0.299, 0.587, 0.114])
        frames = np.repeat(luminance[..., None], 3, axis=-1).round().astype(np.uint8)
    return frames


@dataclass
class CropClips:
    """The crop files of clips, read lazily: frames (length, size, size, 3) uint8 RGB per clip."""

    paths: list[Path]
    length: int = 20
    size: int = 112
    grey: bool = False

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index) -> CropClips:
        positions = np.arange(len(self.paths))[index]
        return replace(self, paths=[self.paths[i] for i in np.atleast_1d(positions)])

    def clip(self, i: int) -> np.ndarray:
        """Clip ``i``'s frames (length, size, size, 3) uint8, as the models see them."""
        return shape_frames(load_crops(self.paths[i]), self.length, self.size, self.grey)

    def load(self) -> np.ndarray:
        """Every clip's frames (N, length, size, size, 3) uint8."""
        return np.stack([self.clip(i) for i in range(len(self))])


@dataclass
class ImageDataset:
    """A labelled data set of face-crop clips: ``X`` (``CropClips``, or their cached feature sequences
    (N, length, F) once a frozen backbone has run), ``y``, ``classes``, ``subjects``, ``clips``, the share of
    each clip's frames cropped by a neighbour's landmarks (``borrowed_fraction``) and the clips left out."""

    X: CropClips | np.ndarray
    y: np.ndarray
    classes: list[str]
    subjects: np.ndarray
    clips: list[str]
    borrowed_fraction: np.ndarray
    crops_dir: Path
    excluded: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self) -> dict[str, int]:
        return {name: int((self.y == i).sum()) for i, name in enumerate(self.classes)}

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.class_counts().items())
        clips = self.X
        shape = (len(self), clips.length, clips.size, clips.size, 3) if isinstance(clips, CropClips) else clips.shape
        return (f"{len(self)} clips of {len(np.unique(self.subjects))} subjects, X {tuple(shape)}; {counts}; "
                f"{100 * self.borrowed_fraction.mean():.1f}% of frames cropped by a neighbour's landmarks; "
                f"{len(self.excluded)} excluded")

    def with_inputs(self, X: CropClips | np.ndarray) -> ImageDataset:
        """The same clips with other inputs (their cached features)."""
        return replace(self, X=X)


def crop_files(folder: Path) -> dict[str, Path]:
    """Crop files under ``folder`` by clip name."""
    return {path.relative_to(folder).with_suffix("").as_posix(): path
            for path in sorted(folder.rglob("*.npy")) if not path.name.startswith(".")}


def _manifest_facts(folder: Path) -> tuple[dict[str, str], dict[str, float]]:
    """Clips the crop stage could not crop (with its reason) and each cropped clip's borrowed share."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}, {}
    table = pd.read_csv(path, keep_default_na=False)
    failed = {str(r.clip): f"{r.status}: {r.error}".rstrip(": ") for r in table.itertuples() if r.status != STATUS_OK}
    borrowed = {str(r.clip): float(r.borrowed) / max(int(r.frames), 1) for r in table.itertuples()}
    return failed, borrowed


def load_image_dataset(
    crops_dir: str | os.PathLike,
    labels: str | os.PathLike | pd.DataFrame | None = None,
    *,
    label_component: int = 1,
    label_map: str | None = None,
    subject_component: int = 0,
    ignore_unlabelled: bool = False,
    classes: list[str] | None = None,
    length: int = 20,
    size: int = 112,
    grey: bool = False,
) -> ImageDataset:
    """Every clip cropped under ``crops_dir`` with its label; clips the crop stage could not crop are
    excluded by name (with the manifest's reason) when a labels file lists them."""
    folder = Path(crops_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"crops folder {folder} does not exist: make it with python -m landmarks.crops")
    files = crop_files(folder)
    failed, borrowed = _manifest_facts(folder)
    if not files:
        raise DatasetError(f"no crop file (.npy) under {folder}: make them with python -m landmarks.crops")
    excluded = {}
    if isinstance(labels, (str, os.PathLike, pd.DataFrame)):
        table = labels.copy() if isinstance(labels, pd.DataFrame) else read_labels_file(labels)
        excluded = {clip: failed[clip] for clip in table["clip"] if clip in failed and clip not in files}
        labels = table[~table["clip"].isin(list(excluded))]
    if excluded:
        warnings.warn(f"excluded {len(excluded)} clip(s) without crops: {', '.join(excluded)}", stacklevel=2)
    table = clip_labels(list(files), labels, folder, label_component=label_component, label_map=label_map,
                        subject_component=subject_component, ignore_unlabelled=ignore_unlabelled, what="crop file")
    table = table.sort_values("clip")
    class_names = class_names_of(table, classes)
    index = {name: i for i, name in enumerate(class_names)}
    clips = list(table["clip"])
    return ImageDataset(
        X=CropClips([files[clip] for clip in clips], length, size, grey),
        y=np.array([index[label] for label in table["label"]], dtype=np.int64),
        classes=class_names, subjects=np.array([str(s) for s in table["subject"]]), clips=clips,
        borrowed_fraction=np.array([borrowed.get(clip, 0.0) for clip in clips]), crops_dir=folder, excluded=excluded,
    )
