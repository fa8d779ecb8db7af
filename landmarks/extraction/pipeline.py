"""Extraction of whole clips and whole data sets: per-frame rows, atomic CSVs, manifest, resume, workers."""

from __future__ import annotations

import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
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
from .frames import ClipReadError, clip_frames, count_frames, decode_on_one_thread
from .model_files import file_sha256, predictor_path
from .tracker import FaceTracker, TrackerSettings


@dataclass
class ExtractionSettings:
    """Everything that decides the numbers in an extraction CSV (recorded in the run record)."""

    fps: float = 30.0
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    # videos longer than this many frames are cut into segments of this length that run on different
    # workers and are stitched into one CSV. Tracking restarts with a fresh detection at every multiple of
    # it in every run, cut or not, so any number of workers gives the same CSV; 0: never cut or restart
    segment_frames: int = 500


@dataclass
class ClipReport:
    """One manifest row."""

    clip: str
    source: str
    frames: int = 0
    detected: int = 0
    unreadable: int = 0
    detector: str = ""  # the detectors that found faces' boxes in full-frame searches: hog, cnn or hog+cnn
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
    segment: tuple[int, int | None] = (0, None),
) -> pd.DataFrame:
    """Landmarks of one clip (a video file or a folder of frames) as a table, one row per frame.

    Frames without a face keep their row with ``success=0`` and empty landmark cells; so do frames that
    cannot be decoded (their names are appended to ``unreadable`` when a list is given). Raises
    ``ClipReadError`` for a clip that cannot be read at all. ``segment`` (start, stop) gives the rows of the
    frames [start, stop) of a video alone, with the whole video's frame numbers. A video's tracking restarts
    at every multiple of ``settings.segment_frames`` (where segments start), so a segment's rows are those
    of the whole video.
    """
    settings = settings or ExtractionSettings()
    path = Path(path)
    kind = "frames" if path.is_dir() else "video"
    tracker = tracker or FaceTracker(settings.tracker)
    tracker.reset()
    rows: list[list] = []
    files: list[str | None] = []
    restart = settings.segment_frames if kind == "video" else 0
    for frame in clip_frames(path, kind, settings.fps, start=segment[0], stop=segment[1]):
        if restart and frame.index % restart == 0:
            tracker.reset()
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
# One tracker per worker thread (a Dask worker may run several tasks at once; a tracker holds a clip's state)
_worker = threading.local()


def _load_tracker(tracker_settings: TrackerSettings) -> None:
    """Load the models once per worker process (or Dask worker thread)."""
    _worker.tracker = FaceTracker(tracker_settings)


@contextmanager
def _workers_share_the_cores(workers: int):
    """While local workers run: OpenCV's own functions on one thread in each (set here, before the workers
    fork from this process: resizing OpenCV's thread pool inside a forked process can hang), so parallel
    workers do not oversubscribe the cores."""
    previous = cv2.getNumThreads()
    if workers > 1:
        cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def _start_worker(tracker_settings: TrackerSettings) -> None:
    """Once in each local worker process: one decoding thread per video (the workers share the cores), and
    the models."""
    decode_on_one_thread()
    _load_tracker(tracker_settings)


@dataclass
class SegmentResult:
    """One segment of a long video: its rows (frames [start, stop)) and what went wrong, for stitching."""

    clip: str
    start: int
    table: pd.DataFrame | None
    unreadable: list[str]
    error: str = ""
    seconds: float = 0.0
    cnn_searches: int = 0


def _process_clip(job: tuple) -> ClipReport | SegmentResult:
    clip, output, settings, segment = job
    if getattr(_worker, "tracker", None) is None or _worker.tracker.settings != settings.tracker:
        _load_tracker(settings.tracker)
    started = time.perf_counter()
    searches = _worker.tracker.cnn_detections
    if segment is not None:
        unreadable: list[str] = []
        try:
            table = extract_clip(clip.path, settings, _worker.tracker, report_progress, unreadable, segment)
        except Exception as exc:  # a bad segment fails its clip, never the run
            return SegmentResult(clip.name, segment[0], None, unreadable, f"{type(exc).__name__}: {exc}")
        return SegmentResult(clip.name, segment[0], table, unreadable, seconds=time.perf_counter() - started,
                             cnn_searches=_worker.tracker.cnn_detections - searches)
    report = ClipReport(clip=clip.name, source=str(clip.path))
    if clip.kind == "empty":
        report.status = STATUS_EMPTY
        report.error = "folder holds no image or video files"
        return report
    unreadable = []
    try:
        table = extract_clip(clip.path, settings, _worker.tracker, report_progress, unreadable)
    except (ClipReadError, OSError) as exc:
        report.status, report.error = STATUS_FAILED, str(exc)
    except Exception as exc:  # a bad clip never stops a batch run
        report.status, report.error = STATUS_FAILED, f"{type(exc).__name__}: {exc}"
    else:
        _finish_report(report, table, unreadable, output, clip)
    report.detector = detector_used(settings.tracker.detector, _worker.tracker.cnn_detections - searches)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def detector_used(setting: str, cnn_searches: int) -> str:
    """The manifest's word for the detectors a clip's full-frame searches used."""
    if setting == "auto":
        return "hog+cnn" if cnn_searches else "hog"
    return setting


def _finish_report(report: ClipReport, table: pd.DataFrame, unreadable: list[str], output: str, clip: Clip) -> None:
    """Fill a clip's manifest row from its rows, and write its CSV (atomically) when it has frames."""
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


def segments_of(clip: Clip, frames: int, segment_frames: int) -> list[tuple[int, int | None]] | None:
    """The segments [start, stop) a video is cut into (the last open-ended, as a frame count is the
    container's estimate), or None for a clip extracted whole."""
    if clip.kind != "video" or not segment_frames or frames <= segment_frames:
        return None
    starts = list(range(0, frames, segment_frames))
    return [(start, start + segment_frames) for start in starts[:-1]] + [(starts[-1], None)]


def _continuous(tables: list[pd.DataFrame]) -> bool:
    """Whether segments join without a lost or repeated frame: each segment's first timestamp follows the
    previous one's last by about one frame interval. A container that cannot be entered at an exact frame
    (some QuickTime files land a few frames late) fails this."""
    stamps = pd.concat([table["timestamp"] for table in tables]).to_numpy()
    step = np.median(np.diff(stamps)) if len(stamps) > 1 else 0.0
    for before, after in zip(tables[:-1], tables[1:], strict=True):
        gap = after["timestamp"].iloc[0] - before["timestamp"].iloc[-1]
        if not 0.5 * step < gap < 1.5 * step:
            return False
    return True


def stitch(clip: Clip, parts: list[SegmentResult], output: str, detector: str) -> ClipReport | None:
    """A segmented video's manifest row and CSV from its segments (in frame order); None when the segments
    do not join exactly, so the video must be extracted whole. ``detector`` is the tracker's setting."""
    parts = sorted(parts, key=lambda part: part.start)
    report = ClipReport(clip=clip.name, source=str(clip.path), seconds=round(sum(p.seconds for p in parts), 3),
                        detector=detector_used(detector, sum(part.cnn_searches for part in parts)))
    failed = [part for part in parts if part.table is None]
    if failed:
        report.status = STATUS_FAILED
        report.error = "; ".join(f"segment from frame {part.start}: {part.error}" for part in failed)
        return report
    tables = [part.table for part in parts if len(part.table)]
    if tables and not _continuous(tables):
        return None
    table = pd.concat(tables, ignore_index=True) if tables else parts[0].table
    _finish_report(report, table, [line for part in parts for line in part.unreadable], output, clip)
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
    scheduler=None,
) -> pd.DataFrame:
    """Extract every clip under ``input_path`` into ``output`` and return the manifest.

    Writes ``<output>/<clip>.csv`` per clip, ``manifest.csv`` (one row per clip with its status) and
    ``run.json`` (arguments, package version, model file and hash). Clips whose CSV is already complete
    are skipped unless ``overwrite``; a clip that fails is reported in the manifest and the run goes on.
    ``scheduler`` (a Dask scheduler's address or a ``distributed.Client``) runs the clips on that cluster's
    workers instead of ``workers`` local processes; the output is the same, byte for byte.
    """
    settings = settings or ExtractionSettings()
    input_path, output = Path(input_path), Path(output)
    clips = find_clips(input_path)
    _check_output(output)
    workers = max(1, workers or os.cpu_count() or 1)
    model = predictor_path(settings.tracker.predictor)
    record = run_record(input=str(input_path), output=str(output), workers=workers, settings=asdict(settings),
                        model_file=str(model), scheduler=None if scheduler is None else str(scheduler),
                        **(record_extra or {}))
    hashing = threading.Thread(target=lambda: record.update(model_sha256=file_sha256(model)), daemon=True)
    hashing.start()  # hashing the 100 MB model overlaps with the work instead of delaying it

    previous = read_manifest(output)
    reports: dict[str, ClipReport] = {}
    jobs = []
    total = 0
    segmented: dict[str, tuple[Clip, int, list[SegmentResult]]] = {}  # clip -> (clip, segments, those done)
    for clip in clips:
        csv_path = output_csv(output, clip)
        if not overwrite and clip.kind != "empty" and _is_complete(clip, csv_path):
            reports[clip.name] = _skipped_report(clip, csv_path, previous.get(clip.name))
            continue
        frames = count_frames(clip.path, clip.kind) if clip.kind != "empty" else 0
        total += frames
        segments = segments_of(clip, frames, settings.segment_frames)
        if segments is None:
            jobs.append((clip, str(output), settings, None))
        else:
            segmented[clip.name] = (clip, len(segments), [])
            jobs.extend((clip, str(output), settings, segment) for segment in segments)

    bar = tqdm(total=total, unit="frame", desc="extracting", disable=not progress, dynamic_ncols=True)
    if len(reports):
        bar.write(f"resuming: {len(reports)} clip(s) already complete in {output}, {len(clips) - len(reports)} to do",
                  file=sys.stderr)
    try:
        with _workers_share_the_cores(1 if scheduler is not None else min(workers, len(jobs))):
            _run_clip_jobs(jobs, segmented, reports, clips, output, settings, workers, scheduler, bar)
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


def _run_clip_jobs(jobs: list, segmented: dict, reports: dict, clips: list[Clip], output: Path,
                   settings: ExtractionSettings, workers: int, scheduler, bar) -> None:
    """Run the clip and segment jobs, stitch each segmented video once its segments are in (a video whose
    segments do not join is run again whole), and keep the manifest current after every clip."""
    # fork: workers start at once and load the models after the fork (spawn where fork is unsafe, on macOS)
    start_method = "spawn" if platform.system() == "Darwin" else "fork"
    while jobs:
        whole = []
        for _, report in run_jobs(_process_clip, jobs, workers=workers, start_method=start_method,
                                  initializer=None if scheduler else _start_worker, initargs=(settings.tracker,),
                                  on_progress=bar.update, describe=lambda job: f"clip {job[0].name}",
                                  scheduler=scheduler):
            if isinstance(report, SegmentResult):
                clip, count, done = segmented[report.clip]
                done.append(report)
                if scheduler is not None and report.table is not None:
                    bar.update(len(report.table))
                if len(done) < count:
                    continue
                report = stitch(clip, done, str(output), settings.tracker.detector)
                if report is None:
                    whole.append((clip, str(output), settings, None))
                    bar.total += sum(len(part.table) for part in done)  # the video's frames, counted again
                    continue
            elif scheduler is not None:  # a cluster's jobs report when done, not frame by frame
                bar.update(report.frames)
            reports[report.clip] = report
            _write_manifest(output, clips, reports)
        jobs = whole


def _write_manifest(output: Path, clips: list[Clip], reports: dict[str, ClipReport]) -> pd.DataFrame:
    """Rewrite the manifest (atomically) with every clip reported so far, in clip order."""
    rows = [asdict(reports[clip.name]) for clip in clips if clip.name in reports]
    table = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    write_table_atomic(table, output / MANIFEST_NAME)
    return table
