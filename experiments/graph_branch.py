"""The graph branch: landmark sequences into graph models (STGCN, STGCN-LSTM, the paper's block).

``GraphTrainingSettings`` holds a run's settings (one group each of data, model, protocol, optimiser and
execution), with the presets that reproduce the papers' set-ups; ``GraphPipeline`` is what the
cross-validation engine fits in every fold: a standardiser of the coordinate channels, oversampling of the
flattened sequences, and the graph model trained on them, all learned from the fold's fit part only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

import models
from landmarks import Augmenter, LandmarkDataset, Standardizer
from landmarks.dataset.normalize import add_velocity

from .fold_pipeline import FoldPipeline, restore_scaler, scaler_state
from .losses import class_weights, make_loss
from .resampling import oversample
from .settings import (
    GROUPS,
    DataSettings,
    ExecutionSettings,
    ModelSettings,
    OptimiserSettings,
    ProtocolSettings,
    SettingsError,
    flat_setting_names,
    group_flat,
    preset_values,
)
from .training import ArrayBatches, fit, predict_proba
from .tuning import TunedPipeline


@dataclass
class GraphTrainingSettings:
    """Everything a graph-model run is made of; the model is built once when the settings are made, so a
    model option the model does not take, or a value it refuses, stops here."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)
    optimiser: OptimiserSettings = field(default_factory=OptimiserSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)

    def __post_init__(self) -> None:
        with torch.random.fork_rng(devices=[]):  # leaves the caller's random state as it was
            try:
                self.model.build(2, self.data.channels)
            except (TypeError, ValueError) as error:
                raise SettingsError(
                    f"{error}. Settings that are not a training setting ({', '.join(flat_setting_names())}) go "
                    f"to the model as options: see help(models.create) and the model's class"
                ) from None

    def load_dataset(self, landmarks: str | os.PathLike, labels: str | os.PathLike | None = None) -> LandmarkDataset:
        """The landmark CSVs under ``landmarks`` as these settings shape them: how a run loads its data, and
        how new clips must be loaded for a trained fold model."""
        return self.data.load(landmarks, labels)

    def build_model(self, num_classes: int, in_channels: int | None = None) -> torch.nn.Module:
        return self.model.build(num_classes, self.data.channels if in_channels is None else in_channels)

    def make_pipeline(self) -> FoldPipeline:
        """The untrained fold pipeline these settings describe (what the engine fits in every fold): the
        graph pipeline, or with ``tune_trials`` a search over it inside each training part."""
        if self.protocol.tune_trials:
            return TunedPipeline(self)
        return GraphPipeline(self)

    def describe(self) -> str:
        return self.model.name

    def as_dict(self) -> dict:
        """The settings as a run records them (config.json, fold files), the model's options completed with
        its defaults: the record rebuilds the model trained whatever later versions make the defaults."""
        values = asdict(self)
        values["model"]["options"] = models.resolved_options(self.model.name, self.model.options)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, dict]) -> GraphTrainingSettings:
        """Settings back from ``as_dict()`` (a run's config.json)."""
        unknown = set(values) - {"model", *GROUPS}
        if unknown or "model" not in values:
            raise SettingsError(f"not the settings of a graph run (groups {sorted(values)}); was it made by an older "
                                f"version of facegraph? Re-run it")
        groups = {name: GROUPS[name](**values.get(name, {})) for name in GROUPS}
        return cls(model=ModelSettings(**values["model"]), **groups)


PRESETS: dict[str, dict] = {
    # Ridouan et al.: STGCN-LSTM (two stacked LSTM layers of 15 and 20 units) on their 174-edge graph (as
    # published, not shifted by one), SMOTE, Adam 1e-4 decayed 0.96 every 1000 steps (gradients not clipped),
    # 150 epochs, batch 10, the best validation epoch alone, five folds, pain vs no pain, on each frame's
    # normalised shape (not relative to the clip).
    "ridouan2025": {
        "model": "stgcn-lstm", "graph": "reference", "head": "stacked", "head_sizes": (15, 20), "dropout": 0.0,
        "resample": "smote", "class_weights": "none", "loss": "ce", "lr": 1e-4, "decay_rate": 0.96,
        "decay_steps": 1000, "epochs": 150, "batch_size": 10, "folds": 5, "label_map": "pemf-binary",
        "relative": "none", "normalize": "eyes", "augment": False, "clip_norm": 0.0, "checkpoints": 1,
    },
    # Agam et al.: three classes (phasic / tonic / neutral), focal loss (alpha 0.25, gamma 2) with
    # conservative class weights instead of oversampling; same optimiser and schedule.
    "agam2026": {
        "model": "stgcn-lstm", "head": "stacked", "dropout": 0.0, "resample": "none", "class_weights": "conservative",
        "loss": "focal", "focal_alpha": 0.25, "focal_gamma": 2.0, "lr": 1e-4, "decay_rate": 0.96,
        "decay_steps": 1000, "epochs": 150, "batch_size": 10, "folds": 5, "label_map": "phasic-tonic",
        "relative": "none", "normalize": "eyes", "augment": False, "clip_norm": 0.0, "checkpoints": 1,
    },
}


def _options_older_runs_lack(model: str, recorded: Mapping[str, Any], weights: Mapping[str, torch.Tensor]) -> dict:
    """The model options a fold model saved by an older version trained with but did not record, told from
    its weights, so such runs load as they were trained instead of failing on a newer default (runs record
    every option since, defaults included: see ``GraphTrainingSettings.as_dict``):

    - ``stgcn`` and ``stgcn-lstm``: the blocks' widths (``channels``), read off their weights;
    - ``stgcn`` before ``time_bins`` existed: one average over the clip (a classifier as wide as the last
      block);
    - ``stgcn`` before it kept every frame: strides 1, 2, 2. Strides leave no trace in the weights, but
      every run since records its strides (complete records), so a record without them is of that time;
    - ``stgcn-lstm`` before the Bi-LSTM head and dropout 0.25 became its defaults: the stacked head
      (``head.layers.*`` weights) without dropout. Dropout leaves no weights: a run of that time with a head
      given explicitly loads with the newer dropout, which changes nothing at prediction;
    - ``stgcn``, ``stgcn-lstm`` and ``stgcn-yan2018`` before they recorded their graph: ``anatomical``, the
      only default graph until ``reference`` became it (every run since records its graph)."""
    found = {}
    if model in ("stgcn", "stgcn-lstm", "stgcn-yan2018") and "graph" not in recorded:
        found["graph"] = "anatomical"
    if model in ("stgcn", "stgcn-lstm") and "channels" not in recorded:  # the blocks' widths are in their weights
        widths = []
        while (key := f"backbone.blocks.{len(widths)}.gcn.conv.weight") in weights:
            widths.append(weights[key].shape[0])
        found["channels"] = tuple(widths)
    current = models.resolved_options(model, {**recorded, **found})  # what today's defaults would build
    if model == "stgcn" and "time_bins" not in recorded:
        saved = weights.get("classifier.weight")
        one_average = saved is not None and saved.shape[1] == current["channels"][-1]
        if one_average and current["time_bins"] > 1:
            return {**found, "time_bins": 1, **({} if "strides" in recorded else {"strides": (1, 2, 2)})}
    if model == "stgcn" and "strides" not in recorded:
        return {**found, "strides": (1, 2, 2)}
    if model == "stgcn-lstm" and "head" not in recorded and any(key.startswith("head.layers.") for key in weights):
        return {**found, "head": "stacked", **({} if "dropout" in recorded else {"dropout": 0.0})}
    return found


def settings_for(preset: str | None = None, **flat: Any) -> GraphTrainingSettings:
    """Defaults, then the preset's values, then ``flat`` (None values are ignored), each placed in its
    group; names of no group are options of the model."""
    values = preset_values(PRESETS, preset, flat)
    groups, model_name, model_options = group_flat(values)
    return GraphTrainingSettings(model=ModelSettings(model_name, model_options), **groups)


def to_model_layout(X: np.ndarray) -> torch.Tensor:
    """(N, T, V, C) arrays, as landmark data sets hold them, to the graph models' (N, C, T, V) tensors."""
    return torch.as_tensor(np.ascontiguousarray(np.transpose(X, (0, 3, 1, 2))), dtype=torch.float32)


def _augmentation(channels: int) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Random similarity motion, jitter, timing and mirroring of a clip's coordinates; velocity channels
    are recomputed from the moved coordinates."""
    augmenter = Augmenter()

    def transform(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        moved = augmenter(clip[..., :2], rng)
        return (add_velocity(moved) if channels == 4 else moved).astype(np.float32)

    return transform


class GraphPipeline(FoldPipeline):
    """Standardiser (per coordinate channel) -> oversampling (SMOTE / random, on flattened sequences) ->
    graph model, every step fitted on the fit part of one fold. Input: clips (N, T, 68, C) as
    ``LandmarkDataset.X`` holds them.

    After ``fit``: ``standardizer_``, ``model_`` (the epoch with the lowest validation loss, or with
    ``checkpoints`` above 1 a ``models.CheckpointEnsemble`` of that many such epochs), ``classes_``,
    ``facts_`` and ``history_``. ``settings`` are the run's, so ``settings.load_dataset`` loads new clips
    as the run loaded its own.
    """

    kind = "graph"

    def __init__(self, settings: GraphTrainingSettings) -> None:
        self.settings = settings
        self.planned_epochs = settings.optimiser.epochs

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> GraphPipeline:
        protocol, optimiser = self.settings.protocol, self.settings.optimiser
        self.classes_ = list(classes)
        self.standardizer_ = Standardizer().fit(X)  # statistics of real training clips only
        X_fit, y_fit, synthetic = oversample(X, y, protocol.resample, seed, class_names=self.classes_)
        weights = class_weights(y_fit, len(self.classes_), protocol.class_weights)
        loss_fn = make_loss(protocol.loss, weights, protocol.focal_alpha, protocol.focal_gamma)
        torch.manual_seed(seed)
        self.model_ = self.settings.build_model(len(self.classes_), X.shape[-1])
        batches = ArrayBatches(X_fit, y_fit, optimiser.batch_size, seed, to_model_layout,
                               prepare=self.standardizer_.transform,
                               transform=_augmentation(X.shape[-1]) if optimiser.augment else None)
        if not len(y_val):  # no validation subjects (validation_share 0): the epoch that fits its own clips best
            X_val, y_val = X, y
        validation = (to_model_layout(self.standardizer_.transform(X_val)), torch.as_tensor(y_val, dtype=torch.long))
        history = fit(
            self.model_, batches, validation, loss_fn,
            optimiser.fit_settings(),
            description=description, on_epoch=on_epoch, progress_bar=on_epoch is None,
        )
        if len(history.checkpoints) > 1:  # the best epochs' probabilities averaged
            self.model_ = self._fold_model(len(self.classes_), X.shape[-1], len(history.checkpoints))
            for member, kept in zip(self.model_.members, history.checkpoints, strict=True):
                member.load_state_dict(kept)
        self.facts_ = {
            "synthetic_clips": int(synthetic.sum()), "best_epoch": history.best_epoch + 1,
            "checkpoint_epochs": [epoch + 1 for epoch in history.checkpoint_epochs or [history.best_epoch]],
            "epochs_run": len(history.train_loss), "optimiser_steps": history.optimiser_steps,
            "class_weights": None if weights is None else [round(float(w), 6) for w in weights],
        }
        self.history_ = history.curves()
        return self

    def _fold_model(self, num_classes: int, in_channels: int, members: int) -> torch.nn.Module:
        """The untrained model a fold keeps: the settings' model, or an ensemble of ``members`` of them."""
        if members == 1:
            return self.settings.build_model(num_classes, in_channels)
        return models.CheckpointEnsemble([self.settings.build_model(num_classes, in_channels) for _ in range(members)])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for clips X (N, T, V, C), columns in ``classes_`` order."""
        return predict_proba(self.model_, to_model_layout(self.standardizer_.transform(X)))

    def state(self) -> dict:
        return {
            "settings": self.settings.as_dict(), "classes": self.classes_, "in_channels": len(self.standardizer_.mean_),
            "standardizer": scaler_state(self.standardizer_),
            "model": self.model_.state_dict(),
            "checkpoints": len(self.model_.members) if isinstance(self.model_, models.CheckpointEnsemble) else 1,
        }

    @classmethod
    def from_state(cls, state: dict) -> GraphPipeline:
        model = state["settings"]["model"]
        options = {**model["options"], **_options_older_runs_lack(model["name"], model["options"], state["model"])}
        pipeline = cls(GraphTrainingSettings.from_dict({**state["settings"], "model": {**model, "options": options}}))
        pipeline.classes_ = list(state["classes"])
        pipeline.standardizer_ = restore_scaler(Standardizer(), state["standardizer"])
        members = state.get("checkpoints", 1)  # fold models saved before checkpoint ensembles hold one model
        pipeline.model_ = pipeline._fold_model(len(pipeline.classes_), state["in_channels"], members)
        pipeline.model_.load_state_dict(state["model"])
        pipeline.model_.eval()
        return pipeline
