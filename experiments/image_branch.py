"""The image branch: clips of face crops into image models (ConvNeXt-LSTM, MobileNetV3-LSTM, frame CNNs),
under the same cross-validation engine, protocol and run folder as the graph branch.

Two ways to train, chosen by ``TransferSettings.finetune``:

- frozen backbone (the default, fast on a CPU): the backbone runs once per frame over the data set and its
  features are cached on disk (``experiments.feature_cache``); in every fold ``ImageFeaturePipeline``
  standardises the feature sequences, oversamples them (SMOTE or random) and trains the head, all on the
  fold's fit part.
- fine-tuning (``finetune=True``; a GPU with ``device="cuda"``, or a small backbone on the CPU):
  ``ImageFinetunePipeline`` trains the whole model on the crops in two stages, backbone frozen for
  ``frozen_epochs``, then unfrozen with the lower ``finetune_lr``; clip-level augmentation applies here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA

import models
from landmarks import Standardizer
from landmarks.dataset.normalize import RELATIVE_TO, relative_to
from models.backbones import PRETRAINED, WeightsSource, resolve_weights
from models.image import ImageModelSpec, image_model_spec

from .feature_cache import FeatureCache, normalise_frames
from .fold_pipeline import FoldPipeline, restore_scaler, scaler_state
from .image_augment import ClipAugmentation
from .image_data import CropClips, ImageDataset, load_image_dataset
from .losses import class_weights, make_loss
from .resampling import oversample
from .settings import (
    ExecutionSettings,
    OptimiserSettings,
    ProtocolSettings,
    SettingsError,
    group_flat,
    preset_values,
)
from .training import ArrayBatches, FitHistory, fit, predict_proba

DEFAULT_IMAGE_MODEL = "mobilenetv3-lstm"


@dataclass
class ImageDataSettings:
    label_map: str | None = None  # a label-map preset for labels from a path component
    label_component: int = 1  # path component holding the label
    subject_component: int = 0  # path component holding the subject (-1: the clip itself, for still images)
    ignore_unlabelled: bool = False  # with a labels file: leave out crop files it does not list
    length: int = 20  # frames per clip, evenly spaced (a still image repeats its one frame: use 1 for stills)
    size: int = 112  # input side in pixels (crops of another side are resized)
    grey: bool = False  # greyscale input, repeated over the three channels
    # frozen backbone: each frame's features minus the clip's mean (clip-mean) or first frame's, the person's
    # look removed and its change kept, as the landmark branch's shapes; the default by measurement (README,
    # the image branch's figures). Fine-tuning sees the crops as they are.
    relative: str = "clip-mean"

    def __post_init__(self) -> None:
        if self.relative not in RELATIVE_TO:
            raise SettingsError(f"relative must be one of {', '.join(RELATIVE_TO)}, got {self.relative!r}")
        if self.length < 1 or self.size < 16:
            raise SettingsError(f"length must be at least 1 and size at least 16 pixels, got {self.length}, "
                                f"{self.size}")

    def load(self, crops: str | os.PathLike, labels: str | os.PathLike | None = None) -> ImageDataset:
        return load_image_dataset(crops, labels, label_component=self.label_component, label_map=self.label_map,
                                  subject_component=self.subject_component, ignore_unlabelled=self.ignore_unlabelled,
                                  length=self.length, size=self.size, grey=self.grey)


@dataclass
class TransferSettings:
    pretrained: str = "imagenet"  # imagenet (from this machine's caches, never downloaded) or none (from scratch)
    weights: str | None = None  # a local weights file for the backbone instead
    finetune: bool = False  # train the backbone too (two stages); default: frozen backbone, cached features
    frozen_epochs: int = 3  # fine-tuning: epochs of stage one, backbone frozen
    finetune_lr: float = 1e-4  # fine-tuning: learning rate of stage two, backbone unfrozen
    device: str = "cpu"  # where the backbone runs: cpu, cuda, cuda:1 ...
    feature_cache: str | None = None  # cache folder of frozen-backbone features; default <crops>/feature_cache
    feature_batch: int = 64  # frames per backbone batch in the feature pass
    # frozen backbone: frame features reduced to this many principal components inside each fold (fitted on
    # its fit part); 0 (the default, by measurement: README, the image branch's figures) keeps them all
    feature_dims: int = 0

    def __post_init__(self) -> None:
        if self.pretrained not in PRETRAINED:
            raise SettingsError(f"pretrained must be one of {', '.join(PRETRAINED)}, got {self.pretrained!r}")
        if self.frozen_epochs < 0 or self.finetune_lr <= 0 or self.feature_batch < 1 or self.feature_dims < 0:
            raise SettingsError("frozen_epochs must be >= 0, finetune_lr > 0, feature_batch >= 1 and feature_dims >= 0")
        try:
            torch.device(self.device)
        except RuntimeError:
            raise SettingsError(f"device {self.device!r} is not a torch device (cpu, cuda, cuda:0 ...)") from None


@dataclass
class ImageModelSettings:
    name: str = DEFAULT_IMAGE_MODEL  # a registered image model (models.available_models("frames"))
    options: dict = field(default_factory=dict)  # backbone, head, head_sizes, dropout, variant

    def __post_init__(self) -> None:
        names = tuple(models.available_models("frames"))
        if self.name not in names:
            raise SettingsError(f"model must be one of {', '.join(names)} (image models), got {self.name!r}")
        self.options = dict(self.options)

    def spec(self) -> ImageModelSpec:
        return image_model_spec(self.name, **self.options)


@dataclass
class ImageOptimiserSettings(OptimiserSettings):
    """The graph branch's optimiser settings with the image heads' measured default batch size (README, the
    image branch's figures): on cached features a step is cheap, and 32 clips a step halve a sweep's time.
    Augmentation moves pixels, which only fine-tuning sees (cached features are computed once), so it is off
    unless asked for; gradients are not clipped and a fold keeps its best epoch alone, as measured."""

    batch_size: int = 32
    augment: bool = False
    # the graph models' clipping and checkpoint ensemble were measured on landmarks, not on the image heads
    clip_norm: float = 0.0
    checkpoints: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.checkpoints != 1:
            raise SettingsError(f"image runs keep their best epoch alone (checkpoints 1), got checkpoints "
                                f"{self.checkpoints}; a checkpoint ensemble is a graph-run option")


GROUPS = {"data": ImageDataSettings, "transfer": TransferSettings, "protocol": ProtocolSettings,
          "optimiser": ImageOptimiserSettings, "execution": ExecutionSettings}


@dataclass
class ImageTrainingSettings:
    """Everything an image-model run is made of, checked when made: the model's options, the backbone's
    name and the pretrained weights (a missing weights file stops here, before anything is read)."""

    data: ImageDataSettings = field(default_factory=ImageDataSettings)
    model: ImageModelSettings = field(default_factory=ImageModelSettings)
    transfer: TransferSettings = field(default_factory=TransferSettings)
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)
    optimiser: ImageOptimiserSettings = field(default_factory=ImageOptimiserSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    weights_source: WeightsSource | None = None  # resolved when made (not a setting)

    def __post_init__(self) -> None:
        try:
            self.spec = self.model.spec()
        except (TypeError, ValueError) as error:
            raise SettingsError(f"{error}; see help(models.create) and models.image") from None
        if self.protocol.tune_trials:
            raise SettingsError("--tune searches graph runs' settings; it does not take image runs yet")
        if not self.protocol.validation_share:
            raise SettingsError("image runs choose their epoch on validation subjects: give validation_share above "
                                "0 (default 0.2)")
        if self.transfer.finetune and self.protocol.resample == "smote":
            raise SettingsError("SMOTE interpolates feature sequences, not pixels: fine-tuning takes resample=random "
                                "or none (--resample)")
        if self.optimiser.augment and not self.transfer.finetune:
            raise SettingsError("augment moves pixels, and a frozen backbone's features are computed once: "
                                "augmentation takes --finetune yes")
        if self.weights_source is None:
            self.weights_source = resolve_weights(self.spec.backbone, self.transfer.pretrained, self.transfer.weights)

    def build_model(self, num_classes: int) -> models.FrameSequenceModel:
        """The untrained image model with its initial backbone weights."""
        return self.spec.build(num_classes, weights_source=self.weights_source)

    def make_pipeline(self) -> FoldPipeline:
        return ImageFinetunePipeline(self) if self.transfer.finetune else ImageFeaturePipeline(self)

    def describe(self) -> str:
        return f"{self.model.name} ({self.spec.backbone}, {self.spec.head})"

    def as_dict(self) -> dict:
        """The settings as a run records them (config.json), the model's options completed with their
        defaults (backbone, head widths ...): the record rebuilds the model trained whatever later versions
        make the defaults."""
        values = {name: asdict(getattr(self, name)) for name in ("model", *GROUPS)}
        values["model"]["options"] = {**self.model.options, **self.spec.options()}
        values["weights_source"] = self.weights_source.as_dict()
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ImageTrainingSettings:
        unknown = set(values) - {"model", "weights_source", *GROUPS}
        if unknown or "model" not in values:
            raise SettingsError(f"not the settings of an image run (groups {sorted(values)}); re-run it")
        groups = {name: GROUPS[name](**values.get(name, {})) for name in GROUPS}
        source = WeightsSource(**values["weights_source"]) if values.get("weights_source") else None
        return cls(model=ImageModelSettings(**values["model"]), weights_source=source, **groups)

    def frozen_backbone(self) -> torch.nn.Module:
        """This run's frozen backbone: its initial weights (ImageNet, a file, or the seed's), built the same
        way every time, so the features of new clips are those the run's heads were trained on."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.execution.seed)
            return self.build_model(2).backbone

    def feature_cache(self, crops_dir: str | os.PathLike) -> FeatureCache:
        """The cache of this run's frozen backbone's features of the crops under ``crops_dir``."""
        backbone = self.frozen_backbone()
        root = self.transfer.feature_cache or Path(crops_dir) / "feature_cache"
        return FeatureCache(root, backbone, self.spec.backbone, crops_dir, self.transfer.device)


PRESETS: dict[str, dict] = {
    # Ridouan et al.: ConvNeXt-XL on PEMF frames with stacked LSTM layers, Adam 1e-4 decayed 0.96 every
    # 1000 steps, 150 epochs, batch 10, SMOTE, pain vs no pain, 224 px.
    "ridouan2025": {
        "model": "convnext-lstm", "backbone": "convnext_xlarge", "head": "stacked", "size": 224,
        "resample": "smote", "class_weights": "none", "loss": "ce", "lr": 1e-4, "decay_rate": 0.96,
        "decay_steps": 1000, "epochs": 150, "batch_size": 10, "folds": 5, "label_map": "pemf-binary",
        "relative": "none", "projection": 0,
    },
    # Agam et al.: MobileNetV3-Large + LSTM, phasic / tonic / neutral, focal loss with conservative class
    # weights, two-stage transfer (frozen, then fine-tuned at a lower rate) with their augmentation, 224 px.
    "agam2026": {
        "model": "mobilenetv3-lstm", "variant": "large", "head": "lstm", "size": 224, "resample": "none",
        "class_weights": "conservative", "loss": "focal", "focal_alpha": 0.25, "focal_gamma": 2.0, "lr": 1e-4,
        "finetune": True, "frozen_epochs": 10, "finetune_lr": 1e-5, "augment": True, "epochs": 50,
        "batch_size": 10, "folds": 5, "label_map": "phasic-tonic", "relative": "none", "projection": 0,
    },
}


def image_settings_for(preset: str | None = None, **flat: Any) -> ImageTrainingSettings:
    """Defaults, then the preset's values, then ``flat`` (None values are ignored), each placed in its
    group; names of no group are options of the model (backbone, head, variant ...)."""
    values = preset_values(PRESETS, preset, flat)
    groups, model_name, options = group_flat(values, GROUPS, DEFAULT_IMAGE_MODEL)
    return ImageTrainingSettings(model=ImageModelSettings(model_name, options), **groups)


def prepare_inputs(dataset: ImageDataset, settings: ImageTrainingSettings, progress: bool = True) -> ImageDataset:
    """The data set as its pipelines take it: crops for fine-tuning, cached frame features otherwise."""
    if settings.transfer.finetune:
        return dataset
    cache = settings.feature_cache(dataset.crops_dir)
    features = cache.features(dataset.X, settings.transfer.feature_batch, progress)
    return dataset.with_inputs(features)


def _loss(protocol: ProtocolSettings, y: np.ndarray, num_classes: int):
    weights = class_weights(y, num_classes, protocol.class_weights)
    return make_loss(protocol.loss, weights, protocol.focal_alpha, protocol.focal_gamma), weights


class ImageFeaturePipeline(FoldPipeline):
    """Clip-relative features (``relative``) -> standardiser (per feature) -> principal components
    (``feature_dims``, off by default) -> oversampling (on flattened feature sequences) -> the head (by
    default with its learned 64-wide projection first), every step fitted on the fit part of one fold.
    Input: cached frame features (N, T, F) of a frozen backbone (``prepare_inputs``)."""

    kind = "image-features"

    def __init__(self, settings: ImageTrainingSettings) -> None:
        self.settings = settings
        self.planned_epochs = settings.optimiser.epochs

    def _relative(self, X: np.ndarray) -> np.ndarray:
        """Feature sequences (N, T, F) relative to each clip's own mean or first frame (the time axis is the
        one ``relative_to`` takes from landmark clips (..., T, 68, 2), hence the added axis)."""
        return relative_to(np.asarray(X, dtype=np.float64)[..., None], self.settings.data.relative)[..., 0]

    def _fit_projection(self, standardised: np.ndarray, seed: int) -> None:
        """Principal axes of the fit part's standardised frames (N, T, F); scores scaled to unit variance."""
        frames = standardised.reshape(-1, standardised.shape[-1])
        dims = self.settings.transfer.feature_dims
        if not dims or dims >= min(frames.shape):
            self.axes_ = None
            return
        pca = PCA(dims, random_state=seed).fit(frames)
        self.axes_ = (pca.mean_, pca.components_, float(np.sqrt(pca.explained_variance_.mean())))

    def _project(self, standardised: np.ndarray) -> np.ndarray:
        if self.axes_ is None:
            return standardised.astype(np.float32)
        mean, components, scale = self.axes_
        return (((standardised - mean) @ components.T) / scale).astype(np.float32)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Feature sequences as the head takes them (fitted steps only)."""
        return self._project(self.standardizer_.transform(self._relative(X)))

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> ImageFeaturePipeline:
        protocol, optimiser = self.settings.protocol, self.settings.optimiser
        self.classes_ = list(classes)
        relative = self._relative(X)
        self.standardizer_ = Standardizer().fit(relative)  # statistics of real training clips only
        standardised = self.standardizer_.transform(relative)
        self._fit_projection(standardised, seed)
        X_fit, y_fit, synthetic = oversample(self._project(standardised), y, protocol.resample, seed,
                                             class_names=self.classes_)
        loss_fn, weights = _loss(protocol, y_fit, len(self.classes_))
        torch.manual_seed(seed)
        self.head_ = self.settings.spec.build_head(X_fit.shape[-1], len(self.classes_))
        batches = ArrayBatches(X_fit, y_fit, optimiser.batch_size, seed, torch.as_tensor)
        validation = (torch.as_tensor(self.transform(X_val)), torch.as_tensor(y_val, dtype=torch.long))
        schedule = optimiser.fit_settings()
        history = fit(self.head_, batches, validation, loss_fn, schedule, description=description, on_epoch=on_epoch,
                      progress_bar=on_epoch is None)
        self.facts_ = {
            "synthetic_clips": int(synthetic.sum()), "feature_dims": int(X_fit.shape[-1]),
            "best_epoch": history.best_epoch + 1, "epochs_run": len(history.train_loss),
            "optimiser_steps": history.optimiser_steps,
            "class_weights": None if weights is None else [round(float(w), 6) for w in weights],
        }
        self.history_ = history.curves()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for feature sequences (N, T, F) of this run's backbone."""
        return predict_proba(self.head_, torch.as_tensor(self.transform(X)))

    def state(self) -> dict:
        state = {"settings": self.settings.as_dict(), "classes": self.classes_,
                 "in_features": len(self.standardizer_.mean_), "standardizer": scaler_state(self.standardizer_),
                 "head": self.head_.state_dict()}
        if self.axes_ is not None:
            mean, components, scale = self.axes_
            state["axes"] = {"mean": torch.from_numpy(mean), "components": torch.from_numpy(components),
                             "scale": torch.tensor(scale, dtype=torch.float64)}
        return state

    @classmethod
    def from_state(cls, state: dict) -> ImageFeaturePipeline:
        pipeline = cls(ImageTrainingSettings.from_dict(state["settings"]))
        pipeline.classes_ = list(state["classes"])
        pipeline.standardizer_ = restore_scaler(Standardizer(), state["standardizer"])
        axes = state.get("axes")
        pipeline.axes_ = None if axes is None else (axes["mean"].numpy(), axes["components"].numpy(),
                                                    float(axes["scale"]))
        width = state["in_features"] if axes is None else len(axes["components"])
        pipeline.head_ = pipeline.settings.spec.build_head(width, len(pipeline.classes_))
        pipeline.head_.load_state_dict(state["head"])
        pipeline.head_.eval()
        return pipeline


class ImageFinetunePipeline(FoldPipeline):
    """The whole image model trained on crops in two stages: backbone frozen for ``frozen_epochs`` (the head
    learns on fixed features), then unfrozen with ``finetune_lr``; each stage keeps its epoch of lowest
    validation loss. Random oversampling repeats clips; augmentation moves whole clips. Input: ``CropClips``
    (or crops (N, T, H, W, 3) uint8)."""

    kind = "image"

    def __init__(self, settings: ImageTrainingSettings) -> None:
        self.settings = settings
        self.planned_epochs = settings.optimiser.epochs

    def _tensor(self, crops: np.ndarray) -> torch.Tensor:
        return normalise_frames(crops, self.model_.backbone.mean, self.model_.backbone.std)

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> ImageFinetunePipeline:
        protocol, optimiser, transfer = self.settings.protocol, self.settings.optimiser, self.settings.transfer
        self.classes_ = list(classes)
        crops = X.load() if isinstance(X, CropClips) else np.asarray(X)
        rows, y_fit, synthetic = oversample(np.arange(len(crops))[:, None], y, protocol.resample, seed,
                                            class_names=self.classes_)
        crops = crops[rows[:, 0]]
        loss_fn, weights = _loss(protocol, y_fit, len(self.classes_))
        torch.manual_seed(seed)
        self.model_ = self.settings.build_model(len(self.classes_)).to(transfer.device)
        augment = ClipAugmentation() if optimiser.augment else None
        batches = ArrayBatches(crops, y_fit, optimiser.batch_size, seed, self._tensor, transform=augment)
        val_crops = X_val.load() if isinstance(X_val, CropClips) else np.asarray(X_val)
        validation = (self._tensor(val_crops), torch.as_tensor(y_val, dtype=torch.long))
        frozen = min(transfer.frozen_epochs, optimiser.epochs)
        stages = [(frozen, optimiser.lr, True), (optimiser.epochs - frozen, transfer.finetune_lr, False)]
        histories, done = [], 0
        for epochs, lr, backbone_frozen in stages:
            if not epochs:
                continue
            self.model_.freeze_backbone(backbone_frozen)
            report = None if on_epoch is None else (lambda epoch, before=done: on_epoch(before + epoch))
            histories.append(fit(self.model_, batches, validation, loss_fn, optimiser.fit_settings(epochs, lr),
                                 description=f"{description} {'frozen' if backbone_frozen else 'fine-tuning'}",
                                 on_epoch=report, progress_bar=on_epoch is None))
            done += epochs
        self.model_.freeze_backbone(False)
        history = FitHistory(
            sum((h.train_loss for h in histories), []), sum((h.val_loss for h in histories), []),
            sum((h.val_accuracy for h in histories), []),
            # the model kept is the last stage's best epoch
            histories[-1].best_epoch + sum(len(h.train_loss) for h in histories[:-1]),
            sum(h.optimiser_steps for h in histories),
        )
        self.facts_ = {
            "synthetic_clips": int(synthetic.sum()), "frozen_epochs": frozen,
            "finetune_epochs": optimiser.epochs - frozen,
            "best_epoch": history.best_epoch + 1, "epochs_run": len(history.train_loss),
            "optimiser_steps": history.optimiser_steps,
            "class_weights": None if weights is None else [round(float(w), 6) for w in weights],
        }
        self.history_ = history.curves()
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, classes) for crop clips (``CropClips`` or (N, T, H, W, 3) uint8)."""
        clips = X if isinstance(X, CropClips) else None
        total = len(X)
        out = []
        for first in range(0, total, 16):
            part = clips[first : first + 16].load() if clips is not None else np.asarray(X[first : first + 16])
            out.append(predict_proba(self.model_, self._tensor(part), batch_size=8))
        return np.concatenate(out)

    def state(self) -> dict:
        return {"settings": self.settings.as_dict(), "classes": self.classes_, "model": self.model_.state_dict()}

    @classmethod
    def from_state(cls, state: dict) -> ImageFinetunePipeline:
        settings = ImageTrainingSettings.from_dict(state["settings"])
        pipeline = cls(settings)
        pipeline.classes_ = list(state["classes"])
        pipeline.model_ = settings.spec.build(len(pipeline.classes_), pretrained="none")  # weights come from the state
        pipeline.model_.load_state_dict(state["model"])
        pipeline.model_.to(settings.transfer.device if torch.cuda.is_available() else "cpu").eval()
        return pipeline


def describe_weights(settings: ImageTrainingSettings) -> str:
    """One line on where the backbone's initial weights come from, printed before a run."""
    source = settings.weights_source
    if source.kind == "none":
        return f"backbone {settings.spec.backbone}: random initial weights (--pretrained none), from the seed"
    return f"backbone {settings.spec.backbone}: {source.kind} weights {source.path} (sha256 {source.sha256[:12]}...)"

