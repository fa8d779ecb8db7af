"""Whole extraction runs: manifest, bad input that never stops a run, resume, the command line."""

import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pandas as pd
import pytest

from landmarks import extract_clip, extract_landmarks, read_landmarks
from landmarks.extraction.frames import read_image

from .conftest import REPO, place_on_canvas

CANVAS = (640, 360)


def moving_frames(photo, count):
    base = place_on_canvas(photo, size=CANVAS, face_height=360)
    frames = []
    for i in range(count):
        matrix = cv2.getRotationMatrix2D((CANVAS[0] / 2, CANVAS[1] / 2), 3.0 * i, 1.0)
        matrix[0, 2] += 4 * i
        frames.append(cv2.warpAffine(base, matrix, CANVAS))
    return frames


@pytest.fixture()
def dataset(tmp_path, astronaut_bgr, faces_dir):
    """A small data-set root holding every kind of clip, good and bad."""
    root = tmp_path / "input"
    good = root / "S01" / "pain" / "c1"
    good.mkdir(parents=True)
    for i, frame in enumerate(moving_frames(astronaut_bgr, 6)):
        cv2.imwrite(str(good / f"frame_{i + 1}.png"), frame)
    (good / "frame_4.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # corrupt frame
    (good / "notes.txt").write_text("not a frame")
    (good / "Thumbs.db").write_bytes(b"\0\1")
    dogs = root / "S01" / "none" / "c2"
    dogs.mkdir(parents=True)
    picture = cv2.imread(str(faces_dir / "dogs.jpg"))
    for i in range(3):
        cv2.imwrite(str(dogs / f"{i}.jpg"), picture)
    (root / "S02" / "empty").mkdir(parents=True)
    (root / "S02" / "zero.mp4").write_bytes(b"")
    (root / "S02" / "junk.mp4").write_bytes(os.urandom(4096))
    writer = cv2.VideoWriter(str(root / "S02" / "vid.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, CANVAS)
    for frame in moving_frames(astronaut_bgr, 5):
        writer.write(frame)
    writer.release()
    return root


def test_run_reports_every_clip_and_goes_on_past_bad_ones(dataset, tmp_path):
    out = tmp_path / "out"
    manifest = extract_landmarks(dataset, out, workers=2, progress=False)
    rows = manifest.set_index("clip")
    assert rows.loc["S01/pain/c1", "status"] == "ok"
    assert rows.loc["S01/pain/c1", "frames"] == 6 and rows.loc["S01/pain/c1", "detected"] == 5
    assert rows.loc["S01/pain/c1", "unreadable"] == 1 and "frame_4.png" in rows.loc["S01/pain/c1", "error"]
    assert rows.loc["S01/none/c2", "status"] == "no_face" and rows.loc["S01/none/c2", "frames"] == 3
    assert rows.loc["S02/empty", "status"] == "empty"
    assert rows.loc["S02/zero", "status"] == "failed" and "0 bytes" in rows.loc["S02/zero", "error"]
    assert rows.loc["S02/junk", "status"] == "failed" and "junk.mp4" in rows.loc["S02/junk", "error"]
    assert rows.loc["S02/vid", "status"] == "ok" and rows.loc["S02/vid", "detected"] == 5

    on_disk = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert on_disk["clip"].tolist() == manifest["clip"].tolist()
    table = pd.read_csv(out / "S01" / "pain" / "c1.csv")
    assert table["frame_file"].tolist() == [f"frame_{i}.png" for i in range(1, 7)]
    assert table["success"].tolist() == [1, 1, 1, 0, 1, 1]
    assert table.loc[3, [f"y_{i}" for i in range(68)]].isna().all(), "no landmarks carried into a bad frame"
    no_face = pd.read_csv(out / "S01" / "none" / "c2.csv")
    assert len(no_face) == 3 and not no_face["success"].any()
    assert not (out / "S02" / "zero.csv").exists() and not (out / "S02" / "junk.csv").exists()
    record = json.loads((out / "run.json").read_text())
    assert record["model_file"].endswith("shape_predictor_68_face_landmarks.dat")
    assert len(record["model_sha256"]) == 64 and record["version"]


def test_bit_depths_and_channels_give_the_same_landmarks(astronaut_bgr, tmp_path, tracker):
    frame = place_on_canvas(astronaut_bgr, size=CANVAS, face_height=360)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    variants = {
        "bgr8.png": frame,
        "bgr16.png": frame.astype(np.uint16) * 257,
        "bgra.png": np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)]),
        "gray8.png": gray,
        "gray16.tif": gray.astype(np.uint16) * 257,
    }
    for name, image in variants.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        assert cv2.imwrite(str(folder / name), image)
        assert read_image(folder / name).dtype == np.uint8
    reference = extract_clip(tmp_path / "bgr8", tracker=tracker)
    assert reference["success"].all()
    columns = [c for c in reference.columns if c.startswith(("x_", "y_"))]
    for folder in ("bgr16", "bgra", "gray8", "gray16"):
        table = extract_clip(tmp_path / folder, tracker=tracker)
        assert table["success"].all(), folder
        assert np.abs(table[columns].to_numpy() - reference[columns].to_numpy()).max() <= 1.0, folder


def test_very_large_frame_is_handled_at_its_own_resolution(astronaut_bgr, tmp_path, tracker):
    folder = tmp_path / "huge"
    folder.mkdir()
    frame = place_on_canvas(astronaut_bgr, size=(7680, 4320), face_height=4320)
    cv2.imwrite(str(folder / "f1.jpg"), frame)
    small = tmp_path / "small"
    small.mkdir()
    cv2.imwrite(str(small / "f1.jpg"), cv2.resize(frame, (1920, 1080), interpolation=cv2.INTER_AREA))
    huge = extract_clip(folder, tracker=tracker)
    reference = extract_clip(small, tracker=tracker)
    assert huge["success"].all()
    columns = [c for c in huge.columns if c.startswith(("x_", "y_"))]
    scale_error = np.abs(huge[columns].to_numpy() / 4.0 - reference[columns].to_numpy())
    assert np.median(scale_error) < 3.0  # points in the original 8K pixel grid


def test_resumed_run_equals_uninterrupted_run(dataset, tmp_path):
    full = tmp_path / "full"
    extract_landmarks(dataset, full, workers=1, progress=False)
    resumed = tmp_path / "resumed"
    extract_landmarks(dataset, resumed, workers=1, progress=False)
    # simulate a run killed while writing S02/vid and before S01/none/c2 was done
    (resumed / "S01" / "none" / "c2.csv").unlink()
    (resumed / "S02" / "vid.csv").unlink()
    (resumed / "S02" / ".vid.csv.123.partial").write_text("frame,face_id\n1,")
    kept = resumed / "S01" / "pain" / "c1.csv"
    kept_mtime = kept.stat().st_mtime_ns
    time.sleep(0.01)
    manifest = extract_landmarks(dataset, resumed, workers=1, progress=False)
    assert kept.stat().st_mtime_ns == kept_mtime, "a complete clip was redone"
    for name in ("S01/pain/c1", "S01/none/c2", "S02/vid"):
        assert (resumed / f"{name}.csv").read_bytes() == (full / f"{name}.csv").read_bytes(), name
    first = pd.read_csv(full / "manifest.csv", keep_default_na=False)
    assert manifest[["clip", "frames", "detected", "status"]].equals(first[["clip", "frames", "detected", "status"]])


def test_frame_folder_that_grew_is_redone(dataset, tmp_path, astronaut_bgr):
    out = tmp_path / "out"
    extract_landmarks(dataset / "S01" / "pain" / "c1", out, workers=1, progress=False)
    assert len(read_landmarks(out / "c1.csv")[1]) == 6
    cv2.imwrite(str(dataset / "S01" / "pain" / "c1" / "frame_7.png"), moving_frames(astronaut_bgr, 1)[0])
    extract_landmarks(dataset / "S01" / "pain" / "c1", out, workers=1, progress=False)
    assert len(read_landmarks(out / "c1.csv")[1]) == 7


def run_cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "landmarks.extract", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, timeout=300, **kwargs,
    )


def test_cli_killed_midway_leaves_only_complete_csvs_and_resumes(dataset, tmp_path, astronaut_bgr):
    long_clip = dataset / "S03" / "long"  # a clip of 40 frames, still to do when the run is killed
    long_clip.mkdir(parents=True)
    for i, frame in enumerate(moving_frames(astronaut_bgr, 40)):
        cv2.imwrite(str(long_clip / f"frame_{i + 1}.png"), frame)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "landmarks.extract", str(dataset), str(out), "--workers", "1", "--quiet"], cwd=REPO
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "S01" / "pain" / "c1.csv").exists():
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed midway"
    process.kill()
    process.wait()
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.csv") if p.name != "manifest.csv"}
    assert "S01/pain/c1.csv" in written and "S03/long.csv" not in written, "the kill did not come midway"
    for csv_path in out.rglob("*.csv"):
        if csv_path.name != "manifest.csv":
            table = pd.read_csv(csv_path)
            assert len(table) == table["frame"].max(), f"truncated {csv_path}"
    result = run_cli(dataset, out, "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "7 clip(s)" in result.stdout
    assert "failed: S02/junk" in result.stderr
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert len(manifest) == 7 and (out / "S02" / "vid.csv").exists()
    assert len(pd.read_csv(out / "S03" / "long.csv")) == 40


def test_cli_errors_are_one_line_and_nonzero(tmp_path, dataset):
    missing = run_cli(tmp_path / "nope", tmp_path / "out")
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "nope" in missing.stderr
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    unwritable = run_cli(dataset, blocker / "out")
    assert unwritable.returncode != 0
    assert unwritable.stderr.strip().count("\n") == 0 and "cannot write to output folder" in unwritable.stderr
    bad_option = run_cli(dataset, tmp_path / "out", "--workers", "0")
    assert bad_option.returncode == 2


def test_cli_help_explains_the_schema():
    result = run_cli("--help")
    assert result.returncode == 0
    for word in ("success=0", "manifest.csv", "--workers", "--overwrite", "--seed", "natural order"):
        assert word in result.stdout
