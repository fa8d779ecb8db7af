"""The run folder of a cross-validation: created without overwriting an earlier run by accident, and read
back into its fitted fold pipelines (each with the standardisation it was trained under), to apply to clips
they have never seen:

    fold = load_fold_model("runs/ridouan", fold=0)
    probabilities = fold.predict_proba(fold.settings.load_dataset("new-landmarks/", "labels.csv").X)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .fold_pipeline import FoldPipeline, load_pipeline

RUN_FILES = ("config.json", "folds.csv", "predictions.csv", "validation_predictions.csv", "metrics.json",
             "history.json", "confusion.png", "curves.png")


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
    out.mkdir(parents=True, exist_ok=True)  # fold_models/ is made by the first fold file saved into it
    return out


def fold_file(run_dir: str | os.PathLike, fold: int) -> Path:
    """Where a run keeps fold ``fold``'s fitted pipeline."""
    return Path(run_dir) / "fold_models" / f"fold{fold}.pt"


def load_fold_model(run_dir: str | os.PathLike, fold: int) -> FoldPipeline:
    """Fold ``fold`` of a finished run: the fitted pipeline (standardisation, model, classes, the run's
    settings) exactly as it scored that fold's test clips."""
    run_dir = Path(run_dir)
    for name in ("config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir / name} does not exist: {run_dir} holds no finished run")
    folds = sorted(entry["fold"] for entry in json.loads((run_dir / "metrics.json").read_text())["folds"])
    if fold not in folds:
        raise ValueError(f"{run_dir} has no fold {fold}; its folds are {', '.join(map(str, folds))}")
    return load_pipeline(fold_file(run_dir, fold))
