"""The CNN face detector for turned heads: ``--detector auto`` finds the semi-profile face of scikit-image's
cameraman, which dlib's HOG detector misses, and costs nothing on frontal clips (no CNN search, same CSVs)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import pandas as pd
from skimage import data

from landmarks import extract_landmarks
from landmarks.extraction import ExtractionSettings, TrackerSettings

from .conftest import REPO


def cameraman_clip(folder, frames: int = 3):
    """A still clip of the cameraman photo (a real, public-domain photo of a man whose head is turned to the
    side: dlib's HOG detector finds no face in it)."""
    folder.mkdir(parents=True)
    for f in range(frames):
        cv2.imwrite(str(folder / f"frame_{f + 1}.png"), data.camera())


def test_auto_finds_the_turned_head_that_hog_misses(tmp_path):
    cameraman_clip(tmp_path / "in" / "S01" / "turned" / "clip01")
    hog = extract_landmarks(tmp_path / "in", tmp_path / "hog", workers=1, progress=False)
    assert hog.loc[0, "status"] == "no_face" and hog.loc[0, "detector"] == "hog"
    settings = ExtractionSettings(tracker=TrackerSettings(detector="auto"))
    auto = extract_landmarks(tmp_path / "in", tmp_path / "auto", settings=settings, workers=1, progress=False)
    assert auto.loc[0, "status"] == "ok" and auto.loc[0, "detected"] == 3 and auto.loc[0, "detector"] == "hog+cnn"
    table = pd.read_csv(tmp_path / "auto" / "S01" / "turned" / "clip01.csv")
    nose = table[["x_30", "y_30"]].to_numpy()
    assert ((nose > [170, 110]) & (nose < [270, 210])).all(), f"the nose is not on the cameraman's face: {nose}"


def test_auto_never_searches_with_the_cnn_on_frontal_clips(animated_set, tmp_path):
    frames, _, hog_landmarks = animated_set
    settings = ExtractionSettings(tracker=TrackerSettings(detector="auto"))
    manifest = extract_landmarks(frames, tmp_path / "auto", settings=settings, workers=2, progress=False)
    assert (manifest["detector"] == "hog").all()  # no CNN search was needed: today's speed
    for csv in sorted(hog_landmarks.rglob("clip*.csv")):
        assert csv.read_bytes() == (tmp_path / "auto" / csv.relative_to(hog_landmarks)).read_bytes(), csv


def test_the_command_line_takes_the_detector(tmp_path):
    cameraman_clip(tmp_path / "in", frames=1)
    done = subprocess.run([sys.executable, "-m", "landmarks.extract", str(tmp_path / "in"), str(tmp_path / "out"),
                           "--detector", "cnn", "--quiet"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv")
    assert manifest.loc[0, "detector"] == "cnn" and manifest.loc[0, "detected"] == 1
