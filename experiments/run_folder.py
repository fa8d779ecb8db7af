"""The run folder of a cross-validation: created without overwriting an earlier run by accident, and read
back into the trained fold models, each with the standardisation it was trained under, to apply to clips
it has never seen:

    fold = load_fold_model("runs/ridouan", fold=0)
    probabilities = fold.predict_proba(fold.settings.load_dataset("new-landmarks/", "labels.csv").X)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from landmarks import Standardizer

from .settings import GraphTrainingSettings, build_model, settings_for
from .training import predict_proba, to_model_layout

RUN_FILES = ("config.json", "folds.csv", "predictions.csv", "metrics.json", "history.json", "confusion.png",
             "curves.png")


def _earlier_run(out: Path) -> list[Path]:
    """The files an earlier run left in ``out``: its run files and fold weights."""
    return [out / name for name in RUN_FILES if (out / name).exists()] + sorted((out / "fold_models").glob("fold*.pt"))


def check_run_folder(out: str | os.PathLike, overwrite: bool = False) -> None:
    """Refuse a run folder that is a file, or that already holds a run (finished or interrupted) unless
    ``overwrite``; changes nothing, so a run can check its folder before reading any data."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"run folder {out} is a file; choose a folder for --out")
    earlier = _earlier_run(out)
    if earlier and not overwrite:
        state = "a finished run" if (out / "metrics.json").exists() else "an unfinished run"
        names = [path.name for path in earlier if path.parent == out] or ["fold weights"]
        raise FileExistsError(
            f"run folder {out} already holds {state} ({', '.join(names)}); choose another --out, or pass "
            f"--overwrite (overwrite=True) to replace it"
        )


def prepare_run_folder(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """The run folder, created if needed, after ``check_run_folder``; with ``overwrite`` an earlier run's
    files (and nothing else) are removed first."""
    out = Path(out)
    check_run_folder(out, overwrite)
    for path in _earlier_run(out):
        path.unlink()
    (out / "fold_models").mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class FoldModel:
    """One fold's selected model with what it needs to score new clips: the standardisation fit on that
    fold's training clips, the class names in output order, and the run's settings (load new data with the
    same ``length``, ``normalize`` and ``velocity``)."""

    fold: int
    model: torch.nn.Module
    standardizer: Standardizer
    classes: list[str]
    settings: GraphTrainingSettings

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for clips X (N, T, V, C), as ``LandmarkDataset.X`` holds them."""
        return predict_proba(self.model, to_model_layout(self.standardizer.transform(X)))


def load_fold_model(run_dir: str | os.PathLike, fold: int) -> FoldModel:
    """Rebuild fold ``fold`` of a finished run from its config.json, metrics.json and fold weights."""
    run_dir = Path(run_dir)
    for name in ("config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir / name} does not exist: {run_dir} holds no finished run")
    config = json.loads((run_dir / "config.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    facts = {entry["fold"]: entry for entry in metrics["folds"]}
    if fold not in facts:
        raise ValueError(f"{run_dir} has no fold {fold}; its folds are {', '.join(map(str, sorted(facts)))}")
    if "standardizer" not in facts[fold]:
        raise ValueError(f"{run_dir / 'metrics.json'} predates saved standardisation statistics; re-run it")
    settings = settings_for(**config["settings"])
    classes = list(config["classes"])
    standardizer = Standardizer()
    standardizer.mean_ = np.asarray(facts[fold]["standardizer"]["mean"], dtype=float)
    standardizer.scale_ = np.asarray(facts[fold]["standardizer"]["scale"], dtype=float)
    model = build_model(settings, len(classes), len(standardizer.mean_))
    model.load_state_dict(torch.load(run_dir / "fold_models" / f"fold{fold}.pt", weights_only=True))
    return FoldModel(fold, model.eval(), standardizer, classes, settings)
