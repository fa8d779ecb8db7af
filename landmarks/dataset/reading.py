"""Reading landmark CSVs back into arrays: this package's files, OpenFace 2 and py-feat outputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..layout import N_POINTS
from ..schema import X_COLUMNS, Y_COLUMNS

PYFEAT_BOX = ("FaceRectWidth", "FaceRectHeight")


class LandmarkFileError(ValueError):
    """A landmark file that cannot be interpreted; the message names the file and what is wrong."""


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a landmark CSV into a table with clean column names (OpenFace writes ``", "`` separators)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"landmark file {path} does not exist")
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LandmarkFileError(f"{path} is not a readable CSV: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in X_COLUMNS + Y_COLUMNS if c not in table.columns]
    if missing:
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise LandmarkFileError(
            f"{path} lacks landmark columns ({len(missing)} missing: {shown}); expected x_0..x_67 and "
            f"y_0..y_67 as written by landmarks.extract, OpenFace 2 or py-feat"
        )
    return table


def _largest_face_per_frame(table: pd.DataFrame) -> pd.DataFrame:
    """py-feat writes one row per detected face; keep the largest face of each frame."""
    if "frame" not in table.columns or not table["frame"].duplicated().any():
        return table
    if all(c in table.columns for c in PYFEAT_BOX):
        area = table[PYFEAT_BOX[0]].fillna(0) * table[PYFEAT_BOX[1]].fillna(0)
    else:
        xs, ys = table[X_COLUMNS].to_numpy(float), table[Y_COLUMNS].to_numpy(float)
        area = pd.Series(np.nan_to_num(np.ptp(xs, axis=1) * np.ptp(ys, axis=1)), index=table.index)
    order = area.sort_values(ascending=False, kind="stable").index
    best = table.loc[order].drop_duplicates(subset="frame", keep="first")
    return best.sort_values("frame", kind="stable")


def landmark_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(points, success)`` from a landmark table: points (frames, 68, 2), NaN where success is false."""
    table = _largest_face_per_frame(table)
    xs = table[X_COLUMNS].to_numpy(dtype=np.float64)
    ys = table[Y_COLUMNS].to_numpy(dtype=np.float64)
    points = np.stack([xs, ys], axis=-1)
    if "success" in table.columns:
        success = table["success"].fillna(0).to_numpy().astype(float) > 0.5
    else:  # py-feat marks frames without a face by empty landmark cells
        success = np.ones(len(table), dtype=bool)
    success &= ~np.isnan(points).reshape(len(points), -1).any(axis=1)
    points[~success] = np.nan
    return points.reshape(len(table), N_POINTS, 2), success


def read_landmarks(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one clip's landmarks: ``(points, success)`` with points of shape (frames, 68, 2) in pixels,
    NaN where ``success`` is false, and the boolean success mask.

    Reads this package's CSVs, OpenFace 2 CSVs and py-feat CSVs (several faces per frame: the largest).
    """
    return landmark_arrays(read_table(path))
