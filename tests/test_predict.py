"""Scoring new recordings with finished runs (experiments.predict): windows over a long stitched video, a clip
without a face, the run's own out-of-fold probabilities reproduced, image and fused runs, bad inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from experiments.baselines import run_baseline
from experiments.fusion import fuse_runs
from experiments.predict import predict_run
from experiments.scoring import RunError
from experiments.train_graph import train_graph
from experiments.train_image import train_image
from experiments.windows import windows_of
from landmarks.face_crops import CropGeometry, crop_faces

from .conftest import REPO

CLASSES = ["neutral", "phasic", "tonic"]
P = [f"p_{name}" for name in CLASSES]


@pytest.fixture(scope="module")
def runs(animated_set, tmp_path_factory):
    """A temporal linear baseline trained on subjects S01-S03 (S04 held out), and on all four subjects a
    graph run, an image run under its folds, and their fusion."""
    frames, _, landmarks = animated_set
    root = tmp_path_factory.mktemp("predict_runs")
    labels = pd.read_csv(frames / "labels.csv")
    held_in = root / "labels_s123.csv"
    labels[labels["subject"] != "S04"].to_csv(held_in, index=False)
    run_baseline(landmarks, root / "baseline", labels=held_in, features="sequence", folds=3, ignore_unlabelled=True)
    train_graph(landmarks, root / "graph", frames / "labels.csv", model="stgcn", folds=4, epochs=3)
    crop_faces(frames, landmarks, root / "crops", geometry=CropGeometry(64), progress=False)
    train_image(root / "crops", root / "image", frames / "labels.csv", folds_file=root / "graph" / "folds.csv",
                model="convnext-lstm", pretrained="none", size=64, length=12, epochs=5, progress=False)
    fuse_runs([root / "graph", root / "image"], root / "fused", rule="stacking")
    return root


def test_windows_cover_the_clip_and_end_at_its_end():
    assert windows_of(12, 12, 6) == [(0, 12)]
    assert windows_of(8, 12, 6) == [(0, 8)]
    assert windows_of(30, 12, 6) == [(0, 12), (6, 18), (12, 24), (18, 30)]
    assert windows_of(31, 12, 6)[-1] == (19, 31)


def test_a_long_video_stitched_from_known_clips_is_scored_where_each_class_was_put(animated_set, runs, tmp_path):
    frames, _, _ = animated_set
    long = tmp_path / "recording" / "session1"
    long.mkdir(parents=True)
    parts = ["S04/neutral/clip01", "S04/tonic/clip01", "S04/neutral/clip02"]
    for index, clip in enumerate(parts):  # 3 x 12 frames of a subject the run never saw
        for frame in range(1, 13):
            shutil.copy(frames / clip / f"frame_{frame}.png", long / f"frame_{index * 12 + frame}.png")
    clips = predict_run(runs / "baseline", tmp_path / "recording", tmp_path / "out", stride=6, workers=1,
                        progress=False)
    windows = pd.read_csv(tmp_path / "out" / "windows.csv")
    assert list(windows["start_frame"]) == [1, 7, 13, 19, 25] and list(windows["end_frame"]) == [12, 18, 24, 30, 36]
    assert (windows["scored"] == 1).all() and np.allclose(windows[P].sum(axis=1), 1, atol=1e-5)
    by_start = windows.set_index("start_frame")["label"]
    assert (by_start[1], by_start[13], by_start[25]) == ("neutral", "tonic", "neutral")
    assert windows.set_index("start_frame").loc[13, "p_tonic"] > 0.5
    assert clips.iloc[0]["clip"] == "session1" and clips.iloc[0]["windows"] == 5
    assert (tmp_path / "out" / "timelines" / "session1.png").stat().st_size > 5000


def test_a_clip_without_a_face_gets_a_row_saying_so_and_no_probabilities(animated_set, faces_dir, runs, tmp_path):
    frames, _, _ = animated_set
    data = tmp_path / "data"
    shutil.copytree(frames / "S04" / "phasic" / "clip01", data / "face")
    (data / "dogs").mkdir(parents=True)
    dogs = cv2.resize(cv2.imread(str(faces_dir / "dogs.jpg")), (640, 480))
    for frame in range(1, 13):
        cv2.imwrite(str(data / "dogs" / f"frame_{frame}.png"), dogs)
    (data / "broken.mp4").write_bytes(b"not a video")
    clips = predict_run(runs / "baseline", data, tmp_path / "out", workers=1, progress=False).set_index("clip")
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv", keep_default_na=False).set_index("clip")
    assert manifest.loc["dogs", "status"] == "no_face" and "no frame with a face" in manifest.loc["dogs", "error"]
    assert clips.loc["dogs", "scored_windows"] == 0 and clips.loc["dogs", P].isna().all()
    assert clips.loc["dogs", "status"] == "no_face"
    assert manifest.loc["broken", "status"] == "failed" and "broken" not in clips.index
    assert manifest.loc["face", "status"] == "ok" and clips.loc["face", "scored_windows"] == 1


@pytest.mark.parametrize("kind", ["graph", "image", "fused"])
def test_the_runs_own_test_clips_get_their_out_of_fold_probabilities_back(animated_set, runs, kind, tmp_path):
    frames, _, landmarks = animated_set
    predictions = pd.read_csv(runs / kind / "predictions.csv").set_index("clip")
    tested = list(predictions.index[predictions["fold"] == 1])
    data = tmp_path / "data"
    for clip in tested:
        if kind == "graph":
            (data / clip).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(landmarks / f"{clip}.csv", data / f"{clip}.csv")  # landmark CSVs as input
        else:
            shutil.copytree(frames / clip, data / clip)  # frames: extracted and cropped again
    clips = predict_run(runs / kind, data, tmp_path / "out", fold=1, workers=1, progress=False).set_index("clip")
    assert sorted(clips.index) == sorted(tested)
    assert np.allclose(clips.loc[tested, P].to_numpy(float), predictions.loc[tested, P].to_numpy(float), atol=1e-4)


def test_bad_runs_and_inputs_give_clear_errors(animated_set, runs, tmp_path):
    frames, _, landmarks = animated_set
    with pytest.raises(RunError, match="holds no finished run"):
        predict_run(tmp_path, landmarks, tmp_path / "out")
    with pytest.raises(RunError, match="has no fold 9"):
        predict_run(runs / "graph", landmarks, tmp_path / "out", fold=9)
    broken = tmp_path / "broken_run"
    shutil.copytree(runs / "graph", broken)
    (broken / "fold_models" / "fold2.pt").unlink()
    with pytest.raises(RunError, match="fold file .*fold2.pt does not exist"):
        predict_run(broken, landmarks, tmp_path / "out")
    older = tmp_path / "older_run"
    shutil.copytree(runs / "graph", older)
    torch.save({"weights": torch.zeros(1)}, older / "fold_models" / "fold0.pt")
    with pytest.raises(ValueError, match="older version of facegraph"):
        predict_run(older, landmarks, tmp_path / "out")
    command = [sys.executable, "-m", "experiments.predict", str(runs / "image"), str(landmarks), "--out",
               str(tmp_path / "o")]
    refused = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "image run: give the videos or frame folders" in refused.stderr
    shown = subprocess.run([sys.executable, "-m", "experiments.predict", "--help"], capture_output=True, text=True,
                           cwd=REPO)
    assert shown.returncode == 0 and "--stride" in shown.stdout and "never scored on guessed" in shown.stdout


def test_classes_can_be_grouped_by_a_label_map(animated_set, runs, tmp_path):
    frames, _, landmarks = animated_set
    with pytest.raises(Exception, match="does not map the run's class"):
        predict_run(runs / "graph", landmarks, tmp_path / "out", group="emotion-valence")
    labels = pd.read_csv(frames / "labels.csv")
    labels["label"] = labels["label"].map({"neutral": "neutral", "phasic": "surprise", "tonic": "sad"})
    labels.to_csv(tmp_path / "emotions.csv", index=False)
    run_baseline(landmarks, tmp_path / "emotions", labels=tmp_path / "emotions.csv", features="sequence", folds=2)
    data = tmp_path / "data" / "S01" / "tonic"
    data.mkdir(parents=True)
    shutil.copy(landmarks / "S01" / "tonic" / "clip01.csv", data / "clip01.csv")
    clips = predict_run(tmp_path / "emotions", tmp_path / "data", tmp_path / "out", group="emotion-valence",
                        progress=False)
    row = clips.iloc[0]
    assert row["group_positive"] == pytest.approx(row["p_surprise"], abs=1e-5)
    assert row["group_negative"] == pytest.approx(row["p_sad"], abs=1e-5)
    windows = pd.read_csv(tmp_path / "out" / "windows.csv")
    assert windows["group_label"].iloc[0] in ("positive", "negative", "neutral")
    assert windows.loc[0, ["group_positive", "group_negative", "group_neutral"]].sum() == pytest.approx(1, abs=1e-4)
