"""The cross-validation engine, one for every model kind: subject-grouped outer folds checked for leakage,
a subject-grouped validation split inside each training part, folds trained here or in worker processes,
and the run folder (config.json, folds.csv, predictions.csv, validation_predictions.csv, metrics.json,
history.json, confusion.png, curves.png and one fitted pipeline per fold in fold_models/).

validation_predictions.csv holds each fold's selected pipeline's probabilities for that fold's validation
clips (never its test clips): what late fusion may learn from without touching a test clip.

A branch supplies its settings object, which names the protocol and execution groups and makes the fold
pipeline (``experiments.fold_pipeline.FoldPipeline``): everything learned from data is learned by that
pipeline from the fit part the engine hands it, so the engine is where leakage is ruled out, once.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from landmarks.parallel import WorkerDied, report_progress, run_jobs
from landmarks.provenance import run_record

from .fold_pipeline import FoldPipeline
from .metrics import classification_metrics, summarise
from .plots import plot_confusion, plot_curves
from .protocol import check_no_leakage, grouped_folds, validation_split, write_folds
from .run_folder import fold_file, prepare_run_folder
from .settings import ExecutionSettings, ProtocolSettings


class BranchSettings(Protocol):
    """What the engine needs of a branch's settings."""

    protocol: ProtocolSettings
    execution: ExecutionSettings

    def make_pipeline(self) -> FoldPipeline: ...

    def as_dict(self) -> dict: ...

    def describe(self) -> str: ...


class LabelledClips(Protocol):
    """What the engine needs of a data set: inputs indexable by clip positions, and per-clip facts."""

    X: Any
    y: np.ndarray
    subjects: np.ndarray
    clips: list[str]
    classes: list[str]

    def __len__(self) -> int: ...


@dataclass
class FoldJob:
    """One fold's work, complete enough to run in another process."""

    dataset: Any
    train: np.ndarray
    test: np.ndarray
    fold: int
    template: FoldPipeline
    validation_share: float
    seed: int
    path: Path
    leakage_check: bool
    in_worker: bool
    threads: int | None = None  # on a cluster's worker: the threads a local run gives the fold (same numbers)


@dataclass
class FoldResult:
    """What a fold hands back: probabilities of its test clips and of its validation clips (by position in
    the data set), its facts for metrics.json and its learning curves."""

    test: np.ndarray
    test_probabilities: np.ndarray
    validation: np.ndarray
    validation_probabilities: np.ndarray
    facts: dict
    curves: dict


def _train_fold(job: FoldJob) -> FoldResult:
    """Split the training part into fit and validation subjects, fit a fresh pipeline on the fit part, save
    it, and score the test clips and the validation clips with it."""
    dataset, train, fold = job.dataset, job.train, job.fold
    if job.threads is not None:
        torch.set_num_threads(job.threads)
    seed = job.seed * 1000 + fold
    subjects = dataset.subjects
    fit_rel, val_rel = validation_split(dataset.y[train], subjects[train], job.validation_share, seed,
                                        job.leakage_check)
    fit_idx, val_idx = train[fit_rel], train[val_rel]
    if job.leakage_check:
        check_no_leakage(subjects, fit_idx, val_idx, f"fold {fold} validation split")
        check_no_leakage(subjects, np.concatenate([fit_idx, val_idx]), job.test, f"fold {fold}")
    pipeline = copy.deepcopy(job.template)
    on_epoch = (lambda epoch: report_progress((fold, epoch))) if job.in_worker else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pipeline.fit(dataset.X[fit_idx], dataset.y[fit_idx], dataset.X[val_idx], dataset.y[val_idx],
                         classes=dataset.classes, seed=seed, description=f"fold {fold}", on_epoch=on_epoch)
        except ValueError as error:
            raise ValueError(f"fold {fold}: {error}") from None
    for warning in caught:
        tqdm.write(f"fold {fold}: {warning.message}", file=sys.stderr)
    pipeline.save(job.path)
    facts = {
        "fold": fold, "fit_clips": int(len(fit_idx)), "validation_clips": int(len(val_idx)),
        "test_clips": int(len(job.test)), "validation_subjects": sorted(map(str, np.unique(subjects[val_idx]))),
        "test_subjects": sorted(map(str, np.unique(subjects[job.test]))), **pipeline.facts_,
    }
    validation = (pipeline.predict_proba(dataset.X[val_idx]) if len(val_idx)
                  else np.zeros((0, len(dataset.classes))))  # validation_share 0: no validation subjects
    return FoldResult(job.test, pipeline.predict_proba(dataset.X[job.test]), val_idx, validation, facts,
                      pipeline.history_)


def _use_threads(threads: int) -> None:
    """Runs once in each worker process: its share of torch's threads."""
    torch.set_num_threads(threads)


def threads_per_fold(jobs: int, folds: int) -> int:
    """Threads each fold trains with: all of torch's threads, shared equally between parallel folds."""
    return max(1, torch.get_num_threads() // min(jobs, folds))


def _run_folds(jobs: list[FoldJob], workers: int, threads: int, epochs: int, scheduler: str | None = None):
    """Yield (fold, result) as folds finish: here, one after another, ``workers`` at a time in spawned
    worker processes (forking a process that already runs torch threads can hang) with one combined bar,
    or on the workers of a Dask cluster (``scheduler``)."""
    if scheduler is not None:
        with tqdm(total=len(jobs), desc=f"folds on {scheduler}", unit="fold") as bar:
            for index, result in run_jobs(_train_fold, jobs, scheduler=scheduler,
                                          describe=lambda job: f"fold {job.fold}"):
                bar.update()
                yield jobs[index].fold, result
        return
    if workers == 1:
        with tqdm(total=len(jobs), desc="folds", unit="fold") as bar:
            for index, result in run_jobs(_train_fold, jobs):
                bar.update()
                yield jobs[index].fold, result
        return
    done = {job.fold: 0 for job in jobs}

    def advance(message: tuple[int, int]) -> None:
        fold, epoch = message
        bar.update(max(0, epoch - done[fold]))
        done[fold] = max(epoch, done[fold])

    description = f"{len(jobs)} folds, {workers} at a time"
    with tqdm(total=len(jobs) * epochs, desc=description, unit="epoch") as bar:
        try:
            for index, result in run_jobs(_train_fold, jobs, workers=workers, start_method="spawn",
                                          initializer=_use_threads, initargs=(threads,), on_progress=advance,
                                          describe=lambda job: f"fold {job.fold}"):
                fold = jobs[index].fold
                bar.update(epochs - done[fold])  # early stopping skips the rest
                done[fold] = epochs
                yield fold, result
        except WorkerDied as error:
            raise WorkerDied(
                f"{error}. Run with jobs=1, or, from a script of your own, call it under "
                "if __name__ == '__main__': (the workers re-import that script)"
            ) from error


def prediction_table(dataset: LabelledClips, rows: np.ndarray, folds: np.ndarray,
                     probabilities: np.ndarray) -> pd.DataFrame:
    """Clip, subject, fold, true and predicted class, and ``p_<class>`` of the clips at ``rows``."""
    predicted = probabilities.argmax(1)
    table = pd.DataFrame({
        "clip": [dataset.clips[i] for i in rows], "subject": dataset.subjects[rows], "fold": folds,
        "y_true": [dataset.classes[i] for i in dataset.y[rows]], "y_pred": [dataset.classes[i] for i in predicted],
    })
    for index, name in enumerate(dataset.classes):
        table[f"p_{name}"] = np.round(probabilities[:, index], 6)
    return table


def cross_validate(
    dataset: LabelledClips,
    settings: BranchSettings,
    out: str | os.PathLike,
    folds: np.ndarray | None = None,
    config: dict | None = None,
    leakage_check: bool = True,
    overwrite: bool = False,
) -> dict:
    """Run subject-grouped K-fold cross-validation of the pipeline ``settings`` make and write the run
    folder ``out``; returns metrics.json's content. ``folds`` reuses a split (one fold number per clip); by
    default a stratified, subject-grouped split is drawn with the settings' seed. A folder that already
    holds a run is refused unless ``overwrite``. ``leakage_check=False`` (clip-level validation splits, no
    subject checks) exists only to measure how much splits that mix subjects inflate the scores."""
    protocol, execution = settings.protocol, settings.execution
    template = settings.make_pipeline()
    out = prepare_run_folder(out, overwrite)
    if folds is None:
        folds = grouped_folds(dataset.y, dataset.subjects, protocol.folds, execution.seed)
    folds = np.asarray(folds, dtype=int)
    if len(folds) != len(dataset):
        raise ValueError(f"{len(folds)} fold numbers for {len(dataset)} clips")
    fold_ids = [int(f) for f in np.unique(folds)]
    threads = threads_per_fold(execution.jobs, len(fold_ids))
    write_folds(out / "folds.csv", dataset.clips, dataset.subjects, folds)
    counts = {name: int((dataset.y == i).sum()) for i, name in enumerate(dataset.classes)}
    record = run_record(
        settings=settings.as_dict(), classes=dataset.classes, clips=len(dataset),
        subjects=int(len(np.unique(dataset.subjects))), class_counts=counts,
        excluded=getattr(dataset, "excluded", {}), threads_per_fold=threads, **(config or {}),
    )
    (out / "config.json").write_text(json.dumps(record, indent=2, default=str))

    workers = min(execution.jobs, len(fold_ids))
    remote = execution.scheduler is not None
    jobs = []
    for fold in fold_ids:
        test, train = np.nonzero(folds == fold)[0], np.nonzero(folds != fold)[0]
        if leakage_check:
            check_no_leakage(dataset.subjects, train, test, f"fold {fold}")
        elif set(dataset.subjects[train]) & set(dataset.subjects[test]):
            tqdm.write(f"fold {fold}: subjects shared between training and test (leakage check disabled)",
                       file=sys.stderr)
        jobs.append(FoldJob(dataset, train, test, fold, template, protocol.validation_share, execution.seed,
                            fold_file(out, fold), leakage_check, in_worker=workers > 1 or remote,
                            threads=threads if remote else None))

    results: dict[int, FoldResult] = {}
    for fold, result in _run_folds(jobs, workers, threads, template.planned_epochs, execution.scheduler):
        scores = classification_metrics(dataset.y[result.test], result.test_probabilities.argmax(1), dataset.classes)
        result.facts = {**result.facts, **scores}
        results[fold] = result
        tqdm.write(
            f"fold {fold}: accuracy {scores['accuracy']:.3f}  F1 (weighted) {scores['f1_weighted']:.3f}  "
            f"test {result.facts['test_clips']} clips of {len(result.facts['test_subjects'])} subjects",
            file=sys.stderr,
        )
    ordered = [results[fold] for fold in fold_ids]
    probabilities = np.zeros((len(dataset), len(dataset.classes)))
    for result in ordered:
        probabilities[result.test] = result.test_probabilities
    per_fold = [result.facts for result in ordered]
    histories = [result.curves for result in ordered]

    predicted = probabilities.argmax(1)
    prediction_table(dataset, np.arange(len(dataset)), folds, probabilities).to_csv(out / "predictions.csv",
                                                                                     index=False)
    validation = [prediction_table(dataset, result.validation, np.full(len(result.validation), fold),
                                   result.validation_probabilities) for fold, result in zip(fold_ids, ordered,
                                                                                           strict=True)]
    pd.concat(validation, ignore_index=True).drop(columns="y_pred").to_csv(out / "validation_predictions.csv",
                                                                           index=False)
    metrics = {
        "classes": dataset.classes,
        "summary": summarise(per_fold),
        "pooled": classification_metrics(dataset.y, predicted, dataset.classes),
        "folds": per_fold,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "history.json").write_text(json.dumps(histories))
    plot_confusion(np.array(metrics["pooled"]["confusion"]), dataset.classes, out / "confusion.png",
                   f"{settings.describe()}: out-of-fold predictions")
    plot_curves(histories, out / "curves.png")
    return metrics
