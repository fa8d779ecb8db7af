"""Extraction of whole clips and whole data sets: per-frame rows, atomic CSVs, manifest, resume, workers."""

from __future__ import annotations

import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..layout import N_POINTS
from ..parallel import WorkerDied, report_progress, run_jobs
from ..provenance import run_record
from ..schema import (
    CSV_COLUMNS,
    FRAME_FILE_COLUMN,
    MANIFEST_COLUMNS,
    MANIFEST_NAME,
    RUN_RECORD_NAME,
    STATUS_EMPTY,
    STATUS_FAILED,
    STATUS_NO_FACE,
    STATUS_OK,
    read_manifest,
    write_table_atomic,
)
from .clips import Clip, find_clips
from .frames import ClipReadError, clip_frames, count_frames
from .model_files import file_sha256, predictor_path
from .tracker import FaceTracker, TrackerSettings


@dataclass
class ExtractionSettings:
    """Everything that decides the numbers in an extraction CSV (recorded in the run record)."""

    fps: float = 30.0
    tracker: TrackerSettings = field(default_factory=TrackerSettings)


@dataclass
class ClipReport:
    """One manifest row."""

    clip: str
    source: str
    frames: int = 0
    detected: int = 0
    unreadable: int = 0
    status: str = STATUS_OK
    error: str = ""
    seconds: float = 0.0


def _empty_table(with_file: bool) -> pd.DataFrame:
    return pd.DataFrame(columns=CSV_COLUMNS + ([FRAME_FILE_COLUMN] if with_file else []))


def extract_clip(
    path: str | os.PathLike,
    settings: ExtractionSettings | None = None,
    tracker: FaceTracker | None = None,
    on_frame: Callable[[int], None] | None = None,
    unreadable: list[str] | None = None,
) -> pd.DataFrame:
    """Landmarks of one clip (a video file or a folder of frames) as a table, one row per frame.

    Frames without a face keep their row with ``success=0`` and empty landmark cells; so do frames that
    cannot be decoded (their names are appended to ``unreadable`` when a list is given). Raises
    ``ClipReadError`` for a clip that cannot be read at all.
    """
    settings = settings or ExtractionSettings()
    path = Path(path)
    kind = "frames" if path.is_dir() else "video"
    tracker = tracker or FaceTracker(settings.tracker)
    tracker.reset()
    rows: list[list] = []
    files: list[str | None] = []
    for frame in clip_frames(path, kind, settings.fps):
        result = tracker.process(frame.image) if frame.image is not None else None
        if frame.image is None and unreadable is not None:
            unreadable.append(f"{frame.file}: {frame.error}")
        if frame.image is None:
            tracker.reset()
        if result is None:
            coords = [np.nan] * (2 * N_POINTS)
            rows.append([frame.index + 1, 0, frame.timestamp, 0.0, 0, *coords])
        else:
            coords = [*result.points[:, 0], *result.points[:, 1]]
            rows.append([frame.index + 1, 0, frame.timestamp, result.confidence, 1, *coords])
        files.append(frame.file)
        if on_frame is not None:
            on_frame(1)
    if not rows:
        return _empty_table(kind == "frames")
    table = pd.DataFrame(rows, columns=CSV_COLUMNS)
    table["success"] = table["success"].astype(int)
    if kind == "frames":
        table[FRAME_FILE_COLUMN] = files
    return table


def output_csv(output: Path, clip: Clip) -> Path:
    return output / f"{clip.name}.csv"


# -- worker processes ------------------------------------------------------------------------------------
_worker_tracker: FaceTracker | None = None


def _load_tracker(tracker_settings: TrackerSettings) -> None:
    """Load the models once per worker process."""
    global _worker_tracker
    _worker_tracker = FaceTracker(tracker_settings)


def _process_clip(job: tuple[Clip, str, ExtractionSettings]) -> ClipReport:
    clip, output, settings = job
    if _worker_tracker is None or _worker_tracker.settings != settings.tracker:
        _load_tracker(settings.tracker)
    report = ClipReport(clip=clip.name, source=str(clip.path))
    started = time.perf_counter()
    if clip.kind == "empty":
        report.status = STATUS_EMPTY
        report.error = "folder holds no image or video files"
        return report
    unreadable: list[str] = []
    try:
        table = extract_clip(clip.path, settings, _worker_tracker, report_progress, unreadable)
    except (ClipReadError, OSError) as exc:
        report.status, report.error = STATUS_FAILED, str(exc)
    except Exception as exc:  # a bad clip never stops a batch run
        report.status, report.error = STATUS_FAILED, f"{type(exc).__name__}: {exc}"
    else:
        report.frames = len(table)
        report.detected = int(table["success"].sum()) if len(table) else 0
        report.unreadable = len(unreadable)
        if unreadable:
            report.error = f"unreadable frames: {'; '.join(unreadable)}"
        if report.frames == 0:
            report.status = STATUS_EMPTY
        else:
            report.status = STATUS_OK if report.detected else STATUS_NO_FACE
            write_table_atomic(table, output_csv(Path(output), clip))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# -- resume --------------------------------------------------------------------------------------------
def _is_complete(clip: Clip, csv_path: Path) -> bool:
    """A CSV at its final name is complete by construction (atomic rename); for frame folders it must also
    still cover every frame file, so frames added since are not missed."""
    if not csv_path.is_file():
        return False
    if clip.kind != "frames":
        return True
    with open(csv_path, "rb") as handle:
        rows = sum(1 for _ in handle) - 1
    return rows == count_frames(clip.path, clip.kind)


def _skipped_report(clip: Clip, csv_path: Path, previous: dict | None) -> ClipReport:
    if previous is not None and previous.get("status") in (STATUS_OK, STATUS_NO_FACE):
        fields = {k: previous[k] for k in MANIFEST_COLUMNS if k in previous}
        fields["error"] = str(fields.get("error", ""))
        report = ClipReport(**fields)
        report.source = str(clip.path)
        return report
    success = pd.read_csv(csv_path, usecols=["success"])["success"]
    detected = int(success.sum())
    return ClipReport(
        clip=clip.name,
        source=str(clip.path),
        frames=len(success),
        detected=detected,
        status=STATUS_OK if detected else STATUS_NO_FACE,
    )


# -- the run -------------------------------------------------------------------------------------------
def _check_output(output: Path) -> None:
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(f"cannot write to output folder {output}: {exc.strerror or exc}") from exc


def extract_landmarks(
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    settings: ExtractionSettings | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    record_extra: dict | None = None,
) -> pd.DataFrame:
    """Extract every clip under ``input_path`` into ``output`` and return the manifest.

    Writes ``<output>/<clip>.csv`` per clip, ``manifest.csv`` (one row per clip with its status) and
    ``run.json`` (arguments, package version, model file and hash). Clips whose CSV is already complete
    are skipped unless ``overwrite``; a clip that fails is reported in the manifest and the run goes on.
    """
    settings = settings or ExtractionSettings()
    input_path, output = Path(input_path), Path(output)
    clips = find_clips(input_path)
    _check_output(output)
    workers = max(1, workers or os.cpu_count() or 1)
    model = predictor_path(settings.tracker.predictor)
    record = run_record(input=str(input_path), output=str(output), workers=workers, settings=asdict(settings),
                        model_file=str(model), **(record_extra or {}))
    hashing = threading.Thread(target=lambda: record.update(model_sha256=file_sha256(model)), daemon=True)
    hashing.start()  # hashing the 100 MB model overlaps with the work instead of delaying it

    previous = read_manifest(output)
    reports: dict[str, ClipReport] = {}
    jobs = []
    for clip in clips:
        csv_path = output_csv(output, clip)
        if not overwrite and clip.kind != "empty" and _is_complete(clip, csv_path):
            reports[clip.name] = _skipped_report(clip, csv_path, previous.get(clip.name))
        else:
            jobs.append((clip, str(output), settings))

    total = sum(count_frames(clip.path, clip.kind) for clip, _, _ in jobs if clip.kind != "empty")
    bar = tqdm(total=total, unit="frame", desc="extracting", disable=not progress, dynamic_ncols=True)
    if len(reports):
        bar.write(f"resuming: {len(reports)} clip(s) already complete in {output}, {len(jobs)} to do", file=sys.stderr)
    # fork: workers start at once and load the models after the fork (spawn where fork is unsafe, on macOS)
    start_method = "spawn" if platform.system() == "Darwin" else "fork"
    try:
        for _, report in run_jobs(_process_clip, jobs, workers=workers, start_method=start_method,
                                  initializer=_load_tracker, initargs=(settings.tracker,), on_progress=bar.update,
                                  describe=lambda job: f"clip {job[0].name}"):
            reports[report.clip] = report
            _write_manifest(output, clips, reports)
    except WorkerDied as error:
        raise WorkerDied(f"{error}; the clips done so far are kept: run the same command again to resume") from error
    finally:
        bar.close()
    hashing.join()
    manifest = _write_manifest(output, clips, reports)
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record["clips"] = manifest["status"].value_counts().to_dict()
    (output / RUN_RECORD_NAME).write_text(json.dumps(record, indent=2, default=str) + "\n")
    return manifest


def _write_manifest(output: Path, clips: list[Clip], reports: dict[str, ClipReport]) -> pd.DataFrame:
    """Rewrite the manifest (atomically) with every clip reported so far, in clip order."""
    rows = [asdict(reports[clip.name]) for clip in clips if clip.name in reports]
    table = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    write_table_atomic(table, output / MANIFEST_NAME)
    return table
