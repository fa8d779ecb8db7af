"""Facial landmarks: the 68-point face layout, extraction from clips, data sets of landmark sequences, and
synthetic data with known labels.

- ``landmarks.layout``: the 68-point scheme (regions, eye and nose indices, mirror map, average face).
- ``landmarks.extraction``: clips in, landmark CSVs out (``python -m landmarks.extract INPUT OUTPUT``,
  :func:`extract_landmarks` for a data set, :func:`extract_clip` for one clip).
- ``landmarks.dataset``: reading CSVs (ours, OpenFace 2, py-feat), labels, gap filling, normalisation,
  augmentation, and :func:`load_dataset`, which assembles a labelled data set.
- ``landmarks.synthetic``: landmark clips and photo animations with pain action units over time.
- ``landmarks.quality``: what the tracker saw: quality measures, overlays, contact sheets and the review
  of a whole extraction (``python -m landmarks.review``), :func:`plot_frame` for one frame.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("facegraph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

from .dataset import (
    Augmenter,
    DatasetError,
    LandmarkDataset,
    LandmarkFileError,
    ShapeNormalizer,
    Standardizer,
    load_dataset,
    mirror,
    read_landmarks,
    read_table,
)
from .extraction import (
    Clip,
    ClipReadError,
    ExtractionSettings,
    FaceTracker,
    TrackerSettings,
    extract_clip,
    extract_landmarks,
    find_clips,
    predictor_path,
)
from .layout import N_POINTS
from .quality import plot_frame, review_landmarks
from .schema import CSV_COLUMNS
from .synthetic import animate_photo, synthetic_sequences, write_synthetic_dataset

__all__ = [
    "Augmenter",
    "CSV_COLUMNS",
    "Clip",
    "ClipReadError",
    "DatasetError",
    "ExtractionSettings",
    "FaceTracker",
    "LandmarkDataset",
    "LandmarkFileError",
    "N_POINTS",
    "ShapeNormalizer",
    "Standardizer",
    "TrackerSettings",
    "animate_photo",
    "extract_clip",
    "extract_landmarks",
    "find_clips",
    "load_dataset",
    "mirror",
    "plot_frame",
    "predictor_path",
    "read_landmarks",
    "read_table",
    "review_landmarks",
    "synthetic_sequences",
    "write_synthetic_dataset",
]
