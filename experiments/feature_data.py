"""Clips as feature rows for the features branch: the frozen backbone's cached features of the face crops
(``landmarks.crops`` output) and/or hand-crafted features of the landmark CSVs, matched clip by clip, with
labels and subjects from one labels file or the clip paths."""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import graphs
from landmarks.dataset.assemble import DatasetError

from .clip_features import FeatureRows, image_summary, landmark_features
from .feature_branch import FeatureTrainingSettings
from .image_branch import (
    ImageDataSettings,
    ImageModelSettings,
    ImageTrainingSettings,
    TransferSettings,
    prepare_inputs,
)
from .settings import DataSettings, ExecutionSettings


@dataclass
class FeatureDataset:
    """Feature rows of labelled clips: ``X`` (``FeatureRows``), ``y``, ``classes``, ``subjects``, ``clips`` and
    the clips left out with the reason."""

    X: FeatureRows
    y: np.ndarray
    classes: list[str]
    subjects: np.ndarray
    clips: list[str]
    excluded: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def summary(self) -> str:
        counts = ", ".join(f"{name} {int((self.y == i).sum())}" for i, name in enumerate(self.classes))
        return (f"{len(self)} clips of {len(np.unique(self.subjects))} subjects, {self.X.shape[1]} features; {counts}; "
                f"{len(self.excluded)} excluded")


def image_settings(settings: FeatureTrainingSettings) -> ImageTrainingSettings:
    """The image branch's settings whose frozen backbone and feature cache give this run's image features
    (the same cache a ``train_image`` run of that backbone uses). Resolves the weights: a missing file stops
    here, before any data is read."""
    data, backbone = settings.data, settings.backbone
    return ImageTrainingSettings(
        data=ImageDataSettings(label_map=data.label_map, label_component=data.label_component,
                               subject_component=data.subject_component, ignore_unlabelled=data.ignore_unlabelled,
                               length=data.length, size=data.size, grey=data.grey, relative="none"),
        model=ImageModelSettings("frame-cnn", {"backbone": backbone.backbone}),
        transfer=TransferSettings(pretrained=backbone.pretrained, weights=backbone.weights, device=backbone.device,
                                  feature_cache=backbone.feature_cache, feature_batch=backbone.feature_batch),
        execution=ExecutionSettings(seed=settings.execution.seed),
    )


def landmark_settings(settings: FeatureTrainingSettings) -> DataSettings:
    data = settings.data
    return DataSettings(label_map=data.label_map, label_component=data.label_component,
                        subject_component=data.subject_component, ignore_unlabelled=data.ignore_unlabelled,
                        length=data.length, normalize=data.normalize, relative="none", min_valid=data.min_valid)


@dataclass
class _Part:
    rows: np.ndarray
    names: list[str]
    labels: dict[str, str]
    subjects: dict[str, str]
    clips: list[str]
    excluded: dict[str, str]


def _part(dataset, rows: np.ndarray, names: list[str]) -> _Part:
    """One source's feature rows with the labels, subjects and exclusions of the data set they came from."""
    labels_of = {clip: dataset.classes[k] for clip, k in zip(dataset.clips, dataset.y, strict=True)}
    return _Part(rows, names, labels_of, dict(zip(dataset.clips, dataset.subjects, strict=True)), dataset.clips,
                 dict(dataset.excluded))


def _image_part(settings: FeatureTrainingSettings, crops, labels, progress: bool,
                image: ImageTrainingSettings | None) -> _Part:
    image = image or image_settings(settings)
    dataset = image.data.load(crops, labels)
    features = prepare_inputs(dataset, image, progress).X
    return _part(dataset, *image_summary(features, settings.data.image_summary))


def _landmark_part(settings: FeatureTrainingSettings, landmarks, labels) -> _Part:
    dataset = landmark_settings(settings).load(landmarks, labels)
    return _part(dataset, *landmark_features(dataset.X, sorted(graphs.facial_graph("anatomical").edges)))


def load_feature_dataset(
    settings: FeatureTrainingSettings,
    crops: str | os.PathLike | None = None,
    landmarks: str | os.PathLike | None = None,
    labels: str | os.PathLike | None = None,
    progress: bool = True,
    image: ImageTrainingSettings | None = None,
) -> FeatureDataset:
    """Feature rows of every clip with crops (``crops``) and/or landmarks (``landmarks``), as the settings'
    ``sources`` ask; with both, clips are matched by name and a clip missing from one is excluded (named)."""
    wanted = {"image": crops, "landmarks": landmarks}
    missing = [source for source in settings.sources if wanted[source] is None]
    if missing:
        option = {"image": "--crops", "landmarks": "--landmarks"}
        raise DatasetError(f"{' and '.join(missing)} features need {' and '.join(option[m] for m in missing)}")
    parts = []
    if "image" in settings.sources:
        parts.append(_image_part(settings, Path(crops), labels, progress, image))
    if "landmarks" in settings.sources:
        parts.append(_landmark_part(settings, Path(landmarks), labels))
    excluded: dict[str, str] = {}
    for part in parts:
        excluded.update(part.excluded)
    clips = sorted(set.intersection(*(set(part.clips) for part in parts)))
    if len(parts) == 2:
        for clip in sorted(set(parts[0].clips) ^ set(parts[1].clips)):
            excluded[clip] = "no landmark features (no CSV, or too few tracked frames)" if clip in parts[0].labels \
                else "no image features (no crops)"
        if len(clips) < len(parts[0].clips) or len(clips) < len(parts[1].clips):
            warnings.warn(f"{len(excluded)} clip(s) have image or landmark features but not both and are left out: "
                          f"{', '.join(sorted(excluded)[:10])}", stacklevel=2)
        disagree = [clip for clip in clips if parts[0].labels[clip] != parts[1].labels[clip]
                    or parts[0].subjects[clip] != parts[1].subjects[clip]]
        if disagree:
            raise DatasetError(f"clip(s) {', '.join(disagree[:5])} get other labels or subjects from the crops and the "
                               f"landmarks; give one labels file (--labels) for both")
    if not clips:
        raise DatasetError("no clip has every feature source asked for; check that --crops and --landmarks hold the "
                           "same clips")
    columns = []
    for part in parts:
        position = {clip: i for i, clip in enumerate(part.clips)}
        columns.append(part.rows[[position[clip] for clip in clips]])
    names = [name for part in parts for name in part.names]
    class_names = sorted({parts[0].labels[clip] for clip in clips})
    index = {name: i for i, name in enumerate(class_names)}
    subjects = np.array([str(parts[0].subjects[clip]) for clip in clips])
    rows = FeatureRows(np.concatenate(columns, axis=1), subjects, names)
    dataset = FeatureDataset(rows, np.array([index[parts[0].labels[clip]] for clip in clips], dtype=np.int64),
                             class_names, subjects, clips, excluded)
    if progress:
        print(dataset.summary(), file=sys.stderr)
    return dataset
