"""Scoring new clips with a finished run: its fold pipelines as an ensemble, on windows of the run's clip
length, with the clips shaped exactly as the run shaped its own.

``open_run`` reads a run folder of any kind: a graph or baseline run (landmark windows), an image run (crop
windows; frozen-backbone runs recompute the backbone's features from the run's settings) or a fused run
(its source runs, combined per fold by what the fold learned). ``RunScorer.score`` gives each fold's
probabilities for a batch of windows; the ensemble is their mean.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from landmarks.dataset.assemble import shape_clip

from .feature_cache import normalise_frames
from .fold_pipeline import FoldPipeline
from .fusion import combine_learned
from .image_data import shape_frames
from .run_folder import load_fold_model


class RunError(ValueError):
    """A run folder that cannot score new clips; the message says what is missing or wrong."""


@dataclass
class Window:
    """One window of a clip: frames [start, end) of its landmarks (frames, 68, 2) and success mask, and of
    its crops (frames, side, side, 3) for image runs."""

    start: int
    end: int
    points: np.ndarray | None = None
    success: np.ndarray | None = None
    crops: np.ndarray | None = None


@dataclass
class RunScorer:
    """A finished run ready to score windows: ``inputs`` is ``landmarks`` or ``frames`` (what its windows
    need), ``length`` the frames per clip its data had before they were brought to its clip length (the
    window new recordings are cut into), ``folds`` its fold pipelines (or, for a fused run, its
    source runs and what each fold learned)."""

    path: Path
    classes: list[str]
    inputs: str
    length: int
    min_tracked: float
    folds: dict[int, FoldPipeline] = field(default_factory=dict)
    sources: list[RunScorer] = field(default_factory=list)
    rule: str | None = None
    learned: dict[int, object] = field(default_factory=dict)
    _backbone: torch.nn.Module | None = field(default=None, repr=False)

    def score(self, windows: list[Window]) -> dict[int, np.ndarray]:
        """Each fold's class probabilities (windows, classes)."""
        if self.sources:
            per_source = [source.score(windows) for source in self.sources]
            return {fold: combine_learned(self.rule, np.stack([scores[fold] for scores in per_source]), learned)
                    for fold, learned in self.learned.items()}
        inputs = self._inputs(windows)
        return {fold: pipeline.predict_proba(inputs) for fold, pipeline in self.folds.items()}

    def _inputs(self, windows: list[Window]):
        settings = next(iter(self.folds.values())).settings
        data = settings.data
        if self.inputs == "landmarks":
            return np.stack([shape_clip(w.points, w.success, length=data.length, length_mode=data.length_mode,
                                        normalizer=data.normalizer(), relative=data.relative,
                                        velocity=data.velocity)[0] for w in windows]).astype(np.float32)
        frames = np.stack([shape_frames(w.crops, data.length, data.size, data.grey) for w in windows])
        if settings.transfer.finetune:
            return frames
        if self._backbone is None:
            self._backbone = settings.frozen_backbone().to(settings.transfer.device).eval()
        with torch.inference_mode():
            batch = normalise_frames(frames, self._backbone.mean, self._backbone.std)
            features = self._backbone(batch.flatten(0, 1).to(settings.transfer.device)).float().cpu().numpy()
        return features.reshape(len(windows), data.length, -1)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise RunError(f"{path} does not exist: {path.parent} holds no finished run")
    return json.loads(path.read_text())


def open_run(run: str | os.PathLike, fold: int | None = None) -> RunScorer:
    """A finished run folder as a scorer: every fold's pipeline, or only fold ``fold``."""
    path = Path(run)
    config, metrics = _read_json(path / "config.json"), _read_json(path / "metrics.json")
    classes = metrics["classes"]
    folds = sorted(entry["fold"] for entry in metrics["folds"])
    if fold is not None:
        if fold not in folds:
            raise RunError(f"{path} has no fold {fold}; its folds are {', '.join(map(str, folds))}")
        folds = [fold]
    if "fused_runs" in config:
        sources = [open_run(source) for source in config["fused_runs"]]
        if len({source.length for source in sources}) > 1 or len({source.inputs for source in sources}) > 2:
            raise RunError(f"{path} fuses runs of different clip lengths; they cannot score the same windows")
        learned = {int(k): v for k, v in config["learned_per_fold"].items() if int(k) in folds}
        return RunScorer(path, classes, "frames" if any(s.inputs == "frames" for s in sources) else "landmarks",
                         sources[0].length, max(s.min_tracked for s in sources), sources=sources,
                         rule=config["rule"], learned=learned)
    window = config.get("clip_frames")
    pipelines = {}
    for number in folds:
        try:
            pipelines[number] = load_fold_model(path, number)
        except FileNotFoundError as error:
            raise RunError(str(error)) from None
    first = next(iter(pipelines.values()))
    if first.kind == "features":
        raise RunError(f"{path} is a features run (experiments.train_features): scoring new recordings takes graph, "
                       f"baseline, image and fused runs; score new clips' features with its fold models from Python "
                       f"(experiments.run_folder.load_fold_model)")
    settings = first.settings
    image = hasattr(settings, "transfer")
    return RunScorer(path, classes, "frames" if image else "landmarks", window or settings.data.length,
                     0.5 if image else settings.data.min_valid, folds=pipelines)
