"""Long videos across workers: a video cut into segments that run on different workers is stitched into the
CSV of the whole video, frame numbers and timestamps kept; a container that cannot be entered at an exact
frame is caught and extracted whole."""

from __future__ import annotations

import shutil

import cv2
import pandas as pd

from landmarks.extraction.pipeline import ExtractionSettings, extract_clip, extract_landmarks, segments_of
from landmarks.schema import write_table_atomic


def whole_csv(video, settings: ExtractionSettings, tmp_path) -> bytes:
    """The CSV one uncut extraction of ``video`` writes (the same writer as a run's)."""
    path = tmp_path / f"whole-{video.stem}.csv"
    write_table_atomic(extract_clip(video, settings), path)
    return path.read_bytes()


def test_segments_on_two_workers_stitch_into_the_whole_videos_csv(pyfeat_data, tmp_path):
    video = pyfeat_data / "WolfgangLanger_Pexels.mp4"  # 472 frames of a real face
    (tmp_path / "in").mkdir()
    shutil.copy(video, tmp_path / "in" / video.name)
    settings = ExtractionSettings(segment_frames=100)
    clip_frames = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert len(segments_of(type("Clip", (), {"kind": "video"})(), clip_frames, 100)) == 5
    manifest = extract_landmarks(tmp_path / "in", tmp_path / "cut", settings=settings, workers=2, progress=False)
    assert manifest.loc[0, "status"] == "ok" and manifest.loc[0, "frames"] == 472
    written = (tmp_path / "cut" / "WolfgangLanger_Pexels.csv").read_bytes()
    assert written == whole_csv(video, settings, tmp_path), "the stitched CSV differs from the whole video's"
    table = pd.read_csv(tmp_path / "cut" / "WolfgangLanger_Pexels.csv")
    assert table["frame"].tolist() == list(range(1, 473)) and table["timestamp"].is_monotonic_increasing
    uncut = extract_clip(video, ExtractionSettings(segment_frames=0))  # no restarts at all: same before the cut
    columns = [c for c in table.columns if c.startswith(("x_", "y_"))]
    assert (uncut[columns].iloc[:100].round(3).to_numpy() == table[columns].iloc[:100].to_numpy()).all()


def test_a_container_that_lands_late_on_a_seek_is_extracted_whole(pyfeat_data, tmp_path):
    video = pyfeat_data / "face_noface.mov"  # QuickTime: entering it at frame 50 lands on frame 54
    (tmp_path / "in").mkdir()
    shutil.copy(video, tmp_path / "in" / video.name)
    settings = ExtractionSettings(segment_frames=50)
    whole = extract_clip(video, settings)
    entered = extract_clip(video, settings, segment=(50, 100))
    assert entered["timestamp"].iloc[0] > whole["timestamp"].iloc[50] + 0.1  # the premise: it lands late
    manifest = extract_landmarks(tmp_path / "in", tmp_path / "cut", settings=settings, workers=2, progress=False)
    assert manifest.loc[0, "frames"] == 169  # no frame lost or repeated
    assert (tmp_path / "cut" / "face_noface.csv").read_bytes() == whole_csv(video, settings, tmp_path)
