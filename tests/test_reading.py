"""Reading landmark CSVs back: our schema, older OpenFace headers, bad files."""

import numpy as np
import pandas as pd
import pytest

from landmarks import CSV_COLUMNS, LandmarkFileError, read_landmarks


def write_csv(path, frames=4, missing=(1,), separator=","):
    rows = []
    for f in range(frames):
        ok = f not in missing
        coords = [10.0 * f + i for i in range(68)] + [100.0 + i for i in range(68)]
        rows.append([f + 1, 0, f / 30, 0.9 if ok else 0.0, int(ok)] + (coords if ok else [np.nan] * 136))
    pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(path, index=False, sep=",")
    if separator != ",":
        text = path.read_text().splitlines()
        path.write_text("\n".join([text[0].replace(",", separator)] + text[1:]) + "\n")
    return path


def test_points_are_nan_exactly_where_success_is_zero(tmp_path):
    points, success = read_landmarks(write_csv(tmp_path / "a.csv", missing=(1, 3)))
    assert points.shape == (4, 68, 2)
    assert success.tolist() == [True, False, True, False]
    assert np.isnan(points[~success]).all() and not np.isnan(points[success]).any()
    assert points[2, 5].tolist() == [25.0, 105.0]


def test_old_openface_header_with_comma_space_separators(tmp_path):
    points, success = read_landmarks(write_csv(tmp_path / "of.csv", missing=(), separator=", "))
    assert success.all() and points[3, 67].tolist() == [97.0, 167.0]


def test_missing_landmark_columns_name_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"frame": [1], "x_0": [1.0]}).to_csv(path, index=False)
    with pytest.raises(LandmarkFileError, match=r"bad\.csv.*x_1"):
        read_landmarks(path)
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_landmarks(tmp_path / "nowhere.csv")
