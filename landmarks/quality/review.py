"""Reviewing a whole extraction: per clip, the quality measures (qc.csv), a contact sheet of the tracked face
(a few frames evenly spaced, then the frames that moved most), optionally an overlay video, and an index
page that lists the flagged clips first, so a person can go through a data set in minutes.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from ..dataset.assemble import landmark_files
from ..dataset.reading import landmark_arrays, read_table
from ..extraction.clips import Clip, find_clips, frame_files
from ..parallel import run_jobs
from ..schema import FRAME_FILE_COLUMN, write_table_atomic
from .drawing import contact_sheet, face_window, plot_frame
from .measures import ClipQuality, QualityThresholds, clip_quality

QC_NAME, INDEX_NAME, SHEETS_DIR, VIDEOS_DIR = "qc.csv", "index.md", "sheets", "videos"


@dataclass(frozen=True)
class ReviewSettings:
    sheet_frames: int = 6  # frames evenly spaced over the clip on each sheet
    worst: int = 2  # then the frames that moved most
    tile: int = 240  # pixels per frame on the sheet
    graph: str | None = "anatomical"  # the facial graph drawn over the points (None: points only)
    video: bool = False  # also write an overlay video of every frame (mp4)
    thresholds: QualityThresholds = QualityThresholds()


def sheet_frames(frames: int, evenly: int, worst: list[int]) -> tuple[list[int], list[int]]:
    """0-based frames of a sheet: ``evenly`` frames spread over the clip (its first row), and the worst ones
    not among them (the row below)."""
    spread = sorted({int(round(i)) for i in np.linspace(0, frames - 1, min(evenly, frames))}) if frames else []
    return spread, [frame for frame in worst if frame not in spread]


def _read_frames(clip: Clip | None, table: pd.DataFrame, wanted: set[int], everything: bool) -> dict[int, np.ndarray]:
    """The frames (BGR) of a clip by 0-based row: those in ``wanted``, or every one; each decoded once,
    videos sequentially from the start (no seeking)."""
    if clip is None:
        return {}
    if clip.kind == "frames":
        if FRAME_FILE_COLUMN in table:
            names = table[FRAME_FILE_COLUMN].tolist()
        else:
            names = [path.name for path in frame_files(clip.path)]
        rows = range(len(names)) if everything else sorted(wanted)
        found = {row: cv2.imread(str(clip.path / names[row])) for row in rows if row < len(names)}
        return {row: image for row, image in found.items() if image is not None}
    capture = cv2.VideoCapture(str(clip.path))
    images, last = {}, len(table) - 1 if everything else max(wanted, default=-1)
    try:
        for row in range(last + 1):
            if everything or row in wanted:
                ok, image = capture.read()
                if ok:
                    images[row] = image
            else:
                ok = capture.grab()  # passes a frame without converting it
            if not ok:
                break
    finally:
        capture.release()
    return images


def _write_video(path: Path, images: dict[int, np.ndarray], points: np.ndarray, success: np.ndarray,
                 graph: str | None, fps: float) -> None:
    first = next(iter(images.values()))
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (first.shape[1], first.shape[0]))
    try:
        for row in sorted(images):
            writer.write(plot_frame(images[row], points[row] if success[row] else None, graph, f"frame {row + 1}",
                                    bool(success[row])))
    finally:
        writer.release()


def review_clip(job: tuple[str, Path, Clip | None, Path, ReviewSettings]) -> dict:
    """Measure one clip, draw its sheet (and video); a clip that cannot be reviewed gives a flagged row
    saying why, never an exception."""
    name, csv_path, clip, out, settings = job
    try:
        table = read_table(csv_path)
        points, success = landmark_arrays(table)
        confidence = table["confidence"].to_numpy(float) if "confidence" in table else None
        quality = clip_quality(name, points, success, confidence, settings.thresholds, settings.worst)
        spread, worst = sheet_frames(len(success), settings.sheet_frames, [frame - 1 for frame in quality.moved_most])
        rows = spread + worst
        images = _read_frames(clip, table, set(rows), settings.video)
        if images:
            shape = next(iter(images.values())).shape[:2]
        else:  # no media: the points on a blank page
            tracked = points[success].reshape(-1, 2) if success.any() else np.zeros((1, 2))
            shape = (int(np.nanmax(tracked[:, 1])) + 40, int(np.nanmax(tracked[:, 0])) + 40)
        blank = np.full((*shape, 3), 255, np.uint8)
        frames = [images.get(row, blank) for row in rows]
        labels = [f"frame {row + 1}" for row in spread] + [f"moved most: frame {row + 1}" for row in worst]
        sheet = contact_sheet(frames, [points[row] if success[row] else None for row in rows], labels,
                              [bool(success[row]) for row in rows], face_window(points, success, shape),
                              settings.graph, settings.tile, columns=max(len(spread), 1))
        sheet_path = out / SHEETS_DIR / f"{name}.png"
        sheet_path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sheet_path), sheet)
        if settings.video and images:
            fps = 1.0 / np.median(np.diff(table["timestamp"])) if "timestamp" in table and len(table) > 1 else 30.0
            _write_video(out / VIDEOS_DIR / f"{name}.mp4", images, points, success, settings.graph, float(fps))
        return {**quality.row(), "sheet": sheet_path.relative_to(out).as_posix(), "error": ""}
    except Exception as error:  # a bad clip never stops the review: it is listed, flagged, with the reason
        empty = ClipQuality(name, 0, 0.0, 0, 0, float("nan"), 0, flagged=True, reasons="could not be reviewed")
        return {**empty.row(), "sheet": "", "error": f"{type(error).__name__}: {error}"}


def _index(table: pd.DataFrame, thresholds: QualityThresholds) -> str:
    flagged, clean = table[table["flagged"]], table[~table["flagged"]]
    lines = [f"# Landmark review: {len(table)} clips, {len(flagged)} flagged", "",
             "Flags: " + ", ".join(f"{key} {value}" for key, value in vars(thresholds).items()) + " (see qc.csv).", ""]
    if len(flagged):
        lines += ["## Flagged", ""]
        for row in flagged.itertuples():
            lines += [f"### {row.clip}", "", f"{row.reasons}{'; ' + row.error if row.error else ''}", ""]
            if row.sheet:
                lines += [f"![{row.clip}]({quote(row.sheet)})", ""]
    lines += ["## Not flagged", "", "| clip | tracked | longest gap | jitter | sheet |", "| --- " * 5 + "|"]
    for row in clean.itertuples():
        lines.append(f"| {row.clip} | {100 * row.tracked_share:.0f}% | {row.longest_gap} | {row.jitter:.4f} | "
                     f"[sheet]({quote(row.sheet)}) |")
    return "\n".join(lines) + "\n"


def review_landmarks(
    landmarks: str | os.PathLike,
    out: str | os.PathLike,
    media: str | os.PathLike | None = None,
    *,
    settings: ReviewSettings | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Review every landmark CSV under ``landmarks`` (an output of ``landmarks.extract``), reading frames from
    ``media`` (the extraction's INPUT; without it, sheets show the points on a blank page). Writes
    ``out/qc.csv``, ``out/sheets/<clip>.png``, ``out/index.md`` (flagged clips first) and, with
    ``settings.video``, ``out/videos/<clip>.mp4``; returns the qc table."""
    settings = settings or ReviewSettings()
    landmarks, out = Path(landmarks), Path(out)
    if not landmarks.is_dir():
        raise FileNotFoundError(f"landmarks folder {landmarks} does not exist; give the OUTPUT of landmarks.extract")
    files = landmark_files(landmarks)
    if not files:
        raise ValueError(f"no landmark CSV under {landmarks}")
    clips = {clip.name: clip for clip in find_clips(media)} if media is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(name, path, clips.get(name), out, settings) for name, path in files.items()]
    missing = [name for name, _, clip, _, _ in jobs if media is not None and clip is None]
    if missing:
        print(f"no media for {len(missing)} clip(s) under {media}, e.g. {missing[0]}: their sheets show the points "
              f"only", file=sys.stderr)
    rows = [None] * len(jobs)
    start_method = "spawn" if platform.system() == "Darwin" else "fork"
    with tqdm(total=len(jobs), unit="clip", desc="reviewing", disable=not progress) as bar:
        for index, row in run_jobs(review_clip, jobs, workers=workers or os.cpu_count() or 1,
                                   start_method=start_method, describe=lambda job: f"clip {job[0]}"):
            rows[index] = row
            bar.update()
    table = pd.DataFrame(rows).sort_values(["flagged", "clip"], ascending=[False, True], kind="stable")
    write_table_atomic(table, out / QC_NAME, float_format="%.5g")
    (out / INDEX_NAME).write_text(_index(table, settings.thresholds))
    return table.reset_index(drop=True)
