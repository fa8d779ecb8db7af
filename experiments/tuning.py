"""Hyperparameter search inside each training part (``--tune TRIALS``), so a tuned model still has an
honest test score.

``TunedPipeline`` is a fold pipeline around a branch's settings: in every fold, Optuna's TPE sampler
(seeded) proposes ``trials`` settings from ``SEARCH_SPACE``; each trial fits the branch's pipeline on the
fold's fit part and is scored on the fold's validation part (subjects held out of the fit part, never the
fold's test subjects); the best trial's fitted pipeline is the fold's model. The engine hands a fold
pipeline nothing but the fit and validation parts, so the search cannot see a test clip, by construction.

Cost, stated before a run starts: ``trials`` trainings per fold instead of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

import models

from .fold_pipeline import FoldPipeline, load_pipeline_state
from .losses import make_loss
from .settings import SettingsError


@dataclass(frozen=True)
class Range:
    """One searched setting: a float range (log-uniform when ``log``) or a list of ``choices``."""

    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple | None = None

    def suggest(self, trial: Any, name: str) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(name, list(self.choices))
        return trial.suggest_float(name, self.low, self.high, log=self.log)


# What a trial may change: the optimiser's learning rate and batch size, and the model's dropout (for
# models that take one). Kept small on purpose: every trial is a full training of the fold.
SEARCH_SPACE: dict[str, Range] = {
    "lr": Range(3e-4, 1e-2, log=True),
    "batch_size": Range(choices=(8, 16, 32)),
    "dropout": Range(0.0, 0.5),
}


def searched_names(settings: Any) -> list[str]:
    """The settings of ``SEARCH_SPACE`` these graph-run settings can take: dropout only for a model that
    accepts a ``dropout`` option."""
    names = ["lr", "batch_size"]
    with torch.random.fork_rng(devices=[]):  # leaves the caller's random state as it was
        try:
            models.create(settings.model.name, 2, in_channels=settings.data.channels,
                          **{**settings.model.options, "dropout": 0.1})
            names.append("dropout")
        except (TypeError, ValueError):
            pass
    return names


def with_values(settings: Any, values: dict[str, Any]) -> Any:
    """Graph-run settings with a trial's values in their places (optimiser fields, or model options)."""
    optimiser = replace(settings.optimiser, **{k: v for k, v in values.items() if k in ("lr", "batch_size")})
    options = {**settings.model.options, **{k: v for k, v in values.items() if k == "dropout"}}
    protocol = replace(settings.protocol, tune_trials=0)
    return replace(settings, optimiser=optimiser, model=replace(settings.model, options=options), protocol=protocol)


def tuning_cost(trials: int, folds: int) -> str:
    """The sentence a tuned run prints before it starts."""
    return (f"tuning: {trials} trials in each of {folds} folds, each a full training on the fold's fit part scored "
            f"on its validation subjects: about {trials}x the time of an untuned run")


class TunedPipeline(FoldPipeline):
    """A branch's fold pipeline with its settings searched per fold (see the module notes). After ``fit``:
    ``best_`` (the chosen trial's fitted pipeline), ``chosen_`` (its values) and ``trials_`` (every trial's
    values and validation loss), besides the usual ``facts_`` and ``history_``."""

    kind = "tuned"

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.trials = settings.protocol.tune_trials
        if self.trials < 1:
            raise SettingsError(f"tune_trials must be at least 1 for a tuned pipeline, got {self.trials}")
        self.names = searched_names(settings)
        self.planned_epochs = self.trials * settings.optimiser.epochs

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> TunedPipeline:
        import optuna  # imported when a search runs, so untuned commands do not pay its start-up

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.classes_ = list(classes)
        fitted: dict[int, FoldPipeline] = {}
        done = 0

        def progress(epoch: int) -> None:
            if on_epoch is not None:
                on_epoch(done + epoch)

        def objective(trial: Any) -> float:
            nonlocal done
            values = {name: SEARCH_SPACE[name].suggest(trial, name) for name in self.names}
            pipeline = with_values(self.settings, values).make_pipeline()
            pipeline.fit(X, y, X_val, y_val, classes=classes, seed=seed,
                         description=f"{description} trial {trial.number + 1}/{self.trials}",
                         on_epoch=progress if on_epoch is not None else None)
            done += self.settings.optimiser.epochs
            fitted[trial.number] = pipeline
            return validation_loss(pipeline, X_val, y_val, self.settings)

        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, self.trials))
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.optimize(objective, n_trials=self.trials)
        best = study.best_trial
        self.best_ = fitted[best.number]
        self.chosen_ = dict(best.params)
        self.trials_ = [{"trial": t.number, **t.params, "validation_loss": round(float(t.value), 6)}
                        for t in study.trials]
        self.facts_ = {**self.best_.facts_, "tuned": self.chosen_, "tuning_trials": self.trials_}
        self.history_ = self.best_.history_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.best_.predict_proba(X)

    def state(self) -> dict:
        return {"settings": self.settings.as_dict(), "classes": self.classes_, "chosen": self.chosen_,
                "trials": self.trials_, "best": {"kind": self.best_.kind, **self.best_.state()}}

    @classmethod
    def from_state(cls, state: dict) -> TunedPipeline:
        from .graph_branch import GraphTrainingSettings  # here: graph_branch imports this module

        pipeline = cls(GraphTrainingSettings.from_dict(state["settings"]))
        pipeline.classes_ = list(state["classes"])
        pipeline.chosen_, pipeline.trials_ = dict(state["chosen"]), list(state["trials"])
        pipeline.best_ = load_pipeline_state(state["best"])
        return pipeline


def validation_loss(pipeline: FoldPipeline, X_val, y_val, settings: Any) -> float:
    """The trial's score: the run's own loss (unweighted) of its selected model on the validation clips."""
    probabilities = torch.as_tensor(pipeline.predict_proba(X_val), dtype=torch.float64).clamp_min(1e-12)
    loss = make_loss(settings.protocol.loss, None, settings.protocol.focal_alpha, settings.protocol.focal_gamma)
    value = float(loss(probabilities.log(), torch.as_tensor(y_val, dtype=torch.long)))
    return value if math.isfinite(value) else float("inf")
