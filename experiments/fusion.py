"""Late fusion of finished runs: their class probabilities for the same clips, under the same folds,
combined by a rule into a new run folder.

Rules: ``mean`` (of probabilities), ``weighted`` (a weighted mean), ``product`` (geometric mean), ``vote``
(majority of the runs' predicted classes) and ``stacking`` (logistic regression on the runs' class
probabilities). The weights and the stacker are learned for each fold from that fold's validation
predictions only (validation_predictions.csv: clips of training subjects, never the fold's test clips), then
applied to that fold's test predictions. The fused run folder holds config.json (runs, rule, what each fold
learned), folds.csv, predictions.csv, validation_predictions.csv, metrics.json and confusion.png, so it can
be compared and fused again.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression

from landmarks.provenance import run_record

from .cross_validation import prediction_table
from .metrics import classification_metrics, summarise
from .plots import plot_confusion
from .run_folder import prepare_run_folder

RULES = ("mean", "weighted", "product", "vote", "stacking")
LEARNED = ("weighted", "stacking")


class FusionError(ValueError):
    """Runs that cannot be fused as asked; the message names the runs and clips at fault."""


@dataclass
class RunPredictions:
    """What fusion reads of a run folder."""

    path: Path
    classes: list[str]
    test: pd.DataFrame  # predictions.csv, indexed by clip
    validation: pd.DataFrame  # validation_predictions.csv (clip, fold, y_true, p_<class>)

    def probabilities(self, table: pd.DataFrame, index) -> np.ndarray:
        return table.loc[index, [f"p_{name}" for name in self.classes]].to_numpy(float)


def read_run(path: str | os.PathLike) -> RunPredictions:
    """A finished run folder's predictions; refuses a folder without them, saying what is missing."""
    path = Path(path)
    for name in ("metrics.json", "predictions.csv", "validation_predictions.csv"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path / name} does not exist: {path} is not a finished run folder (runs made "
                                    f"before validation predictions were written must be re-run to be fused)")
    classes = json.loads((path / "metrics.json").read_text())["classes"]
    test = pd.read_csv(path / "predictions.csv", dtype={"clip": str, "subject": str}).set_index("clip")
    validation = pd.read_csv(path / "validation_predictions.csv", dtype={"clip": str, "subject": str})
    return RunPredictions(path, classes, test, validation)


def check_runs(runs: list[RunPredictions], common_clips: bool) -> list[str]:
    """The clips to fuse, in the first run's order, after checking that every run has the same classes and
    puts every clip in the same fold."""
    first = runs[0]
    for run in runs[1:]:
        if run.classes != first.classes:
            raise FusionError(f"{run.path} has classes {run.classes}, {first.path} has {first.classes}: runs of "
                              f"other tasks cannot be fused")
    clips = [clip for clip in first.test.index if all(clip in run.test.index for run in runs)]
    missing = {run.path: sorted(set(first.test.index) ^ set(run.test.index)) for run in runs[1:]}
    missing = {path: names for path, names in missing.items() if names}
    if missing and not common_clips:
        path, names = next(iter(missing.items()))
        raise FusionError(f"{path} and {first.path} differ in {len(names)} clip(s), e.g. {', '.join(names[:3])}; "
                          f"pass --common-clips (common_clips=True) to fuse the clips every run has")
    if missing:
        left_out = len(set().union(*(run.test.index for run in runs))) - len(clips)
        print(f"fusing the {len(clips)} clips every run has; {left_out} left out", file=sys.stderr)
    for run in runs[1:]:
        differ = [clip for clip in clips if run.test.at[clip, "fold"] != first.test.at[clip, "fold"]]
        if differ:
            raise FusionError(f"{run.path} puts clip(s) {', '.join(differ[:3])} in other folds than {first.path}: "
                              f"fuse runs made with one split (train the second with --folds-file of the first)")
    return clips


def _combine(rule: str, stack: np.ndarray, learned) -> np.ndarray:
    """Fused probabilities (N, classes) from the runs' (runs, N, classes) by ``rule`` with what it learned."""
    if rule == "mean":
        return stack.mean(axis=0)
    if rule == "weighted":
        return np.tensordot(learned, stack, axes=1)
    if rule == "product":
        logs = np.log(np.clip(stack, 1e-12, 1.0)).mean(axis=0)
        return softmax(logs, axis=1)
    if rule == "vote":
        votes = np.zeros(stack.shape[1:])
        for run in stack:
            votes[np.arange(len(run)), run.argmax(1)] += 1
        shares = votes / len(stack) + 1e-6 * stack.mean(axis=0)  # ties go to the class of higher mean probability
        return shares / shares.sum(axis=1, keepdims=True)
    return learned.predict_proba(np.concatenate(list(stack), axis=1))


def combine_learned(rule: str, stack: np.ndarray, record) -> np.ndarray:
    """Fused probabilities of new clips (runs' (runs, N, classes)) by ``rule`` with what a fold learned, as
    its fused run's config.json records it (``learned_per_fold``)."""
    learned = None
    if rule == "weighted":
        learned = np.asarray(record, dtype=float)
    elif rule == "stacking":
        learned = LogisticRegression()
        learned.coef_, learned.intercept_ = np.asarray(record["coef"]), np.asarray(record["intercept"])
        learned.classes_ = np.arange(stack.shape[2])
    return _combine(rule, stack, learned)


def _learn(rule: str, stack: np.ndarray, y: np.ndarray, classes: int, seed: int, fold: int):
    """What ``rule`` learns from one fold's validation predictions (runs, N, classes) and labels."""
    if rule == "weighted":
        def loss(theta: np.ndarray) -> float:
            fused = np.tensordot(softmax(theta), stack, axes=1)
            return -float(np.log(np.clip(fused[np.arange(len(y)), y], 1e-12, 1.0)).mean())

        return softmax(minimize(loss, np.zeros(len(stack)), method="Nelder-Mead").x)
    if rule == "stacking":
        if len(np.unique(y)) < classes:
            raise FusionError(f"fold {fold}: its validation clips lack a class, so no stacker can be fitted on them; "
                              f"use --rule mean or weighted")
        return LogisticRegression(max_iter=1000, random_state=seed).fit(np.concatenate(list(stack), axis=1), y)
    return None


def fuse_runs(
    runs: list[str | os.PathLike],
    out: str | os.PathLike,
    rule: str = "mean",
    common_clips: bool = False,
    overwrite: bool = False,
    seed: int = 0,
) -> dict:
    """Fuse finished runs into the run folder ``out`` by ``rule``; returns its metrics.json content."""
    if rule not in RULES:
        raise FusionError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if len(runs) < 2:
        raise FusionError("fusion needs at least two runs")
    read = [read_run(path) for path in runs]
    clips = check_runs(read, common_clips)
    out = prepare_run_folder(out, overwrite)
    first, classes = read[0], read[0].classes
    folds = first.test.loc[clips, "fold"].to_numpy(int)
    y = np.array([classes.index(name) for name in first.test.loc[clips, "y_true"]])
    stack = np.stack([run.probabilities(run.test, clips) for run in read])
    fused = np.zeros(stack.shape[1:])
    validation_tables, learned_record, per_fold = [], {}, []
    for fold in np.unique(folds):
        by_run = [run.validation[run.validation["fold"] == fold].set_index("clip") for run in read]
        names = [clip for clip in by_run[0].index if all(clip in table.index for table in by_run)]
        if rule in LEARNED and not names:
            raise FusionError(f"fold {fold}: the runs share no validation clip to learn the {rule} rule from (a run "
                              f"trained with validation_share 0 has none): use --rule mean, product or vote, or "
                              f"re-run with validation_share above 0")
        val_stack = np.stack([run.probabilities(table, names) for run, table in zip(read, by_run, strict=True)])
        y_val = np.array([classes.index(name) for name in by_run[0].loc[names, "y_true"]], dtype=int)
        learned = _learn(rule, val_stack, y_val, len(classes), seed, int(fold))
        rows = folds == fold
        fused[rows] = _combine(rule, stack[:, rows], learned)
        if names:
            validation = SimpleNamespace(clips=names, subjects=by_run[0].loc[names, "subject"].to_numpy(), y=y_val,
                                         classes=classes)
            validation_tables.append(prediction_table(validation, np.arange(len(names)), np.full(len(names), fold),
                                                      _combine(rule, val_stack, learned)).drop(columns="y_pred"))
        learned_record[int(fold)] = (
            [round(float(w), 6) for w in learned] if rule == "weighted"
            else {"coef": np.round(learned.coef_, 6).tolist(), "intercept": np.round(learned.intercept_, 6).tolist()}
            if rule == "stacking" else "equal weights"
        )
        per_fold.append({"fold": int(fold), "validation_clips": len(names), "test_clips": int(rows.sum()),
                         **classification_metrics(y[rows], fused[rows].argmax(1), classes)})
    dataset = SimpleNamespace(clips=clips, subjects=first.test.loc[clips, "subject"].to_numpy(), y=y, classes=classes)
    prediction_table(dataset, np.arange(len(clips)), folds, fused).to_csv(out / "predictions.csv", index=False)
    if validation_tables:
        pd.concat(validation_tables, ignore_index=True).to_csv(out / "validation_predictions.csv", index=False)
    pd.DataFrame({"clip": clips, "subject": dataset.subjects, "fold": folds}).to_csv(out / "folds.csv", index=False)
    record = run_record(fused_runs=[str(Path(path).resolve()) for path in runs], rule=rule, classes=classes,
                        clips=len(clips), learned_per_fold=learned_record,
                        note="validation predictions of learned rules are fitted on those clips (in-sample)"
                        if rule in LEARNED else "")
    (out / "config.json").write_text(json.dumps(record, indent=2))
    metrics = {"classes": classes, "summary": summarise(per_fold),
               "pooled": classification_metrics(y, fused.argmax(1), classes), "folds": per_fold}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_confusion(np.array(metrics["pooled"]["confusion"]), classes, out / "confusion.png", f"fusion ({rule})")
    return metrics
