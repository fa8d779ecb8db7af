"""Landmark CSVs to labelled data sets: reading (ours, OpenFace 2, py-feat), labels, gap filling, length,
per-frame normalisation, standardisation learned on training folds, and augmentation."""

from .assemble import DatasetError, LandmarkDataset, load_dataset
from .augment import Augmenter, mirror
from .normalize import ShapeNormalizer, Standardizer
from .reading import LandmarkFileError, read_landmarks, read_table

__all__ = ["Augmenter", "DatasetError", "LandmarkDataset", "LandmarkFileError", "ShapeNormalizer", "Standardizer",
           "load_dataset", "mirror", "read_landmarks", "read_table"]
