"""What a branch plugs into the cross-validation engine: a fold pipeline, the steps fitted on one training
part (standardiser, resampler, model), with ``fit`` and ``predict_proba``, saved and loaded as one unit.

In the spirit of an imbalanced-learn pipeline: everything that learns from data learns inside ``fit``, from
the fit part it is given, so the engine can never hand a statistic of test or validation clips to a step.
A fold file (``fold_models/fold<k>.pt``) holds the pipeline's kind, its settings, the class names and
every fitted step; ``load_pipeline`` rebuilds the pipeline from it through the kind's registered class.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

FOLD_FILE_FORMAT = "facegraph-fold-pipeline/1"

_KINDS: dict[str, type[FoldPipeline]] = {}


class FoldPipeline(ABC):
    """The per-fold part of a run. Subclasses set ``kind`` (the name their fold files carry) and
    ``planned_epochs`` (for progress bars), and implement ``fit``, ``predict_proba``, ``state`` and
    ``from_state``. After ``fit``, ``facts_`` holds what metrics.json reports of the fold (JSON values) and
    ``history_`` its learning curves (history.json)."""

    kind: ClassVar[str]
    planned_epochs: int = 1
    classes_: list[str]
    facts_: dict
    history_: dict

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _KINDS[cls.kind] = cls

    @abstractmethod
    def fit(
        self,
        X: Any,
        y: np.ndarray,
        X_val: Any,
        y_val: np.ndarray,
        *,
        classes: list[str],
        seed: int,
        description: str = "",
        on_epoch: Callable[[int], None] | None = None,
    ) -> FoldPipeline:
        """Learn every step from the fit part (X, y); select the model on the validation part."""

    @abstractmethod
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (N, classes), columns in ``classes_`` order."""

    @abstractmethod
    def state(self) -> dict:
        """The fitted pipeline as tensors and plain values (what ``torch.load(weights_only=True)`` reads)."""

    @classmethod
    @abstractmethod
    def from_state(cls, state: dict) -> FoldPipeline:
        """The fitted pipeline back from ``state()``."""

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"format": FOLD_FILE_FORMAT, "kind": self.kind, **self.state()}, path)


def scaler_state(scaler: Any) -> dict:
    """A fitted standardiser's statistics (ours or scikit-learn's: ``mean_`` and ``scale_``) as float64
    tensors, so they come back bit for bit."""
    return {"mean": torch.from_numpy(np.asarray(scaler.mean_, dtype=np.float64)),
            "scale": torch.from_numpy(np.asarray(scaler.scale_, dtype=np.float64))}


def restore_scaler(scaler: Any, state: dict) -> Any:
    """``scaler`` (unfitted) holding the statistics of ``scaler_state``."""
    scaler.mean_, scaler.scale_ = state["mean"].numpy(), state["scale"].numpy()
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


def load_pipeline(path: str | os.PathLike) -> FoldPipeline:
    """A fitted fold pipeline from its file, whatever its kind."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"fold file {path} does not exist: the run was interrupted, or its fold_models/ "
                                f"folder was moved; re-run it (--overwrite)")
    state = torch.load(path, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FOLD_FILE_FORMAT:
        raise ValueError(f"{path} was written by an older version of facegraph (it holds model weights only, "
                         f"without the fold's standardisation and settings); re-run the run to use its fold models")
    return load_pipeline_state(state, str(path))


def load_pipeline_state(state: dict, source: str = "the fold file") -> FoldPipeline:
    """A fitted fold pipeline from its state with its ``kind`` (a fold file's content, or a pipeline held
    inside another, as a tuned fold holds its best trial)."""
    kind = state["kind"]
    # The branches define the kinds and import this module, so they are imported here, not at the top.
    from . import baselines, feature_branch, graph_branch, image_branch  # noqa: F401

    if kind not in _KINDS:
        raise ValueError(f"{source} holds a fold pipeline of kind {kind!r}, which this version does not know "
                         f"(known: {', '.join(sorted(_KINDS))})")
    return _KINDS[kind].from_state(state)
