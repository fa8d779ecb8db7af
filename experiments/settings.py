"""Every setting of a graph-model training run, the presets that reproduce the papers' set-ups, and what
settings describe: the data set as a run loads it (``GraphTrainingSettings.load_dataset``) and the untrained
model (``build_model``), so a finished run's config.json rebuilds both."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields

import torch

import models
from landmarks import LandmarkDataset, ShapeNormalizer, load_dataset

NORMALIZATIONS = ("eyes", "nose", "procrustes", "none")


@dataclass
class GraphTrainingSettings:
    # model
    model: str = "stgcn-lstm"
    head: str | None = None  # sequence head of stgcn-lstm (lstm, bilstm, attention, stacked); None = its default
    head_sizes: tuple[int, ...] | None = None  # LSTM widths of that head (one per layer of "stacked"); None = default
    graph: str = "anatomical"
    implementation: str = "dense"
    # protocol
    folds: int = 5
    validation_share: float = 0.2
    resample: str = "smote"
    class_weights: str = "none"
    loss: str = "ce"
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    # optimisation
    epochs: int = 150
    batch_size: int = 10
    lr: float = 1e-4
    decay_rate: float = 0.96
    decay_steps: int = 1000
    patience: int = 0
    augment: bool = False
    seed: int = 0
    jobs: int = 1  # folds trained at once in worker processes, which share the machine's threads between them
    # data set
    label_map: str | None = None
    label_component: int = 1
    subject_component: int = 0
    length: int = 20
    length_mode: str = "resample"
    normalize: str = "eyes"
    velocity: bool = False
    min_valid: float = 0.5
    ignore_unlabelled: bool = False  # with a labels file: leave out landmark CSVs it does not list (warned)

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {self.normalize!r}")
        if not 0 < self.validation_share < 1:
            raise ValueError(f"validation_share must be between 0 and 1, got {self.validation_share}")
        if self.head_sizes is not None:
            self.head_sizes = tuple(int(size) for size in self.head_sizes)
            if not self.head_sizes or min(self.head_sizes) < 1:
                raise ValueError(f"head_sizes must be positive LSTM widths, got {self.head_sizes}")
            self.head_options()  # a width count the head cannot take fails here, before any data is read
        for name in ("epochs", "batch_size", "folds", "length", "jobs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    def load_dataset(self, landmarks: str | os.PathLike, labels: str | os.PathLike | None = None) -> LandmarkDataset:
        """The landmark CSVs under ``landmarks`` as these settings shape them (label map, path components,
        length, gaps, normalisation, velocity): how a run loads its data, and how new clips must be loaded
        for a trained fold model."""
        return load_dataset(
            landmarks, labels, label_component=self.label_component, label_map=self.label_map,
            subject_component=self.subject_component, length=self.length, length_mode=self.length_mode,
            min_valid=self.min_valid, normalizer=self.normalizer(), velocity=self.velocity,
            ignore_unlabelled=self.ignore_unlabelled,
        )

    def normalizer(self) -> ShapeNormalizer:
        return {
            "eyes": ShapeNormalizer(centre="eyes"),
            "nose": ShapeNormalizer(centre="nose"),
            "procrustes": ShapeNormalizer(procrustes=True),
            "none": ShapeNormalizer(centre=None, scale=False, level=False),
        }[self.normalize]

    def head_options(self) -> dict:
        """Options of the sequence head that ``head_sizes`` sets: every width for ``stacked``, one otherwise."""
        if self.head_sizes is None:
            return {}
        if (self.head or "stacked") == "stacked":
            return {"hidden_sizes": self.head_sizes}
        if len(self.head_sizes) != 1:
            raise ValueError(
                f"head {self.head!r} has one LSTM layer: give head_sizes (--head-sizes) one width, not "
                f"{self.head_sizes} (a preset's stacked widths do not apply to it)"
            )
        return {"hidden_size": self.head_sizes[0]}

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, dict] = {
    # Ridouan et al.: STGCN-LSTM (two stacked LSTM layers of 15 and 20 units), SMOTE, Adam 1e-4 decayed
    # 0.96 every 1000 steps, 150 epochs, batch 10, five folds, pain vs no pain.
    "ridouan2025": {
        "model": "stgcn-lstm", "head": "stacked", "head_sizes": (15, 20), "resample": "smote",
        "class_weights": "none", "loss": "ce", "lr": 1e-4, "decay_rate": 0.96, "decay_steps": 1000, "epochs": 150,
        "batch_size": 10, "folds": 5, "label_map": "pemf-binary",
    },
    # Agam et al.: three classes (phasic / tonic / neutral), focal loss (alpha 0.25, gamma 2) with
    # conservative class weights instead of oversampling; same optimiser and schedule.
    "agam2026": {
        "model": "stgcn-lstm", "head": "stacked", "resample": "none", "class_weights": "conservative",
        "loss": "focal", "focal_alpha": 0.25, "focal_gamma": 2.0, "lr": 1e-4, "decay_rate": 0.96,
        "decay_steps": 1000, "epochs": 150, "batch_size": 10, "folds": 5, "label_map": "phasic-tonic",
    },
}


def settings_for(preset: str | None = None, **overrides) -> GraphTrainingSettings:
    """Defaults, then the preset's values, then ``overrides`` (None values are ignored)."""
    values = {}
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        values.update(PRESETS[preset])
    known = {f.name for f in fields(GraphTrainingSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown training setting(s) {', '.join(unknown)}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return GraphTrainingSettings(**values)


def build_model(settings: GraphTrainingSettings, num_classes: int, in_channels: int) -> torch.nn.Module:
    """The untrained model ``settings`` describe, for ``num_classes`` classes and ``in_channels`` coordinate
    channels (2, or 4 with velocity)."""
    options = {"graph": settings.graph, "in_channels": in_channels}
    if settings.model in ("stgcn", "stgcn-lstm", "stgcn-yan2018"):
        options["implementation"] = settings.implementation
    if settings.head is not None or settings.head_sizes is not None:
        if settings.model != "stgcn-lstm":
            raise ValueError(f"--head and --head-sizes apply to stgcn-lstm only, not to {settings.model}")
        if settings.head is not None:
            options["head"] = settings.head
        options["head_options"] = settings.head_options()
    return models.create(settings.model, num_classes, **options)
