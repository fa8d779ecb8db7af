"""The landmark CSV schema shared by extraction, reading and the synthetic generators: OpenFace-compatible
column names, the manifest's columns and statuses, and the atomic write every CSV goes through."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from .layout import N_POINTS

X_COLUMNS = [f"x_{i}" for i in range(N_POINTS)]
Y_COLUMNS = [f"y_{i}" for i in range(N_POINTS)]
META_COLUMNS = ["frame", "face_id", "timestamp", "confidence", "success"]
CSV_COLUMNS = META_COLUMNS + X_COLUMNS + Y_COLUMNS
FRAME_FILE_COLUMN = "frame_file"

MANIFEST_NAME = "manifest.csv"
RUN_RECORD_NAME = "run.json"
MANIFEST_COLUMNS = ["clip", "source", "frames", "detected", "unreadable", "detector", "status", "error", "seconds"]

# Clip statuses written to the manifest.
STATUS_OK = "ok"
STATUS_NO_FACE = "no_face"
STATUS_EMPTY = "empty"
STATUS_FAILED = "failed"


def write_atomic(destination: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file under a temporary name (``write`` gets the open binary file) and rename it, so a killed
    run never leaves a truncated file at the final name: what resume relies on."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_table_atomic(table: pd.DataFrame, destination: Path, float_format: str = "%.3f") -> None:
    """Write a CSV under a temporary name and rename it, so a killed run never leaves a truncated CSV."""
    write_atomic(destination, lambda handle: table.to_csv(handle, index=False, float_format=float_format))


def read_manifest(folder: Path) -> dict[str, dict]:
    """An earlier run's manifest rows by clip (empty when there is none, or it cannot be read): what a
    resumed run keeps of the clips it skips."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        table = pd.read_csv(manifest, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError):
        return {}
    return {str(row["clip"]): row for row in table.to_dict("records")}
