"""Subject-grouped cross-validation of a graph model, with every statistic learned inside the training
part of each fold: validation split, standardisation, oversampling, class weights.

``cross_validate`` runs the folds and writes the run folder: config.json, folds.csv, predictions.csv,
metrics.json, history.json, confusion.png, curves.png and the selected weights of every fold.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

import models
from landmarks import Augmenter, LandmarkDataset, Standardizer
from landmarks.normalize import add_velocity

from .losses import class_weights, make_loss
from .metrics import classification_metrics, summarise
from .plots import plot_confusion, plot_curves
from .protocol import check_no_leakage, grouped_folds, validation_split, write_folds
from .resampling import oversample
from .settings import GraphTrainingSettings
from .training import FitSettings, fit, predict_proba, to_model_layout

VERSIONED = ("facegraph", "torch", "torch_geometric", "numpy", "scikit-learn", "imbalanced-learn", "pandas")


def package_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def build_model(settings: GraphTrainingSettings, num_classes: int, in_channels: int) -> torch.nn.Module:
    options = {"graph": settings.graph, "in_channels": in_channels}
    if settings.model in ("stgcn", "stgcn-lstm", "stgcn-yan2018"):
        options["implementation"] = settings.implementation
    if settings.head is not None:
        if settings.model != "stgcn-lstm":
            raise ValueError(f"--head applies to stgcn-lstm only, not to {settings.model}")
        options["head"] = settings.head
    return models.create(settings.model, num_classes, **options)


def _augmentation(settings: GraphTrainingSettings, channels: int):
    if not settings.augment:
        return None
    augmenter = Augmenter()

    def transform(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        moved = augmenter(clip[..., :2], rng)
        return (add_velocity(moved) if channels == 4 else moved).astype(np.float32)

    return transform


def _fold(
    dataset: LandmarkDataset,
    train: np.ndarray,
    test: np.ndarray,
    fold: int,
    settings: GraphTrainingSettings,
    leakage_check: bool = True,
) -> tuple[np.ndarray, dict, dict, torch.nn.Module]:
    """Train on ``train`` (fit + validation, split by subject) and return test probabilities, fold facts,
    the loss history and the selected model."""
    seed = settings.seed * 1000 + fold
    y, subjects, X = dataset.y, dataset.subjects, dataset.X
    fit_rel, val_rel = validation_split(y[train], subjects[train], settings.validation_share, seed, leakage_check)
    fit_idx, val_idx = train[fit_rel], train[val_rel]
    if leakage_check:
        check_no_leakage(subjects, fit_idx, val_idx, f"fold {fold} validation split")
        check_no_leakage(subjects, np.concatenate([fit_idx, val_idx]), test, f"fold {fold}")

    scaler = Standardizer().fit(X[fit_idx])  # statistics of real training clips only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_fit, y_fit, synthetic = oversample(X[fit_idx], y[fit_idx], settings.resample, seed)
    for warning in caught:
        tqdm.write(f"fold {fold}: {warning.message}", file=sys.stderr)
    weights = class_weights(y_fit, len(dataset.classes), settings.class_weights)
    loss_fn = make_loss(settings.loss, weights, settings.focal_alpha, settings.focal_gamma)

    torch.manual_seed(seed)
    model = build_model(settings, len(dataset.classes), X.shape[-1])
    fit_settings = FitSettings(
        settings.epochs, settings.batch_size, settings.lr, settings.decay_rate, settings.decay_steps, settings.patience
    )
    history = fit(
        model, (X_fit, y_fit), (X[val_idx], y[val_idx]), loss_fn, fit_settings, seed,
        transform=_augmentation(settings, X.shape[-1]), prepare=scaler.transform, description=f"fold {fold}",
    )
    probabilities = predict_proba(model, to_model_layout(scaler.transform(X[test])))
    facts = {
        "fold": fold, "fit_clips": int(len(fit_idx)), "synthetic_clips": int(synthetic.sum()),
        "validation_clips": int(len(val_idx)), "test_clips": int(len(test)),
        "validation_subjects": sorted(map(str, np.unique(subjects[val_idx]))),
        "test_subjects": sorted(map(str, np.unique(subjects[test]))), "best_epoch": history.best_epoch + 1,
        "epochs_run": len(history.train_loss),
        "class_weights": None if weights is None else [round(float(w), 6) for w in weights],
    }
    curves = {"train_loss": history.train_loss, "val_loss": history.val_loss,
              "val_accuracy": history.val_accuracy, "best_epoch": history.best_epoch}
    return probabilities, facts, curves, model


def cross_validate(
    dataset: LandmarkDataset,
    settings: GraphTrainingSettings,
    out: str | os.PathLike,
    folds: np.ndarray | None = None,
    config: dict | None = None,
    leakage_check: bool = True,
) -> dict:
    """Run subject-grouped K-fold cross-validation and write the run folder ``out``; returns metrics.json's
    content. ``folds`` reuses a split (one fold number per clip); by default a stratified, subject-grouped
    split is drawn with the settings' seed. ``leakage_check=False`` (clip-level validation splits, no
    subject checks) exists only to measure how much splits that mix subjects inflate the scores."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if folds is None:
        folds = grouped_folds(dataset.y, dataset.subjects, settings.folds, settings.seed)
    folds = np.asarray(folds, dtype=int)
    if len(folds) != len(dataset):
        raise ValueError(f"{len(folds)} fold numbers for {len(dataset)} clips")
    fold_ids = [int(f) for f in np.unique(folds)]
    write_folds(out / "folds.csv", dataset.clips, dataset.subjects, folds)
    run_config = {
        "settings": settings.as_dict(), "classes": dataset.classes, "clips": len(dataset),
        "subjects": int(len(np.unique(dataset.subjects))), "class_counts": dataset.class_counts(),
        "excluded": dataset.excluded, "versions": package_versions(), "command": sys.argv, **(config or {}),
    }
    (out / "config.json").write_text(json.dumps(run_config, indent=2, default=str))
    (out / "fold_models").mkdir(exist_ok=True)

    probabilities = np.zeros((len(dataset), len(dataset.classes)))
    per_fold, histories = [], []
    for fold in tqdm(fold_ids, desc="folds", unit="fold"):
        test = np.nonzero(folds == fold)[0]
        train = np.nonzero(folds != fold)[0]
        if leakage_check:
            check_no_leakage(dataset.subjects, train, test, f"fold {fold}")
        elif set(dataset.subjects[train]) & set(dataset.subjects[test]):
            tqdm.write(f"fold {fold}: subjects shared between training and test (leakage check disabled)",
                       file=sys.stderr)
        fold_probabilities, facts, curves, model = _fold(dataset, train, test, fold, settings, leakage_check)
        probabilities[test] = fold_probabilities
        scores = classification_metrics(dataset.y[test], fold_probabilities.argmax(1), dataset.classes)
        per_fold.append({**facts, **scores})
        histories.append(curves)
        torch.save(model.state_dict(), out / "fold_models" / f"fold{fold}.pt")
        tqdm.write(
            f"fold {fold}: accuracy {scores['accuracy']:.3f}  F1 (weighted) {scores['f1_weighted']:.3f}  "
            f"test {facts['test_clips']} clips of {len(facts['test_subjects'])} subjects",
            file=sys.stderr,
        )

    predicted = probabilities.argmax(1)
    table = pd.DataFrame({
        "clip": dataset.clips, "subject": dataset.subjects, "fold": folds,
        "y_true": [dataset.classes[i] for i in dataset.y], "y_pred": [dataset.classes[i] for i in predicted],
    })
    for index, name in enumerate(dataset.classes):
        table[f"p_{name}"] = np.round(probabilities[:, index], 6)
    table.to_csv(out / "predictions.csv", index=False)
    metrics = {
        "classes": dataset.classes,
        "summary": summarise(per_fold),
        "pooled": classification_metrics(dataset.y, predicted, dataset.classes),
        "folds": per_fold,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "history.json").write_text(json.dumps(histories))
    plot_confusion(np.array(metrics["pooled"]["confusion"]), dataset.classes, out / "confusion.png",
                   f"{settings.model}: out-of-fold predictions")
    plot_curves(histories, out / "curves.png")
    return metrics


def results_table(metrics: dict) -> str:
    """Per-fold and mean ± std scores as an aligned text table."""
    lines = [f"{'fold':>6}{'test clips':>12}{'accuracy':>10}{'F1 (w)':>9}{'F1 (macro)':>12}{'best epoch':>12}"]
    for fold in metrics["folds"]:
        lines.append(
            f"{fold['fold']:>6}{fold['test_clips']:>12}{fold['accuracy']:>10.3f}{fold['f1_weighted']:>9.3f}"
            f"{fold['f1_macro']:>12.3f}{fold['best_epoch']:>12}"
        )
    summary = metrics["summary"]
    lines.append(
        f"{'mean':>6}{'':>12}{summary['accuracy']['mean']:>10.3f}{summary['f1_weighted']['mean']:>9.3f}"
        f"{summary['f1_macro']['mean']:>12.3f}"
    )
    lines.append(
        f"{'std':>6}{'':>12}{summary['accuracy']['std']:>10.3f}{summary['f1_weighted']['std']:>9.3f}"
        f"{summary['f1_macro']['std']:>12.3f}"
    )
    return "\n".join(lines)
