"""Assembling a labelled landmark-sequence data set from a folder of landmark CSVs.

``load_dataset`` pairs every CSV with its label and subject, fills tracking gaps, brings every clip to
the same length, normalises each frame and returns arrays ready for subject-grouped evaluation.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import MANIFEST_NAME
from .labels import LabelMap, read_labels_file, resolve_label_map
from .normalize import ShapeNormalizer, add_velocity, fill_gaps, pad_or_crop, relative_to, resample_time
from .reading import LandmarkFileError, read_landmarks


class DatasetError(ValueError):
    """Landmarks and labels that do not fit together; the message lists the clips at fault."""


@dataclass
class LandmarkDataset:
    """Arrays of a labelled landmark data set.

    X: (N, T, 68, C) float32 with C = 2 (x, y) or 4 (x, y, dx, dy); mask: (N, T) True where the frame was
    observed (False where it was filled or padded); y: (N,) class indices into ``classes``; subjects and
    clips: (N,) strings; filled_fraction: (N,) share of frames filled by interpolation; excluded: clip ->
    reason for every clip left out; raw_frames: (N,) frames each clip had before it was brought to T.
    """

    X: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    classes: list[str]
    subjects: np.ndarray
    clips: list[str]
    filled_fraction: np.ndarray
    excluded: dict[str, str] = field(default_factory=dict)
    raw_frames: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self) -> dict[str, int]:
        return {name: int((self.y == i).sum()) for i, name in enumerate(self.classes)}

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.class_counts().items())
        return (
            f"{len(self)} clips of {len(np.unique(self.subjects))} subjects, X {tuple(self.X.shape)}; {counts}; "
            f"mean filled {100 * self.filled_fraction.mean():.1f}% of frames; {len(self.excluded)} excluded"
        )


LABELS_NAME = "labels.csv"


def landmark_files(folder: Path, skip: Path | None = None) -> dict[str, Path]:
    """Landmark CSVs under ``folder`` by clip id; the manifest, a root ``labels.csv`` and the labels file
    itself are not clips."""
    files = {}
    for path in sorted(folder.rglob("*.csv")):
        if path.name == MANIFEST_NAME or path.name.startswith("."):
            continue
        if (path.parent == folder and path.name == LABELS_NAME) or (skip is not None and path.resolve() == skip):
            continue
        files[path.relative_to(folder).with_suffix("").as_posix()] = path
    return files


def _labels_from_path(
    clips: list[str], component: int, label_map: LabelMap | None, subject_component: int
) -> pd.DataFrame:
    rows, unknown = [], set()
    for clip in clips:
        parts = clip.split("/")
        if len(parts) <= max(component, subject_component):
            raise DatasetError(
                f"clip {clip!r} has no path component {component}; labels from the path need "
                f"<subject>/<stimulus>/<clip> folders (or pass a labels file)"
            )
        raw = parts[component]
        label = raw if label_map is None else label_map(raw)
        if label is None:
            unknown.add(raw)
        rows.append((clip, label, clip if subject_component == -1 else parts[subject_component]))
    if unknown:
        known = f"; map {label_map.name}: {label_map.description}" if label_map else ""
        raise DatasetError(f"label name(s) not in the label map: {', '.join(sorted(unknown))}{known}")
    return pd.DataFrame(rows, columns=["clip", "label", "subject"])


def clip_labels(
    clips: list[str],
    labels: str | os.PathLike | pd.DataFrame | None,
    folder: Path,
    *,
    label_component: int = 1,
    label_map: str | Mapping[str, str] | LabelMap | None = None,
    subject_component: int = 0,
    ignore_unlabelled: bool = False,
    what: str = "CSV",
) -> pd.DataFrame:
    """The label and subject of every clip (``clip,label,subject``): from ``labels`` (a CSV or table; every
    labelled clip must exist, every clip must be labelled unless ``ignore_unlabelled``) or from the clips'
    path components (``subject_component=-1``: each clip its own subject, for still images). ``what`` names
    the clip files in messages (landmark CSVs, crop files)."""
    if labels is None:
        return _labels_from_path(clips, label_component, resolve_label_map(label_map), subject_component)
    table = labels.copy() if isinstance(labels, pd.DataFrame) else read_labels_file(labels)
    if "subject" not in table.columns:
        table["subject"] = table["clip"].str.split("/").str[0]
    missing = sorted(set(table["clip"]) - set(clips))
    if missing:
        raise DatasetError(
            f"{len(missing)} labelled clip(s) have no {what} under {folder}: {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
        )
    unlabelled = sorted(set(clips) - set(table["clip"]))
    if unlabelled and not ignore_unlabelled:
        raise DatasetError(
            f"{len(unlabelled)} {what}(s) under {folder} have no label: {', '.join(unlabelled[:10])}"
            + (" ..." if len(unlabelled) > 10 else "")
            + "; label them or pass ignore_unlabelled=True (--ignore-unlabelled)"
        )
    if unlabelled:
        warnings.warn(f"ignoring {len(unlabelled)} unlabelled {what}(s): {', '.join(unlabelled[:10])}", stacklevel=3)
    return table


def class_names_of(table: pd.DataFrame, classes: list[str] | None = None) -> list[str]:
    """The classes of a label table (sorted), or ``classes`` after checking every label is among them."""
    class_names = list(classes) if classes else sorted(table["label"].unique())
    unknown = sorted(set(table["label"]) - set(class_names))
    if unknown:
        raise DatasetError(f"label(s) {', '.join(unknown)} are not among the classes {', '.join(class_names)}")
    return class_names


def shape_clip(
    points: np.ndarray,
    success: np.ndarray,
    *,
    length: int = 20,
    length_mode: str = "resample",
    normalizer: ShapeNormalizer | None = None,
    relative: str = "none",
    velocity: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One clip's landmarks (frames, 68, 2) with their success mask, shaped as ``load_dataset`` shapes every
    clip (gaps filled, brought to ``length`` frames, normalised, relative, velocity): (sequence, observed
    mask). What a trained model's new clips must go through, so it lives here once."""
    points = fill_gaps(points, success)
    if length_mode == "resample":
        points = resample_time(points, length)
        mask = resample_time(success.astype(float), length) > 0.999
    else:
        points, kept = pad_or_crop(points, length)
        observed, _ = pad_or_crop(success.astype(float)[:, None], length)
        mask = kept & (observed[:, 0] > 0.5)
    if normalizer is not None:
        points = normalizer(points)
    points = relative_to(points, relative)
    return (add_velocity(points) if velocity else points), mask


def load_dataset(
    landmarks_dir: str | os.PathLike,
    labels: str | os.PathLike | pd.DataFrame | None = None,
    *,
    label_component: int = 1,
    label_map: str | Mapping[str, str] | LabelMap | None = None,
    subject_component: int = 0,
    classes: list[str] | None = None,
    ignore_unlabelled: bool = False,
    length: int = 20,
    length_mode: str = "resample",
    min_valid: float = 0.5,
    normalizer: ShapeNormalizer | None = None,
    velocity: bool = False,
    relative: str = "none",
) -> LandmarkDataset:
    """Load every landmark CSV under ``landmarks_dir`` with its label.

    Labels come from ``labels`` (a CSV or DataFrame with ``clip,label[,subject]``; ``clip`` is the CSV path
    relative to ``landmarks_dir`` without ``.csv``) or, when it is None, from path component
    ``label_component`` passed through ``label_map`` (a preset name such as ``"pemf-binary"``, a dict, or
    None for the component itself). Frames with ``success=0`` are filled by linear interpolation; clips
    with less than ``min_valid`` valid frames are excluded by name. Clips are brought to ``length`` frames
    by ``"resample"`` (linear in time) or ``"pad"`` (pad / centre-crop), then normalised per frame; with
    ``relative`` (``"clip-mean"`` or ``"first-frame"``) each frame becomes its offset from the clip's own
    mean shape or first frame (``normalize.relative_to``), and ``velocity`` adds frame-to-frame changes.
    """
    folder = Path(landmarks_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"landmarks folder {folder} does not exist")
    if length_mode not in ("resample", "pad"):
        raise ValueError(f"length_mode must be 'resample' or 'pad', got {length_mode!r}")
    skip = Path(labels).resolve() if isinstance(labels, (str, os.PathLike)) else None
    files = landmark_files(folder, skip)
    if not files:
        raise DatasetError(f"no landmark CSV under {folder}")

    table = clip_labels(list(files), labels, folder, label_component=label_component, label_map=label_map,
                        subject_component=subject_component, ignore_unlabelled=ignore_unlabelled)
    class_names = class_names_of(table, classes)
    index = {name: i for i, name in enumerate(class_names)}

    sequences, masks, ys, subjects, clips, filled, raw = [], [], [], [], [], [], []
    excluded: dict[str, str] = {}
    for row in table.sort_values("clip").itertuples(index=False):
        try:
            points, success = read_landmarks(files[row.clip])
        except LandmarkFileError as exc:
            raise DatasetError(str(exc)) from exc
        valid_share = success.mean() if len(success) else 0.0
        if len(success) == 0 or valid_share < min_valid:
            share, floor = 100 * valid_share, 100 * min_valid
            excluded[row.clip] = f"only {share:.0f}% of {len(success)} frames valid (< {floor:.0f}%)"
            continue
        sequence, mask = shape_clip(points, success, length=length, length_mode=length_mode, normalizer=normalizer,
                                    relative=relative, velocity=velocity)
        sequences.append(sequence)
        masks.append(mask)
        ys.append(index[row.label])
        subjects.append(str(row.subject))
        clips.append(row.clip)
        filled.append(1.0 - valid_share)
        raw.append(len(success))
    if excluded:
        names = ", ".join(excluded)
        warnings.warn(f"excluded {len(excluded)} clip(s) with too few valid frames: {names}", stacklevel=2)
    if not sequences:
        raise DatasetError(f"every clip under {folder} was excluded: {excluded}")
    return LandmarkDataset(
        X=np.stack(sequences).astype(np.float32),
        mask=np.stack(masks),
        y=np.array(ys, dtype=np.int64),
        classes=class_names,
        subjects=np.array(subjects),
        clips=clips,
        filled_fraction=np.array(filled),
        excluded=excluded,
        raw_frames=np.array(raw),
    )
