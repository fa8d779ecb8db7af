"""Landmark extraction and reading: face clips in, 68-point landmark sequences out.

``python -m landmarks.extract INPUT OUTPUT`` runs the extraction stage; the same work is available as
:func:`extract_landmarks` (a data set) and :func:`extract_clip` (one clip).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("facegraph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

from .augment import Augmenter, mirror
from .clips import Clip, find_clips
from .datasets import DatasetError, LandmarkDataset, load_dataset
from .frames import ClipReadError
from .model_files import predictor_path
from .normalize import ShapeNormalizer, Standardizer
from .pipeline import ExtractionSettings, extract_clip, extract_landmarks
from .reading import LandmarkFileError, read_landmarks, read_table
from .schema import CSV_COLUMNS, N_POINTS
from .synthetic import synthetic_sequences, write_synthetic_dataset
from .tracker import FaceTracker, TrackerSettings

__all__ = [
    "Augmenter",
    "DatasetError",
    "LandmarkDataset",
    "ShapeNormalizer",
    "Standardizer",
    "load_dataset",
    "mirror",
    "synthetic_sequences",
    "write_synthetic_dataset",
    "CSV_COLUMNS",
    "N_POINTS",
    "Clip",
    "ClipReadError",
    "ExtractionSettings",
    "FaceTracker",
    "LandmarkFileError",
    "TrackerSettings",
    "extract_clip",
    "extract_landmarks",
    "find_clips",
    "predictor_path",
    "read_landmarks",
    "read_table",
]
