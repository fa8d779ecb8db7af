"""Landmark data sets: label sources and their errors, gaps, lengths, normalisation, augmentation."""

import numpy as np
import pandas as pd
import pytest

import graphs
from landmarks.dataset.assemble import DatasetError, load_dataset
from landmarks.dataset.augment import Augmenter, mirror, speed_change, temporal_crop
from landmarks.dataset.normalize import (
    ShapeNormalizer,
    Standardizer,
    add_velocity,
    fill_gaps,
    pad_or_crop,
    procrustes_align,
    resample_time,
)
from landmarks.layout import eye_distance, eye_midpoint
from landmarks.schema import write_table_atomic
from landmarks.synthetic import clip_table, synthetic_sequences, write_synthetic_dataset


def face(angle_deg=0.0, scale=100.0, shift=(500.0, 300.0)):
    angle = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return graphs.MEAN_SHAPE @ rotation.T * scale + np.asarray(shift)


def write_pemf_like(root, frames=20, missing=None):
    """Clips <subject>/<stimulus>/<clip>.csv of a static face; ``missing`` maps clip -> unsuccessful frames."""
    missing = missing or {}
    clips = []
    for subject in ("S01", "S02"):
        for stimulus in ("Posed Pain", "Neutral"):
            clip = f"{subject}/{stimulus}/clip01"
            success = np.ones(frames, dtype=bool)
            success[list(missing.get(clip, []))] = False
            points = np.repeat(face()[None], frames, axis=0)
            write_table_atomic(clip_table(points, success), root / f"{clip}.csv")
            clips.append(clip)
    return clips


def test_labels_file_with_and_without_subject_column(tmp_path):
    clips = write_pemf_like(tmp_path / "lm")
    labels = pd.DataFrame({"clip": clips, "label": ["pain", "calm"] * 2})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    data = load_dataset(tmp_path / "lm", tmp_path / "labels.csv")
    assert data.X.shape == (4, 20, 68, 2) and data.classes == ["calm", "pain"]
    assert data.subjects.tolist() == ["S01", "S01", "S02", "S02"]
    assert [data.classes[i] for i in data.y] == ["calm", "pain", "calm", "pain"]  # sorted by clip: Neutral first
    labels["subject"] = ["A", "A", "B", "B"]
    labels.to_csv(tmp_path / "labels2.csv", index=False)
    assert load_dataset(tmp_path / "lm", tmp_path / "labels2.csv").subjects.tolist() == ["A", "A", "B", "B"]


def test_labels_from_path_with_pemf_preset_and_explicit_map(tmp_path):
    write_pemf_like(tmp_path / "lm")
    binary = load_dataset(tmp_path / "lm", label_map="pemf-binary")
    assert binary.classes == ["no_pain", "pain"] and binary.class_counts() == {"no_pain": 2, "pain": 2}
    stimulus = load_dataset(tmp_path / "lm", label_map="stimulus")
    assert stimulus.classes == ["Neutral", "Posed Pain"]
    explicit = load_dataset(tmp_path / "lm", label_map={"posed_pain": "p", "neutral": "n"})
    assert explicit.class_counts() == {"p": 2, "n": 2}
    with pytest.raises(DatasetError, match="Posed Pain"):
        load_dataset(tmp_path / "lm", label_map={"neutral": "n"})
    with pytest.raises(ValueError, match="unknown label preset 'pemf'"):
        load_dataset(tmp_path / "lm", label_map="pemf")


def test_every_mismatch_is_a_clear_error(tmp_path):
    clips = write_pemf_like(tmp_path / "lm")
    extra = pd.DataFrame({"clip": clips + ["S09/Neutral/clip01"], "label": ["a"] * 5})
    extra.to_csv(tmp_path / "extra.csv", index=False)
    with pytest.raises(DatasetError, match="have no CSV.*S09/Neutral/clip01"):
        load_dataset(tmp_path / "lm", tmp_path / "extra.csv")
    pd.DataFrame({"clip": clips[:3], "label": ["a", "b", "a"]}).to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DatasetError, match="have no label: S02/Neutral/clip01.*ignore_unlabelled"):
        load_dataset(tmp_path / "lm", tmp_path / "short.csv")
    with pytest.warns(UserWarning, match="ignoring 1 unlabelled"):
        assert len(load_dataset(tmp_path / "lm", tmp_path / "short.csv", ignore_unlabelled=True)) == 3
    pd.DataFrame({"clip": clips, "label": ["a", "b", "c", "a"]}).to_csv(tmp_path / "lab.csv", index=False)
    with pytest.raises(DatasetError, match="not among the classes a, b"):
        load_dataset(tmp_path / "lm", tmp_path / "lab.csv", classes=["a", "b"])
    pd.DataFrame({"frame": [1], "x_0": [1.0]}).to_csv(tmp_path / "lm" / "S01" / "Neutral" / "clip01.csv", index=False)
    with pytest.raises(DatasetError, match="clip01.csv lacks landmark columns"):
        load_dataset(tmp_path / "lm", tmp_path / "lab.csv")


def test_interpolation_fills_exactly_the_missing_frames():
    t = np.arange(6, dtype=float)
    points = (t[:, None, None] * np.ones((6, 68, 2))).copy()
    valid = np.array([False, True, True, False, False, True])
    points[~valid] = np.nan
    filled = fill_gaps(points, valid)
    assert np.allclose(filled[:, 0, 0], [1, 1, 2, 3, 4, 5])  # nearest at the start, linear inside
    assert np.array_equal(filled[valid], points[valid])


def test_clip_with_too_few_valid_frames_is_excluded_by_name(tmp_path):
    write_pemf_like(tmp_path / "lm", missing={"S02/Neutral/clip01": range(15), "S01/Neutral/clip01": [3, 4]})
    with pytest.warns(UserWarning, match="S02/Neutral/clip01"):
        data = load_dataset(tmp_path / "lm", label_map="pemf-binary", min_valid=0.5)
    assert "S02/Neutral/clip01" in data.excluded and "S02/Neutral/clip01" not in data.clips
    index = data.clips.index("S01/Neutral/clip01")
    assert np.isclose(data.filled_fraction[index], 0.1)
    assert data.mask[index].tolist() == [i not in (3, 4) for i in range(20)]


def test_lengths_resample_or_pad(tmp_path):
    sequence = np.linspace(0, 1, 10)[:, None, None] * np.ones((10, 68, 2))
    resampled = resample_time(sequence, 19)
    assert resampled.shape == (19, 68, 2) and np.allclose(resampled[:, 0, 0], np.linspace(0, 1, 19))
    padded, mask = pad_or_crop(sequence, 12)
    assert padded.shape == (12, 68, 2) and mask.tolist() == [True] * 10 + [False] * 2
    cropped, _ = pad_or_crop(sequence, 4)
    assert np.allclose(cropped[:, 0, 0], sequence[3:7, 0, 0])


def test_normalisation_sets_eye_distance_and_origin_and_removes_roll():
    shapes = np.stack([face(angle_deg=0, scale=80, shift=(10, 20)), face(angle_deg=12, scale=150, shift=(400, 90))])
    normalised = ShapeNormalizer(centre="eyes", scale=True, level=True)(shapes)
    assert np.allclose(eye_distance(normalised), 1.0) and np.allclose(eye_midpoint(normalised), 0.0)
    assert np.allclose(normalised[0], normalised[1])  # roll, scale and shift all gone
    delta = normalised[:, 45] - normalised[:, 36]
    assert np.allclose(delta[:, 1], 0.0)
    unlevelled = ShapeNormalizer(level=False)(shapes)
    assert not np.allclose(unlevelled[0], unlevelled[1])
    nose = ShapeNormalizer(centre="nose", level=False, scale=False)(shapes)
    assert np.allclose(nose[:, 30], 0.0)


def test_procrustes_of_a_moved_copy_returns_the_original():
    original = graphs.MEAN_SHAPE + np.random.default_rng(0).normal(0, 0.02, (68, 2))
    angle = np.deg2rad(-20)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = original @ rotation.T * 3.0 + np.array([7.0, -4.0])
    assert np.allclose(procrustes_align(moved, original), original, atol=1e-9)


def test_velocity_channels_and_standardizer_fit_on_training_only():
    sequence = np.cumsum(np.ones((5, 68, 2)), axis=0)
    with_velocity = add_velocity(sequence)
    assert with_velocity.shape == (5, 68, 4) and np.allclose(with_velocity[1:, :, 2:], 1.0)
    assert np.allclose(with_velocity[0, :, 2:], 0.0)
    train, test = np.random.default_rng(1).normal(3, 2, (2, 10, 5, 68, 2))
    scaler = Standardizer()
    with pytest.raises(RuntimeError, match="before fit"):
        scaler.transform(test)
    scaled = scaler.fit_transform(train)
    assert np.allclose(scaled.mean(axis=(0, 1, 2)), 0, atol=1e-9) and np.allclose(scaled.std(axis=(0, 1, 2)), 1)
    assert not np.allclose(scaler.transform(test).mean(axis=(0, 1, 2)), 0, atol=1e-3)  # test stats not used


def test_mirror_twice_is_identity_and_swaps_eye_slots():
    sequence = np.stack([face(angle_deg=5), face(angle_deg=-3)])
    once = mirror(sequence)
    assert np.allclose(mirror(once), sequence)
    axis = eye_midpoint(sequence)[..., 0].mean()
    right_eye = slice(36, 42)
    # the right eye's slots now hold the reflected left eye
    left_eye_reflected = 2 * axis - sequence[:, [45, 44, 43, 42, 47, 46], 0]
    assert np.allclose(once[:, right_eye, 0], left_eye_reflected)
    assert (once[:, 36, 0] < once[:, 45, 0]).all()  # still the image-left corner in slot 36


def test_augmenter_is_reproducible_and_keeps_shapes():
    sequence = np.repeat(face()[None], 20, axis=0)
    a = Augmenter()(sequence, np.random.default_rng(3))
    b = Augmenter()(sequence, np.random.default_rng(3))
    assert a.shape == sequence.shape and np.array_equal(a, b)
    assert not np.allclose(a, sequence)
    ramp = np.linspace(0, 1, 10)[:, None, None] * np.ones((10, 68, 2))
    assert np.allclose(speed_change(ramp, 2.0)[:5, 0, 0], np.linspace(0, 8 / 9, 5))
    cropped = temporal_crop(ramp, 0.5, np.random.default_rng(0))
    assert cropped.shape == ramp.shape and np.ptp(cropped[:, 0, 0]) < 0.6


def test_synthetic_generator_writes_an_imbalanced_loadable_data_set(tmp_path):
    labels = write_synthetic_dataset(
        tmp_path / "syn", subjects=3, clips_per_class={"neutral": 4, "phasic": 1, "tonic": 2}, seed=5
    )
    assert len(labels) == 21 and labels["label"].value_counts().to_dict() == {"neutral": 12, "tonic": 6, "phasic": 3}
    data = load_dataset(tmp_path / "syn", tmp_path / "syn" / "labels.csv", normalizer=ShapeNormalizer(), velocity=True)
    assert data.X.shape == (21, 20, 68, 4) and sorted(set(data.subjects)) == ["S01", "S02", "S03"]
    first, second = (synthetic_sequences(subjects=2, seed=seed) for seed in (5, 5))
    assert np.array_equal(np.stack(first["points"]), np.stack(second["points"]))  # same seed, same data
    assert not np.array_equal(np.stack(first["points"]), np.stack(synthetic_sequences(subjects=2, seed=6)["points"]))


def test_synthetic_pain_moves_the_brows_down_in_pain_classes_only():
    table = synthetic_sequences(subjects=4, seed=2)
    drop = {}
    for label in ("neutral", "phasic", "tonic"):
        clips = table[table["label"] == label]
        # brow-to-eye vertical distance, change from the first frame to the most expressive frame
        gaps = [np.min(p[:, 39, 1] - p[:, 21, 1]) - (p[0, 39, 1] - p[0, 21, 1]) for p in clips["points"]]
        drop[label] = float(np.mean(gaps))
    assert drop["phasic"] < -0.03 and drop["tonic"] < -0.03 and abs(drop["neutral"]) < 0.03
