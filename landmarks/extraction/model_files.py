"""Where dlib's model files live (the 68-point shape predictor, the MMOD CNN face detector), and their
identity for run records."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

PREDICTOR_FILE_NAME = "shape_predictor_68_face_landmarks.dat"
PREDICTOR_ENV = "FACEGRAPH_PREDICTOR"


def _packaged_model(file_name: str, otherwise: str) -> Path:
    """A model file shipped in the ``face_recognition_models`` package. The package is located without
    importing it, because its ``__init__`` imports ``pkg_resources``, which recent setuptools no longer
    provides."""
    spec = importlib.util.find_spec("face_recognition_models")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "models" / file_name
        if path.is_file():
            return path
    raise FileNotFoundError(f"{file_name} not found: install the 'face_recognition_models' package "
                            f"(pip install face_recognition_models) or {otherwise}")


def predictor_path(explicit: str | os.PathLike | None = None) -> Path:
    """Return the 68-point model file: an explicit path, ``$FACEGRAPH_PREDICTOR``, or the copy shipped in
    the ``face_recognition_models`` package."""
    candidate = explicit or os.environ.get(PREDICTOR_ENV)
    if candidate:
        path = Path(candidate)
        if not path.is_file():
            raise FileNotFoundError(
                f"shape-predictor file {path} does not exist; pass the path of "
                f"{PREDICTOR_FILE_NAME} (or unset ${PREDICTOR_ENV})"
            )
        return path
    return _packaged_model(PREDICTOR_FILE_NAME, "pass its path with --predictor")


CNN_DETECTOR_FILE_NAME = "mmod_human_face_detector.dat"


def cnn_detector_path() -> Path:
    """dlib's MMOD CNN face detector file, shipped in the ``face_recognition_models`` package."""
    return _packaged_model(CNN_DETECTOR_FILE_NAME, "use --detector hog")


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks (the predictor is ~100 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
