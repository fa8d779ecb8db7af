"""Extraction follows a real face moved with known rotations, shifts and scales (frames and video)."""

import cv2
import numpy as np
import pytest

from landmarks import extract_clip, read_landmarks
from landmarks.schema import write_table_atomic

from .conftest import eye_corner_distance, place_on_canvas

FRAMES = 14
CANVAS = (960, 540)


def known_motion(index: int) -> np.ndarray:
    """2x3 affine of frame ``index``: rotation, scale and shift about the canvas centre (identity at 0)."""
    angle = 8.0 * np.sin(index / 2.0)
    scale = 1.0 + 0.025 * index
    matrix = cv2.getRotationMatrix2D((CANVAS[0] / 2, CANVAS[1] / 2), angle, scale)
    matrix[:, 2] += (6.0 * index, -3.0 * index)
    return matrix


@pytest.fixture(scope="module")
def moving_face(astronaut_bgr):
    base = place_on_canvas(astronaut_bgr, size=CANVAS, face_height=540)
    return [cv2.warpAffine(base, known_motion(i), CANVAS) for i in range(FRAMES)]


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def motion_error(points: np.ndarray) -> np.ndarray:
    """Per-frame median distance between extracted points and frame 0's points moved by the known motion,
    in units of the eye-corner distance."""
    expected = np.stack([apply(known_motion(i), points[0]) for i in range(len(points))])
    return np.median(np.linalg.norm(points - expected, axis=-1), axis=-1) / eye_corner_distance(expected)


def test_frame_folder_follows_known_motion(moving_face, tmp_path, tracker):
    folder = tmp_path / "clip"
    folder.mkdir()
    for i, frame in enumerate(moving_face):
        cv2.imwrite(str(folder / f"frame_{i + 1}.png"), frame)
    table = extract_clip(folder, tracker=tracker)
    assert table["frame"].tolist() == list(range(1, FRAMES + 1))
    assert table["frame_file"].tolist() == [f"frame_{i + 1}.png" for i in range(FRAMES)]
    assert np.allclose(table["timestamp"], np.arange(FRAMES) / 30.0)
    assert table["success"].all()
    write_table_atomic(table, tmp_path / "clip.csv")
    points, success = read_landmarks(tmp_path / "clip.csv")
    assert points.shape == (FRAMES, 68, 2) and success.all()
    errors = motion_error(points)
    assert np.median(errors) < 0.03, errors
    assert errors.max() < 0.06, errors


def test_video_follows_known_motion(moving_face, tmp_path, tracker):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, CANVAS)
    for frame in moving_face:
        writer.write(frame)
    writer.release()
    table = extract_clip(path, tracker=tracker)
    assert len(table) == FRAMES
    assert "frame_file" not in table.columns
    assert np.allclose(table["timestamp"], np.arange(FRAMES) / 25.0, atol=1e-3)
    assert table["success"].all()
    xs, ys = table[[f"x_{i}" for i in range(68)]], table[[f"y_{i}" for i in range(68)]]
    points = np.stack([xs.to_numpy(), ys.to_numpy()], -1)
    errors = motion_error(points)
    assert np.median(errors) < 0.03, errors
    assert errors.max() < 0.06, errors
