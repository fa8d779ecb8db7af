"""Clips animated from real photos: extraction recovers the landmarks the animator moved; subjects can be
different people and classes a dynamics task's time courses."""

import cv2
import numpy as np
import pandas as pd

from landmarks import extract_landmarks, read_landmarks
from landmarks.layout import eye_distance
from landmarks.synthetic import animate_photo


def test_extraction_recovers_the_animated_landmarks(tmp_path):
    frames_dir = tmp_path / "frames"
    labels = animate_photo(
        frames_dir, subjects=1, clips_per_class={"phasic": 1, "neutral": 1}, frames=10, size=(1280, 720), seed=0
    )
    assert labels["clip"].tolist() == ["S01/phasic/clip01", "S01/neutral/clip01"]
    assert pd.read_csv(frames_dir / "labels.csv")["label"].tolist() == ["phasic", "neutral"]
    assert len(list((frames_dir / "S01" / "phasic" / "clip01").glob("frame_*.png"))) == 10
    manifest = extract_landmarks(frames_dir, tmp_path / "landmarks", workers=1, progress=False)
    assert (manifest["detected"] == 10).all()
    gaps = {}
    for clip in labels["clip"]:
        ours, _ = read_landmarks(tmp_path / "landmarks" / f"{clip}.csv")
        truth, _ = read_landmarks(tmp_path / "frames_truth" / f"{clip}.csv")
        error = np.median(np.linalg.norm(ours - truth, axis=-1), axis=1) / eye_distance(truth)
        assert error.max() <= 0.03, (clip, error)  # tolerance: 3% of the eye-corner distance, every frame
        # brow-to-inner-eye-corner height: the animated brow lowering (AU4) is seen by the extractor
        gaps[clip] = (truth[:, 39, 1] - truth[:, 21, 1], ours[:, 39, 1] - ours[:, 21, 1])
    truth_gap, our_gap = gaps["S01/phasic/clip01"]
    peak = int(np.argmin(truth_gap))
    assert truth_gap[0] - truth_gap[peak] > 10 and our_gap[0] - our_gap[peak] > 10
    truth_gap, our_gap = gaps["S01/neutral/clip01"]
    assert np.ptp(truth_gap) < 3 and np.ptp(our_gap) < 5


def test_subjects_get_real_faces_of_their_own_and_a_task_time_course(faces_dir, tmp_path):
    from landmarks.synthetic import astronaut, face_photos

    people = face_photos(faces_dir, limit=3)
    assert len(people) == 3 and all(min(p.shape[:2]) >= 300 for p in people)  # box >= 150 px, its size around
    labels = animate_photo(tmp_path / "frames", subjects=2, clips_per_class={"onset": 1, "offset": 1}, frames=12,
                           size=(640, 480), seed=1, photos=[astronaut(), people[0]], task="order")
    assert sorted(labels["label"].unique()) == ["offset", "onset"]
    first = [cv2.imread(str(tmp_path / "frames" / s / "onset" / "clip01" / "frame_1.png")) for s in ("S01", "S02")]
    assert np.abs(first[0].astype(int) - first[1]).mean() > 20, "two subjects, two different people"
    gaps = {}
    for clip in labels["clip"]:
        truth, _ = read_landmarks(tmp_path / "frames_truth" / f"{clip}.csv")
        gaps[clip] = truth[:, 39, 1] - truth[:, 21, 1]  # brow lowering shrinks the brow-to-eye height
    for subject in ("S01", "S02"):
        onset, offset = gaps[f"{subject}/onset/clip01"], gaps[f"{subject}/offset/clip01"]
        assert onset[0] - onset[-1] > 3 and offset[-1] - offset[0] > 3, "onset lowers the brows, offset raises them"
