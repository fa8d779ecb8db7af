"""The landmark CSV schema shared by extraction, reading and the synthetic generators: OpenFace-compatible
column names, the manifest's columns and statuses, and the atomic write every CSV goes through."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .layout import N_POINTS

X_COLUMNS = [f"x_{i}" for i in range(N_POINTS)]
Y_COLUMNS = [f"y_{i}" for i in range(N_POINTS)]
META_COLUMNS = ["frame", "face_id", "timestamp", "confidence", "success"]
CSV_COLUMNS = META_COLUMNS + X_COLUMNS + Y_COLUMNS
FRAME_FILE_COLUMN = "frame_file"

MANIFEST_NAME = "manifest.csv"
RUN_RECORD_NAME = "run.json"
MANIFEST_COLUMNS = ["clip", "source", "frames", "detected", "unreadable", "status", "error", "seconds"]

# Clip statuses written to the manifest.
STATUS_OK = "ok"
STATUS_NO_FACE = "no_face"
STATUS_EMPTY = "empty"
STATUS_FAILED = "failed"


def write_table_atomic(table: pd.DataFrame, destination: Path, float_format: str = "%.3f") -> None:
    """Write a CSV under a temporary name and rename it, so a killed run never leaves a truncated CSV."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        table.to_csv(temporary, index=False, float_format=float_format)
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            temporary.unlink()
