"""Subject-grouped cross-validation of a graph model, with every statistic learned inside the training
part of each fold: validation split, standardisation, oversampling, class weights.

``cross_validate`` runs the folds and writes the run folder: config.json, folds.csv, predictions.csv,
metrics.json, history.json, confusion.png, curves.png and the selected weights of every fold.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from landmarks import Augmenter, LandmarkDataset, Standardizer
from landmarks.normalize import add_velocity

from .losses import class_weights, make_loss
from .metrics import classification_metrics, summarise
from .plots import plot_confusion, plot_curves
from .protocol import check_no_leakage, grouped_folds, validation_split, write_folds
from .resampling import oversample
from .run_folder import prepare_run_folder
from .settings import GraphTrainingSettings, build_model
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
    weights_path: Path,
    leakage_check: bool = True,
    on_epoch: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, dict, dict]:
    """Train on ``train`` (fit + validation, split by subject), save the selected weights to ``weights_path``
    and return the test probabilities, the fold's facts and its loss history."""
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
        try:
            X_fit, y_fit, synthetic = oversample(X[fit_idx], y[fit_idx], settings.resample, seed,
                                                 class_names=dataset.classes)
        except ValueError as error:
            raise ValueError(f"fold {fold}: {error}") from None
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
        on_epoch=on_epoch, progress_bar=on_epoch is None,
    )
    torch.save(model.state_dict(), weights_path)
    probabilities = predict_proba(model, to_model_layout(scaler.transform(X[test])))
    facts = {
        "fold": fold, "fit_clips": int(len(fit_idx)), "synthetic_clips": int(synthetic.sum()),
        "validation_clips": int(len(val_idx)), "test_clips": int(len(test)),
        "validation_subjects": sorted(map(str, np.unique(subjects[val_idx]))),
        "test_subjects": sorted(map(str, np.unique(subjects[test]))), "best_epoch": history.best_epoch + 1,
        "epochs_run": len(history.train_loss), "optimiser_steps": history.optimiser_steps,
        "class_weights": None if weights is None else [round(float(w), 6) for w in weights],
        # what experiments.run_folder.load_fold_model needs to score new clips as this fold's test clips were
        "standardizer": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
    }
    curves = {"train_loss": history.train_loss, "val_loss": history.val_loss,
              "val_accuracy": history.val_accuracy, "best_epoch": history.best_epoch}
    return probabilities, facts, curves


_worker_progress = None


def _threads_per_fold(settings: GraphTrainingSettings, folds: int) -> int:
    """Threads each fold trains with: all of torch's threads, shared equally between parallel folds."""
    return max(1, torch.get_num_threads() // min(settings.jobs, folds))


def _start_worker(progress, threads: int) -> None:
    """Runs once in each worker process: its share of the threads, and the queue for epoch progress."""
    global _worker_progress
    _worker_progress = progress
    torch.set_num_threads(threads)


def _fold_in_worker(dataset, train, test, fold, settings, weights_path, leakage_check):
    return _fold(dataset, train, test, fold, settings, weights_path, leakage_check,
                 on_epoch=lambda epoch: _worker_progress.put((fold, epoch)))


def _run_folds(
    dataset: LandmarkDataset, splits: dict[int, tuple[np.ndarray, np.ndarray]], settings: GraphTrainingSettings,
    models_dir: Path, leakage_check: bool,
) -> Iterator[tuple[int, tuple[np.ndarray, dict, dict]]]:
    """Train every fold, one after another or ``settings.jobs`` at a time in worker processes, yielding
    (fold, result) as folds finish. Each worker gets an equal share of the threads torch may use here; a
    fold's numbers depend on its thread count, so the same seed and the same ``jobs`` give the same run."""
    workers = min(settings.jobs, len(splits))
    threads = _threads_per_fold(settings, len(splits))
    weights = {fold: models_dir / f"fold{fold}.pt" for fold in splits}
    if workers == 1:
        for fold in tqdm(splits, desc="folds", unit="fold"):
            yield fold, _fold(dataset, *splits[fold], fold, settings, weights[fold], leakage_check)
        return
    context = multiprocessing.get_context("spawn")  # forking a process that already runs torch threads can hang
    progress = context.Queue()
    done_epochs = dict.fromkeys(splits, 0)
    description = f"{len(splits)} folds, {workers} at a time"
    with (
        tqdm(total=len(splits) * settings.epochs, desc=description, unit="epoch") as bar,
        ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(progress, threads))
        as pool,
    ):
        running = {
            pool.submit(_fold_in_worker, dataset, *splits[fold], fold, settings, weights[fold], leakage_check): fold
            for fold in splits
        }
        try:
            while running:
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                while not progress.empty():
                    fold, epoch = progress.get()
                    bar.update(max(0, epoch - done_epochs[fold]))
                    done_epochs[fold] = max(epoch, done_epochs[fold])
                for future in finished:
                    fold = running.pop(future)
                    bar.update(settings.epochs - done_epochs[fold])  # early stopping skips the rest
                    done_epochs[fold] = settings.epochs
                    try:
                        result = future.result()
                    except BrokenProcessPool as error:
                        raise RuntimeError(
                            f"the worker process training fold {fold} died (its message is above). Run with "
                            "jobs=1, or, from a script of your own, call it under if __name__ == '__main__': (the "
                            "workers re-import that script)"
                        ) from error
                    yield fold, result
        except BaseException:
            pool.shutdown(cancel_futures=True)  # do not wait for the other folds to finish training
            raise


def cross_validate(
    dataset: LandmarkDataset,
    settings: GraphTrainingSettings,
    out: str | os.PathLike,
    folds: np.ndarray | None = None,
    config: dict | None = None,
    leakage_check: bool = True,
    overwrite: bool = False,
) -> dict:
    """Run subject-grouped K-fold cross-validation and write the run folder ``out``; returns metrics.json's
    content. ``folds`` reuses a split (one fold number per clip); by default a stratified, subject-grouped
    split is drawn with the settings' seed. A folder that already holds a run is refused unless
    ``overwrite``. ``leakage_check=False`` (clip-level validation splits, no subject checks) exists only to
    measure how much splits that mix subjects inflate the scores."""
    out = prepare_run_folder(out, overwrite)
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
        "excluded": dataset.excluded, "versions": package_versions(), "command": sys.argv,
        "threads_per_fold": _threads_per_fold(settings, len(fold_ids)), **(config or {}),
    }
    (out / "config.json").write_text(json.dumps(run_config, indent=2, default=str))

    splits = {}
    for fold in fold_ids:
        test = np.nonzero(folds == fold)[0]
        train = np.nonzero(folds != fold)[0]
        if leakage_check:
            check_no_leakage(dataset.subjects, train, test, f"fold {fold}")
        elif set(dataset.subjects[train]) & set(dataset.subjects[test]):
            tqdm.write(f"fold {fold}: subjects shared between training and test (leakage check disabled)",
                       file=sys.stderr)
        splits[fold] = (train, test)

    results = {}
    for fold, (fold_probabilities, facts, curves) in _run_folds(dataset, splits, settings, out / "fold_models",
                                                                leakage_check):
        scores = classification_metrics(dataset.y[splits[fold][1]], fold_probabilities.argmax(1), dataset.classes)
        results[fold] = (fold_probabilities, {**facts, **scores}, curves)
        tqdm.write(
            f"fold {fold}: accuracy {scores['accuracy']:.3f}  F1 (weighted) {scores['f1_weighted']:.3f}  "
            f"test {facts['test_clips']} clips of {len(facts['test_subjects'])} subjects",
            file=sys.stderr,
        )
    probabilities = np.zeros((len(dataset), len(dataset.classes)))
    for fold in fold_ids:
        probabilities[splits[fold][1]] = results[fold][0]
    per_fold = [results[fold][1] for fold in fold_ids]
    histories = [results[fold][2] for fold in fold_ids]

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
