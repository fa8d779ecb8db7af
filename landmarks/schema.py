"""The landmark CSV schema shared by extraction and reading: OpenFace-compatible column names."""

from __future__ import annotations

N_POINTS = 68
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
