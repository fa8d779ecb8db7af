"""The pieces of the evaluation protocol: grouped folds, leakage checks, folds files, oversampling,
class weights, focal loss and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from experiments.graph_branch import settings_for
from experiments.losses import FocalLoss, class_weights, make_loss
from experiments.metrics import classification_metrics, summarise
from experiments.protocol import (
    LeakageError,
    check_no_leakage,
    grouped_folds,
    read_folds,
    validation_split,
    write_folds,
)
from experiments.resampling import oversample
from experiments.settings import SettingsError
from experiments.train_graph import train_graph
from models import BiLSTMHead


def subjects_and_labels(subjects: int = 10, per_subject: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    names = np.repeat([f"S{i:02d}" for i in range(subjects)], per_subject)
    labels = rng.integers(0, 3, size=len(names))
    return names, labels


def test_grouped_folds_keep_every_subject_in_one_fold_and_cover_every_clip():
    subjects, y = subjects_and_labels()
    folds = grouped_folds(y, subjects, 5, seed=0)
    assert set(folds) == set(range(5))
    for subject in np.unique(subjects):
        assert len(set(folds[subjects == subject])) == 1
    for fold in range(5):
        check_no_leakage(subjects, np.nonzero(folds != fold)[0], np.nonzero(folds == fold)[0], "test")
    assert not np.array_equal(folds, grouped_folds(y, subjects, 5, seed=1))
    assert np.array_equal(folds, grouped_folds(y, subjects, 5, seed=0))


def test_too_few_subjects_for_the_folds_says_how_many():
    subjects, y = subjects_and_labels(subjects=3)
    with pytest.raises(ValueError, match="at least 5 subjects, the data has 3: use --folds 3"):
        grouped_folds(y, subjects, 5, seed=0)


def test_leakage_check_names_the_shared_subject():
    subjects = np.array(["A", "A", "B", "C"])
    with pytest.raises(LeakageError, match="fold 2: subject\\(s\\) A appear"):
        check_no_leakage(subjects, np.array([0, 2]), np.array([1, 3]), "fold 2")


def test_validation_split_is_grouped_and_stratified():
    subjects, y = subjects_and_labels(subjects=8)
    fit, validation = validation_split(y, subjects, 0.25, seed=0)
    assert len(fit) + len(validation) == len(y)
    assert not set(subjects[fit]) & set(subjects[validation])
    assert 1 <= len(set(subjects[validation])) <= 3
    with pytest.raises(ValueError, match="only 1 subject"):
        validation_split(y[:6], subjects[:6], 0.2, seed=0)
    fit, validation = validation_split(y, subjects, 0.0, seed=0)  # no validation subjects: every clip fits
    assert fit.tolist() == list(range(len(y))) and len(validation) == 0


def test_folds_file_round_trip_and_mismatches(tmp_path):
    subjects, y = subjects_and_labels(subjects=5, per_subject=2)
    clips = [f"{s}/clip{i}" for i, s in enumerate(subjects)]
    folds = grouped_folds(y, subjects, 5, seed=0)
    path = tmp_path / "folds.csv"
    write_folds(path, clips, subjects, folds)
    assert list(pd.read_csv(path).columns) == ["clip", "subject", "fold"]
    assert np.array_equal(read_folds(path, clips, subjects), folds)
    assert np.array_equal(read_folds(path, clips[::-1], subjects[::-1]), folds[::-1])
    with pytest.raises(ValueError, match="no fold for 1 clip.*extra"):
        read_folds(path, [*clips, "extra"], np.append(subjects, "S99"))
    other = subjects.copy()
    other[0] = "S99"
    with pytest.raises(ValueError, match="other subjects"):
        read_folds(path, clips, other)
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_folds(tmp_path / "nowhere.csv", clips, subjects)


def test_smote_adds_only_new_rows_of_the_minority_inside_the_given_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(26, 20, 68, 2)).astype(np.float32)
    y = np.array([0] * 20 + [1] * 6)
    X_out, y_out, synthetic = oversample(X, y, "smote", seed=0)
    assert X_out.shape[1:] == X.shape[1:] and X_out.dtype == X.dtype
    assert np.array_equal(X_out[:26], X) and np.array_equal(y_out[:26], y)
    assert synthetic.sum() == 14 and not synthetic[:26].any()
    assert np.bincount(y_out).tolist() == [20, 20]
    assert (y_out[synthetic] == 1).all()
    # every synthetic clip lies between minority clips: inside their bounding box
    minority = X[y == 1].reshape(6, -1)
    made = X_out[synthetic].reshape(14, -1)
    assert (made >= minority.min(0) - 1e-5).all() and (made <= minority.max(0) + 1e-5).all()


def test_smote_lowers_k_with_a_warning_and_refuses_a_single_clip_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(13, 4))
    with pytest.warns(UserWarning, match="lowered from 5 to 2"):
        _, y_out, _ = oversample(X, np.array([0] * 10 + [1] * 3), "smote", seed=0)
    assert np.bincount(y_out).tolist() == [10, 10]
    with pytest.raises(ValueError, match="only 1.*--resample random"):
        oversample(X[:11], np.array([0] * 10 + [1]), "smote", seed=0)
    with pytest.raises(ValueError, match="class 'pain' has only 1"):
        oversample(X[:11], np.array([0] * 10 + [1]), "smote", seed=0, class_names=["no_pain", "pain"])


def test_random_oversampling_and_none():
    X = np.arange(8.0).reshape(8, 1)
    y = np.array([0] * 6 + [1] * 2)
    X_out, y_out, synthetic = oversample(X, y, "random", seed=0)
    assert np.bincount(y_out).tolist() == [6, 6]
    assert set(X_out[synthetic].ravel()) <= {6.0, 7.0}
    X_none, y_none, synthetic_none = oversample(X, y, "none", seed=0)
    assert np.array_equal(X_none, X) and not synthetic_none.any()
    with pytest.raises(ValueError, match="unknown resampling 'adasyn'"):
        oversample(X, y, "adasyn", seed=0)


def test_class_weights_simple_and_conservative():
    y = np.array([0] * 40 + [1] * 10 + [2] * 5)
    assert class_weights(y, 3, "none") is None
    assert class_weights(y, 3, "simple").tolist() == [1.0, 4.0, 8.0]
    assert class_weights(y, 3, "conservative").tolist() == [1.0, 3.0, 3.0]
    with pytest.raises(ValueError, match=r"class\(es\) \[3\]"):
        class_weights(y, 4, "simple")


def test_focal_loss_is_alpha_weighted_cross_entropy_at_gamma_zero_and_spares_easy_clips():
    torch.manual_seed(0)
    logits, target = torch.randn(8, 3), torch.randint(0, 3, (8,))
    weight = torch.tensor([1.0, 2.0, 3.0])
    plain = torch.nn.functional.cross_entropy(logits, target, weight=weight, reduction="none")
    focal = FocalLoss(alpha=0.5, gamma=0.0, weight=weight)(logits, target)
    assert torch.allclose(focal, 0.5 * plain.mean())
    easy = torch.tensor([[6.0, 0.0, 0.0]])
    hard = torch.tensor([[0.5, 0.0, 0.0]])
    label = torch.tensor([0])
    loss = make_loss("focal", None)
    assert loss.alpha == 0.25 and loss.gamma == 2.0
    ratio_focal = loss(easy, label) / loss(hard, label)
    ratio_ce = torch.nn.functional.cross_entropy(easy, label) / torch.nn.functional.cross_entropy(hard, label)
    assert ratio_focal < ratio_ce / 10
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        make_loss("hinge", None)


def test_metrics_weighted_macro_per_class_and_confusion():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 0])
    scores = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert scores["accuracy"] == pytest.approx(6 / 8)
    assert scores["confusion"] == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert scores["per_class"]["c"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert scores["recall_macro"] == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    assert scores["recall_weighted"] == pytest.approx(scores["accuracy"])
    summary = summarise([scores, {**scores, "accuracy": 0.25}])
    assert summary["accuracy"] == {"mean": pytest.approx(0.5), "std": pytest.approx(0.25)}


def test_presets_build_the_papers_models_and_explicit_options_win():
    ridouan = settings_for("ridouan2025")
    head = ridouan.build_model(num_classes=2).head  # the paper's two stacked LSTM layers, 15 then 20 units
    assert [layer.hidden_size for layer in head.layers] == [15, 20]
    for preset in ("ridouan2025", "agam2026"):  # the papers' stacked head without dropout, not our defaults
        model = settings_for(preset).build_model(num_classes=2)
        assert hasattr(model.head, "layers") and model.backbone.blocks[0].tcn[-1].p == 0.0
    ours = settings_for().build_model(num_classes=2)
    assert isinstance(ours.head, BiLSTMHead) and ours.backbone.blocks[0].tcn[-1].p == 0.25
    # our runs augment their training clips (measured on the dynamics suite); the papers trained without
    assert settings_for().optimiser.augment and not settings_for(augment=False).optimiser.augment
    assert not any(settings_for(preset).optimiser.augment for preset in ("ridouan2025", "agam2026"))
    assert settings_for("ridouan2025", augment=True).optimiser.augment
    assert settings_for("ridouan2025", epochs=20, head_sizes=[8, 8]).optimiser.epochs == 20
    assert [layer.hidden_size for layer in settings_for("ridouan2025", head_sizes=[8, 8]).build_model(2).head.layers] \
        == [8, 8]
    agam = settings_for("agam2026")
    weights = class_weights(np.array([0] * 12 + [1] * 2 + [2] * 6), 3, agam.protocol.class_weights)
    loss = make_loss(agam.protocol.loss, weights, agam.protocol.focal_alpha, agam.protocol.focal_gamma)
    assert isinstance(loss, FocalLoss) and weights.tolist() == [1.0, 3.0, 2.0]  # the rare class's 6 capped at 3
    with pytest.raises(SettingsError, match="unknown preset 'yan2018'; choose one of ridouan2025, agam2026"):
        settings_for("yan2018")


def test_head_sizes_reach_the_chosen_head_and_misuse_is_explained():
    attention = settings_for(head="attention", head_sizes=[24]).build_model(num_classes=3).head
    assert attention.lstm.hidden_size == 24
    # one number is one width, as Python callers and the benchmarks' --set head_sizes=24 write it
    assert settings_for(head_sizes=24).build_model(num_classes=2).head.lstm.hidden_size == 24
    with pytest.raises(SettingsError, match="one LSTM layer"):
        settings_for(head="lstm", head_sizes=(15, 20))
    with pytest.raises(SettingsError, match="head_sizes"):
        settings_for(model="stgcn", head_sizes=(15, 20))
    with pytest.raises(SettingsError, match="positive LSTM widths"):
        settings_for(head_sizes=(15, 0))
    assert settings_for(pooling="flatten").build_model(2).head.lstm.input_size == 16 * 68
    assert settings_for(model="stgcn", time_bins=2).build_model(2).classifier.in_features == 32 * 2  # last block 32


@pytest.mark.parametrize("bad, message", [
    ({"model": "stgcn-xl"}, "model must be one of stgcn, stgcn-yan2018, stgcn-lstm, gru, stgcn-ref"),
    ({"loss": "hinge"}, "loss must be one of ce, focal"),
    ({"resample": "adasyn"}, "resample must be one of smote, random, none"),
    ({"class_weights": "heavy"}, "class_weights must be one of none, simple, conservative"),
    ({"head": "gru"}, "unknown sequence head 'gru'"),
    ({"graph": "complete"}, "unknown graph 'complete'"),
    ({"model": "stgcn", "head": "lstm"}, "unexpected keyword argument 'head'"),
    ({"pooling": "max"}, "pooling must be one of mean, flatten, got 'max'"),
    ({"model": "stgcn", "pooling": "flatten"}, "unexpected keyword argument 'pooling'"),
    ({"model": "stgcn", "time_bins": 0}, "time_bins must be 1"),
    ({"time_bins": 5}, "unexpected keyword argument 'time_bins'"),
    ({"implementation": "sparse", "model": "stgcn"}, "sparse"),
    ({"normalize": "zscore"}, "normalize must be one of eyes, nose, procrustes, none"),
    ({"label_map": "pain"}, "unknown label preset 'pain'"),
    ({"jobs": 0}, "jobs must be positive"),
    ({"weight_decay": -0.1}, "weight_decay must be 0 \\(off\\) or positive, got -0.1"),
    ({"clip_norm": -1.0}, "clip_norm must be 0 \\(off\\) or positive, got -1.0"),
    ({"checkpoints": 0}, "checkpoints must be positive, got 0"),
    ({"folds": 1}, "folds must be at least 2"),
    ({"validation_share": -0.1}, "validation_share must be at least 0 \\(no validation subjects\\) and below 1"),
    ({"validation_share": 0, "tune_trials": 2}, "--tune scores its trials on validation subjects"),
    ({"epoch": 3}, "epoch"),
])
def test_every_setting_is_checked_before_anything_is_read_or_written(bad, message, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SettingsError, match=message):
        train_graph(tmp_path / "no-such-landmarks", out, **bad)
    assert not out.exists()
