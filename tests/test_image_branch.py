"""The image branch on real frames (the animator's clips): models built on timm and torchvision, pretrained
weights that are really loaded or refused, the feature cache, two-stage transfer, clip augmentation, and
train_image on the same engine and folds as the graph branch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import timm
import torch
import torchvision

import models
from experiments.feature_cache import FeatureCache
from experiments.image_augment import ClipAugmentation
from experiments.image_branch import ImageFinetunePipeline, ImageTrainingSettings, image_settings_for
from experiments.image_data import CropClips
from experiments.run_folder import load_fold_model
from experiments.settings import SettingsError
from experiments.train_graph import train_graph
from experiments.train_image import train_image
from landmarks.face_crops import CropGeometry, crop_faces
from models.backbones import WeightsMissing, create_backbone, resolve_weights
from models.heads import LSTMHead

from .conftest import REPO

TINY = {"model": "mobilenetv3-lstm", "variant": "small", "pretrained": "none", "size": 48, "length": 4}


@pytest.fixture(scope="module")
def crops(animated_set, tmp_path_factory):
    frames, _, landmarks = animated_set
    out = tmp_path_factory.mktemp("image") / "crops"
    crop_faces(frames, landmarks, out, geometry=CropGeometry(64), workers=2, progress=False)
    return out, frames / "labels.csv"


@pytest.mark.parametrize(("name", "options"), [
    ("convnext-lstm", {"backbone": "convnext_atto", "head": "bilstm"}),
    ("mobilenetv3-lstm", {"variant": "small", "head": "attention"}),
    ("mobilenetv3-lstm", {"variant": "small", "head": "stacked", "head_sizes": (15, 20)}),
    ("frame-cnn", {"backbone": "resnet18"}),
])
def test_image_models_take_clips_of_frames_and_return_logits(name, options):
    model = models.create(name, 3, pretrained="none", **options)
    assert model(torch.randn(2, 5, 3, 48, 48)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"\(N, T, 3, H, W\)"):
        model(torch.randn(2, 3, 48, 48))


def test_frame_cnn_scores_a_clip_by_the_mean_of_its_frames():
    model = models.create("frame-cnn", 2, backbone="resnet18", pretrained="none").eval()
    clip = torch.randn(1, 4, 3, 48, 48)
    with torch.no_grad():
        per_frame = torch.softmax(model.head.classifier(model.frame_features(clip)), dim=-1)
        assert torch.allclose(torch.softmax(model(clip), dim=1), per_frame.mean(dim=1), atol=1e-5)


def test_missing_imagenet_weights_stop_the_run_and_say_where_to_put_them(crops, tmp_path):
    with pytest.raises(WeightsMissing, match="not on this machine") as caught:
        resolve_weights("convnext_atto", "imagenet")
    assert "--weights PATH" in str(caught.value) and "--pretrained none" in str(caught.value)
    assert "convnext_atto" in str(caught.value) and "hf download timm/convnext_atto" in str(caught.value)
    folder, labels = crops
    run = subprocess.run([sys.executable, "-m", "experiments.train_image", "--crops", str(folder), "--labels",
                          str(labels), "--out", str(tmp_path / "run"), "--model", "convnext-lstm"],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1 and "ImageNet weights of convnext_atto are not on this machine" in run.stderr
    assert not (tmp_path / "run").exists(), "nothing is written before the weights are found"
    with pytest.raises(WeightsMissing, match="does not exist"):
        resolve_weights("convnext_atto", weights=tmp_path / "nowhere.pth")


def test_a_weights_file_is_loaded_for_real_and_recorded(tmp_path):
    torch.manual_seed(1)
    trained = timm.create_model("mobilenetv3_small_100", num_classes=7)  # another classifier size: dropped
    torch.save(trained.state_dict(), tmp_path / "weights.pth")
    backbone, source = create_backbone("mobilenetv3_small_100", weights=tmp_path / "weights.pth")
    assert source.kind == "file" and len(source.sha256) == 64
    reference = timm.create_model("mobilenetv3_small_100", num_classes=0)
    reference.load_state_dict({k: v for k, v in trained.state_dict().items() if not k.startswith("classifier")})
    frames = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(backbone.eval()(frames), reference.eval()(frames))
    scratch, _ = create_backbone("mobilenetv3_small_100", pretrained="none")
    with torch.no_grad():
        assert not torch.allclose(scratch.eval()(frames), reference(frames))


def test_the_real_imagenet_mobilenet_v2_file_loads_into_the_torchvision_backbone(mobilenet_v2_weights, crops,
                                                                                  tmp_path):
    backbone, source = create_backbone("torchvision/mobilenet_v2", weights=mobilenet_v2_weights)
    assert source.sha256.startswith("b0353104")  # torchvision names its files by their hash
    reference = torchvision.models.mobilenet_v2()
    reference.load_state_dict(torch.load(mobilenet_v2_weights, weights_only=True))
    image = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        logits = reference.eval().classifier(backbone.eval()(image))
        assert torch.allclose(logits, reference(image), atol=1e-4)
    folder, labels = crops
    train_image(folder, tmp_path / "run", labels, model="frame-cnn", backbone="torchvision/mobilenet_v2",
                weights=str(mobilenet_v2_weights), size=64, length=4, folds=2, epochs=2, progress=False)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["weights"]
    assert recorded == {"kind": "file", "path": str(mobilenet_v2_weights.resolve()), "sha256": source.sha256}


def test_one_clip_gets_one_augmentation_on_every_frame():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    clip = np.repeat(frame[None], 6, axis=0)
    augment = ClipAugmentation()
    moved = augment(clip, np.random.default_rng(3))
    assert all(np.array_equal(moved[0], moved[t]) for t in range(6)), "every frame moved the same way"
    assert not np.array_equal(moved[0], frame)
    assert np.array_equal(moved, augment(clip, np.random.default_rng(3))), "same seed, same augmentation"
    assert not np.array_equal(moved, augment(clip, np.random.default_rng(4)))


def test_the_feature_cache_is_reused_and_recomputed_when_it_must_be(crops, tmp_path):
    folder, labels = tmp_path / "crops", crops[1]
    shutil.copytree(crops[0], folder)  # this test crops a clip again
    settings = image_settings_for(**TINY)
    dataset = settings.data.load(folder, labels)
    cache = FeatureCache(tmp_path / "cache", settings.build_model(2).backbone, "mobilenetv3_small_100", folder)
    first = cache.features(dataset.X, progress=False)
    assert cache.computed == len(dataset) and first.shape[:2] == (len(dataset), 4)
    again = cache.features(dataset.X, progress=False)
    assert (cache.hits, cache.computed) == (len(dataset), 0) and np.array_equal(first, again)
    path = dataset.X.paths[3]
    np.save(path, np.load(path)[::-1].copy())  # the clip is cropped again (here: its frames reversed)
    changed = cache.features(dataset.X, progress=False)
    assert cache.computed == 1 and np.allclose(changed[3], first[3][::-1], atol=1e-4)
    assert np.array_equal(np.delete(changed, 3, 0), np.delete(first, 3, 0))
    cache.features(CropClips(dataset.X.paths[:5], length=4, size=56), progress=False)  # another input size
    assert cache.computed == 5
    torch.manual_seed(9)
    other = FeatureCache(tmp_path / "cache", settings.build_model(2).backbone, "mobilenetv3_small_100", folder)
    other.features(dataset.X, progress=False)  # other weights: computed, never served from the first's
    assert other.computed == len(dataset)
    assert len(list((tmp_path / "cache").iterdir())) == 3


def _backbone_state(model) -> dict:
    return {k: v.clone() for k, v in model.backbone.state_dict().items()}


def test_stage_one_keeps_the_backbone_and_stage_two_changes_it(crops):
    folder, labels = crops
    for epochs, changed in ((2, False), (3, True)):
        settings = image_settings_for(**TINY, finetune=True, frozen_epochs=2, epochs=epochs, resample="none",
                                      batch_size=8)
        dataset = settings.data.load(folder, labels)
        torch.manual_seed(0)
        initial = _backbone_state(settings.build_model(3))
        pipeline = ImageFinetunePipeline(settings).fit(dataset.X[:24], dataset.y[:24], dataset.X[24:],
                                                       dataset.y[24:], classes=dataset.classes, seed=0)
        after = pipeline.model_.backbone.state_dict()
        same = all(torch.equal(initial[k], after[k]) for k in initial)
        assert same != changed, f"{epochs} epochs of which 2 frozen: backbone {'un' if same else ''}changed"
        assert pipeline.facts_["frozen_epochs"] == 2 and pipeline.facts_["finetune_epochs"] == epochs - 2


def test_image_settings_refuse_what_cannot_work():
    with pytest.raises(SettingsError, match="augmentation takes --finetune yes"):
        image_settings_for(**TINY, augment=True)
    with pytest.raises(SettingsError, match="SMOTE interpolates feature sequences"):
        image_settings_for(**TINY, finetune=True)
    with pytest.raises(SettingsError, match="image models"):
        image_settings_for(**{**TINY, "model": "stgcn"})
    with pytest.raises(SettingsError, match="choose their epoch on validation subjects"):
        image_settings_for(**TINY, validation_share=0)
    with pytest.raises(SettingsError, match="image runs keep their best epoch alone .* got checkpoints 3"):
        image_settings_for(**TINY, checkpoints=3)
    with pytest.raises(SettingsError, match="timm has no model"):
        image_settings_for(**{**TINY, "model": "frame-cnn", "variant": None}, backbone="resnet1")


def test_an_image_run_records_every_model_option_and_rebuilds_after_a_default_changes(monkeypatch):
    settings = image_settings_for(**TINY)
    record = json.loads(json.dumps(settings.as_dict()))  # what config.json keeps
    assert record["model"]["options"] == {"variant": "small", "backbone": "mobilenetv3_small_100", "head": "lstm",
                                          "head_sizes": [64], "dropout": 0.25, "projection": 64}
    trained = settings.build_model(3)
    # the "later version": the LSTM head's default width becomes 32
    monkeypatch.setattr(LSTMHead.__init__, "__defaults__", (32, 0.25))
    assert image_settings_for(**TINY).build_model(3).head[1].lstm.hidden_size == 32
    rebuilt = ImageTrainingSettings.from_dict(record).build_model(3)
    assert rebuilt.head[1].lstm.hidden_size == trained.head[1].lstm.hidden_size == 64
    rebuilt.load_state_dict(trained.state_dict())  # strict: raises unless every trained weight fits


def test_an_image_model_learns_the_animators_classes_on_the_graph_runs_folds(animated_set, crops, tmp_path):
    """A small ConvNeXt (random frozen weights, 64 px crops) with an LSTM head, on the folds a graph run
    drew: the identical clip-to-fold map, and out-of-fold accuracy clearly above chance (1/3)."""
    _, _, landmarks = animated_set
    folder, labels = crops
    train_graph(landmarks, tmp_path / "graph", labels, model="gru", folds=4, epochs=2)
    metrics = train_image(folder, tmp_path / "image", labels, folds_file=tmp_path / "graph" / "folds.csv",
                          model="convnext-lstm", pretrained="none", size=64, length=12, epochs=40, progress=False)
    graph_folds = pd.read_csv(tmp_path / "graph" / "folds.csv")
    image_folds = pd.read_csv(tmp_path / "image" / "folds.csv")
    assert graph_folds.equals(image_folds)
    assert metrics["pooled"]["accuracy"] >= 0.6, metrics["pooled"]
    predictions = pd.read_csv(tmp_path / "image" / "predictions.csv")
    assert {"p_neutral", "p_phasic", "p_tonic"} <= set(predictions.columns) and len(predictions) == 36
    validation = pd.read_csv(tmp_path / "image" / "validation_predictions.csv")
    for fold, rows in validation.groupby("fold"):
        tested = set(predictions.loc[predictions["fold"] == fold, "subject"])
        assert not tested & set(rows["subject"]), "validation subjects are never a fold's test subjects"
    fold = load_fold_model(tmp_path / "image", 0)
    features = fold.settings.feature_cache(folder)  # the run's backbone, rebuilt from its settings and seed
    dataset = fold.settings.data.load(folder, labels)
    test = (predictions["fold"] == 0).to_numpy()
    reloaded = fold.predict_proba(features.features(dataset.X[np.flatnonzero(test)], progress=False))
    assert features.computed == 0, "the run's features were cached"
    assert np.allclose(reloaded, predictions.loc[test, ["p_neutral", "p_phasic", "p_tonic"]].to_numpy(), atol=1e-5)
