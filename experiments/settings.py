"""The settings of a training run, grouped by concern and checked when they are made (so a bad value never
leaves a half-written run folder). A branch's settings (``graph_branch.GraphTrainingSettings``) hold one of
each group.

- ``DataSettings``: how landmark CSVs become clips (labels, length, gaps, normalisation, velocity).
- ``ModelSettings``: a registered model's name and its own keyword options (``graph``, ``head``,
  ``head_sizes``, ``channels`` ...); the model's class knows which it takes, as timm models do.
- ``ProtocolSettings``: folds, the validation share, oversampling, class weights, the loss, and the
  hyperparameter search inside each training part.
- ``OptimiserSettings``: epochs, batch size, learning rate and its decay, gradient clipping, early stopping,
  the checkpoint ensemble, augmentation.
- ``ExecutionSettings``: the seed and how many folds train at once.

``group_flat`` places flat names (``epochs=3``, ``resample="none"``, ``head="bilstm"``), as the command
lines give them, in their groups; a name that belongs to no group is a model option.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import torch

import models
from landmarks import LandmarkDataset, ShapeNormalizer, load_dataset
from landmarks.commands import UsageError
from landmarks.dataset.labels import resolve_label_map
from landmarks.dataset.normalize import NORMALIZATIONS, RELATIVE_TO, named_normalizer

from .losses import LOSSES, WEIGHT_SCHEMES
from .resampling import METHODS
from .training import FitSettings

LENGTH_MODES = ("resample", "pad")


class SettingsError(UsageError):
    """A setting with a value the run cannot use; raised when the settings are made, before anything is
    read or written."""


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _check_positive(group: Any, *names: str) -> None:
    for name in names:
        if getattr(group, name) <= 0:
            raise SettingsError(f"{name} must be positive, got {getattr(group, name)}")


def _check_off_or_positive(group: Any, *names: str) -> None:
    for name in names:
        if getattr(group, name) < 0:
            raise SettingsError(f"{name} must be 0 (off) or positive, got {getattr(group, name)}")


@dataclass
class DataSettings:
    label_map: str | None = None  # a label-map preset for labels from a path component; None: the component itself
    label_component: int = 1  # path component holding the label
    subject_component: int = 0  # path component holding the subject (-1: the clip itself, for still images)
    length: int = 20  # frames per clip after resampling or padding
    length_mode: str = "resample"  # how clips reach length: resample (linear in time) or pad (pad / centre-crop)
    # per-frame shape normalisation: procrustes (similarity alignment of all 68 points to the average face),
    # eyes or nose (level, centre and scale by the outer eye corners alone), or none
    normalize: str = "procrustes"
    # each frame minus the clip's own mean shape (clip-mean) or first frame: the person's face shape removed,
    # its movement kept; the default by measurement (README, "Why these defaults")
    relative: str = "clip-mean"
    velocity: bool = False  # add dx, dy channels
    min_valid: float = 0.5  # exclude clips with a smaller share of tracked frames
    ignore_unlabelled: bool = False  # with a labels file: leave out landmark CSVs it does not list (warned)

    def __post_init__(self) -> None:
        _check_choice("normalize", self.normalize, NORMALIZATIONS)
        _check_choice("length_mode", self.length_mode, LENGTH_MODES)
        _check_choice("relative", self.relative, RELATIVE_TO)
        _check_positive(self, "length")
        if not 0 <= self.min_valid <= 1:
            raise SettingsError(f"min_valid must be a share between 0 and 1, got {self.min_valid}")
        if self.label_component < 0 or self.subject_component < -1:
            raise SettingsError("label_component and subject_component are path positions from 0 (subject_component "
                                "-1: each clip its own subject, for still images)")
        try:
            resolve_label_map(self.label_map)
        except ValueError as error:
            raise SettingsError(str(error)) from None

    @property
    def channels(self) -> int:
        """Coordinate channels per landmark: x, y and, with velocity, dx, dy."""
        return 4 if self.velocity else 2

    def normalizer(self) -> ShapeNormalizer:
        return named_normalizer(self.normalize)

    def load(self, landmarks: str | os.PathLike, labels: str | os.PathLike | None = None) -> LandmarkDataset:
        """The landmark CSVs under ``landmarks`` shaped by these settings."""
        return load_dataset(
            landmarks, labels, label_component=self.label_component, label_map=self.label_map,
            subject_component=self.subject_component, length=self.length, length_mode=self.length_mode,
            min_valid=self.min_valid, normalizer=self.normalizer(), velocity=self.velocity, relative=self.relative,
            ignore_unlabelled=self.ignore_unlabelled,
        )


@dataclass
class ModelSettings:
    name: str = "stgcn-lstm"  # a registered landmark model (models.available_models("landmarks"))
    options: dict = field(default_factory=dict)  # keyword options of the model's class

    def __post_init__(self) -> None:
        _check_choice("model", self.name, tuple(models.available_models("landmarks")))
        self.options = dict(self.options)

    def build(self, num_classes: int, in_channels: int) -> torch.nn.Module:
        """The untrained model for ``num_classes`` classes and ``in_channels`` channels per landmark."""
        return models.create(self.name, num_classes, in_channels=in_channels, **self.options)


@dataclass
class ProtocolSettings:
    folds: int = 5  # subject-grouped outer folds
    # share of training subjects held out for model selection; 0: none, the model trains on every training
    # subject and keeps the epoch of lowest loss on its own training clips (graph runs and linear baselines)
    validation_share: float = 0.2
    resample: str = "smote"  # oversampling of training parts: smote, random or none
    class_weights: str = "none"  # loss weights per class: none, simple or conservative
    loss: str = "ce"  # cross-entropy (ce) or focal
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    tune_trials: int = 0  # hyperparameter search trials inside each training part (experiments.tuning); 0: off

    def __post_init__(self) -> None:
        if self.tune_trials < 0:
            raise SettingsError(f"tune_trials must be 0 (off) or a number of trials, got {self.tune_trials}")
        if self.folds < 2:
            raise SettingsError(f"folds must be at least 2, got {self.folds}")
        if not 0 <= self.validation_share < 1:
            raise SettingsError(f"validation_share must be at least 0 (no validation subjects) and below 1, got "
                                f"{self.validation_share}")
        if self.tune_trials and not self.validation_share:
            raise SettingsError("--tune scores its trials on validation subjects: give validation_share above 0 "
                                "(for instance 0.2) with it")
        _check_choice("resample", self.resample, METHODS)
        _check_choice("class_weights", self.class_weights, WEIGHT_SCHEMES)
        _check_choice("loss", self.loss, LOSSES)
        if self.focal_gamma < 0 or not 0 < self.focal_alpha <= 1:
            raise SettingsError("focal_alpha must be in (0, 1] and focal_gamma at least 0")


@dataclass
class OptimiserSettings:
    """Defaults by measurement on the dynamics suite (README, "Why these defaults"); the papers' Adam 1e-4,
    batch 10, 150 epochs are in their presets."""

    epochs: int = 40
    batch_size: int = 16
    lr: float = 3e-3  # initial learning rate of Adam
    decay_rate: float = 0.96  # the learning rate is multiplied by this every decay_steps optimiser steps
    decay_steps: int = 1000
    patience: int = 0  # stop after this many epochs without a better validation loss; 0: run every epoch
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); 0: plain Adam
    # gradients rescaled to at most this total norm before each step (0: not clipped): it steadied the
    # graph models' training at lr 3e-3, whose predictions flipped whole classes between epochs (README,
    # "Why these defaults")
    clip_norm: float = 1.0
    # a fold's model averages the class probabilities of this many epochs of lowest validation loss (a
    # checkpoint ensemble, models.CheckpointEnsemble; 1: the best epoch alone): with clipping it ended the
    # clean misses of the dynamics suite (README, "Why these defaults")
    checkpoints: int = 5
    # random mirror, rotation, scale, shift and time warps of training clips, drawn afresh every epoch: it
    # lifted both graph models on every hard variant of the dynamics suite (hard mean 0.86-0.87 to 0.92;
    # README, "Why these defaults"); the papers' presets train without it
    augment: bool = True

    def __post_init__(self) -> None:
        _check_positive(self, "epochs", "batch_size", "lr", "decay_rate", "decay_steps", "checkpoints")
        _check_off_or_positive(self, "patience", "weight_decay", "clip_norm")

    def fit_settings(self, epochs: int | None = None, lr: float | None = None) -> FitSettings:
        """What ``experiments.training.fit`` takes of these settings, for every branch; a training stage of
        its own length or learning rate (the image branch's frozen and fine-tuning stages) gives them."""
        return FitSettings(
            self.epochs if epochs is None else epochs, self.batch_size, self.lr if lr is None else lr,
            self.decay_rate, self.decay_steps, self.patience, self.weight_decay, self.clip_norm, self.checkpoints,
        )


@dataclass
class ExecutionSettings:
    seed: int = 0  # same seed, same jobs, same machine: same numbers
    jobs: int = 1  # folds trained at once in worker processes, which share the machine's threads
    scheduler: str | None = None  # a Dask scheduler's address (tcp://host:8786): folds train on its workers

    def __post_init__(self) -> None:
        _check_positive(self, "jobs")


GROUPS = {"data": DataSettings, "protocol": ProtocolSettings, "optimiser": OptimiserSettings,
          "execution": ExecutionSettings}


def group_flat(values: dict[str, Any], groups: dict[str, type] | None = None,
               default_model: str = ModelSettings.name) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Flat settings to (the groups, built; the model name; the model options: every name of no group).
    ``groups`` are a branch's groups (the graph branch's ``GROUPS`` by default)."""
    groups = GROUPS if groups is None else groups
    values = dict(values)
    model_name = values.pop("model", default_model)
    grouped: dict[str, dict] = {name: {} for name in groups}
    for name, group in groups.items():
        for entry in fields(group):
            if entry.name in values:
                grouped[name][entry.name] = values.pop(entry.name)
    try:
        built = {name: groups[name](**grouped[name]) for name in groups}
    except TypeError as error:  # e.g. a string where a number belongs, from Python
        raise SettingsError(str(error)) from None
    return built, model_name, values


def preset_values(presets: dict[str, dict], preset: str | None, flat: dict[str, Any]) -> dict[str, Any]:
    """A branch's flat settings: the preset's values (when one is named), then ``flat`` (None values are
    ignored: an option the user did not give)."""
    values: dict[str, Any] = {}
    if preset is not None:
        if preset not in presets:
            raise SettingsError(f"unknown preset {preset!r}; choose one of {', '.join(presets)}")
        values.update(presets[preset])
    values.update({name: value for name, value in flat.items() if value is not None})
    return values


def flat_setting_names(groups: dict[str, type] | None = None) -> list[str]:
    """Every flat name ``settings_for`` places in a group; ``model`` names the model."""
    return ["model", *(f.name for group in (GROUPS if groups is None else groups).values() for f in fields(group))]


def setting_default(name: str, groups: dict[str, type] | None = None, default_model: str = ModelSettings.name) -> Any:
    """The default of a flat setting, for help texts (so no help restates a default by hand)."""
    if name == "model":
        return default_model
    for group in (GROUPS if groups is None else groups).values():
        for entry in fields(group):
            if entry.name == name:
                return entry.default if entry.default is not MISSING else entry.default_factory()
    raise KeyError(name)
