"""Deep features + classical learners: a frozen CNN's features of the face crops and/or hand-crafted landmark
features, then standardise -> feature selection -> SMOTE -> classifier, fitted inside each training part of
the same subject-grouped folds as every other model, and written as the same run folder.

The published recipe for small or imbalanced expression data (FER-2013: MobileNetV2 features with ImageNet
weights, SMOTE, ant colony feature selection, a random forest of 90 trees) is the ``aco-forest`` preset; the
defaults are what measured best on the benchmark (experiments/bench/features.py): MobileNetV2 features'
clip mean and std, SMOTE, no selection, logistic regression. The steps are
an imbalanced-learn ``Pipeline`` (``build_estimator``), so SMOTE only ever sees the rows it is fitted on.
Selection comes before SMOTE: a selector that scored subsets on SMOTE's output would cross-validate
interpolations of its own validation rows. Instead, the ant colony's inner cross-validation resamples each
inner training part alone, on the fit part's subjects only (subject-grouped inner folds).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import skops.io
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from landmarks.dataset.normalize import NORMALIZATIONS

from .ant_colony import HEURISTICS, AntColonySelector
from .clip_features import IMAGE_SUMMARIES
from .fold_pipeline import FoldPipeline, restore_scaler, scaler_state
from .losses import class_weights
from .resampling import smote_neighbours
from .settings import ExecutionSettings, ProtocolSettings, SettingsError, group_flat, preset_values

SELECTORS = ("aco", "kbest", "l1", "none")
CLASSIFIERS = ("random-forest", "logistic", "svm", "gradient-boosting")
EVALUATORS = ("knn", "classifier")
DEFAULT_BACKBONE = "torchvision/mobilenet_v2"
# skops refuses to load types it is not told to trust; these are the tree structures of the classifiers above
TRUSTED_TYPES = ["sklearn.tree._tree.Tree", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


@dataclass
class FeatureDataSettings:
    label_map: str | None = None  # a label-map preset for labels from a path component
    label_component: int = 1  # path component holding the label
    subject_component: int = 0  # path component holding the subject; -1: each clip its own (still images)
    ignore_unlabelled: bool = False  # with a labels file: leave out clips it does not list
    length: int = 20  # frames per clip, evenly spaced (1 for still images)
    # image features per clip: mean, mean-std (and how much each moves: the default, by measurement,
    # experiments/bench/features.py) or frames (every frame's, in order)
    image_summary: str = "mean-std"
    size: int = 112  # crop side the backbone sees, pixels
    grey: bool = False  # greyscale crops
    normalize: str = "procrustes"  # landmark shapes' per-frame normalisation (landmark features)
    min_valid: float = 0.5  # landmark clips with a smaller share of tracked frames are excluded

    def __post_init__(self) -> None:
        if self.image_summary not in IMAGE_SUMMARIES:
            raise SettingsError(f"image_summary must be one of {', '.join(IMAGE_SUMMARIES)}, "
                                f"got {self.image_summary!r}")
        if self.normalize not in NORMALIZATIONS:
            raise SettingsError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {self.normalize!r}")
        if self.length < 1 or self.size < 16 or not 0 <= self.min_valid <= 1:
            raise SettingsError("length must be at least 1, size at least 16 pixels and min_valid in [0, 1]")
        if self.subject_component < -1 or self.label_component < 0:
            raise SettingsError("label_component is a path position from 0; subject_component too, or -1 (the clip)")


@dataclass
class BackboneSettings:
    backbone: str = DEFAULT_BACKBONE  # a timm name or torchvision/<name>: the frozen feature extractor
    pretrained: str = "imagenet"  # imagenet (from this machine's caches, never downloaded) or none
    weights: str | None = None  # a local weights file (e.g. torchvision's mobilenet_v2-b0353104.pth)
    device: str = "cpu"
    feature_cache: str | None = None  # cache folder; default <crops>/feature_cache (shared with train_image)
    feature_batch: int = 64


@dataclass
class SelectionSettings:
    # aco (ant colony), kbest (univariate), l1 (sparse linear) or none: the default by measurement
    # (experiments/bench/features.py: no selection scored best on MobileNetV2 features); aco in the preset
    selector: str = "none"
    keep: int = 64  # kbest: features kept
    l1_strength: float = 0.1  # l1: inverse regularisation strength C of the sparse linear SVM (smaller: fewer)
    ants: int = 20
    iterations: int = 20
    evaporation: float = 0.2
    alpha: float = 1.0  # weight of pheromone in an ant's choice
    beta: float = 1.0  # weight of the heuristic (mutual information with the class)
    heuristic: str = "mutual-info"  # or f-score
    inner_folds: int = 3  # subject-grouped inner folds scoring each subset (fit part only)
    # what scores a subset: 5-nearest neighbours (the default, by measurement: experiments/bench/features.py)
    # or the run's own classifier (a random forest costs ~100x a neighbour search per subset)
    evaluator: str = "knn"
    size_penalty: float = 0.01  # fitness = inner score - this x share of features taken
    max_features: int = 0  # cap on a subset's size; 0: none

    def __post_init__(self) -> None:
        for name, value, choices in (("selector", self.selector, SELECTORS), ("evaluator", self.evaluator, EVALUATORS),
                                     ("heuristic", self.heuristic, HEURISTICS)):
            if value not in choices:
                raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if min(self.keep, self.ants, self.iterations) < 1 or self.inner_folds < 2 or self.l1_strength <= 0:
            raise SettingsError("keep, ants and iterations must be at least 1, inner_folds at least 2, l1_strength > 0")
        if not 0 < self.evaporation <= 1 or self.max_features < 0:
            raise SettingsError("evaporation must be in (0, 1] and max_features >= 0")


@dataclass
class ClassifierSettings:
    # random-forest, logistic, svm or gradient-boosting: logistic by measurement (the linear model beat the
    # forest on the benchmark's features); the published forest of 90 trees is the aco-forest preset
    classifier: str = "logistic"
    trees: int = 90  # random forest: trees, as published
    regularisation: float = 1.0  # logistic and svm: inverse regularisation strength C

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIERS:
            raise SettingsError(f"classifier must be one of {', '.join(CLASSIFIERS)}, got {self.classifier!r}")
        if self.trees < 1 or self.regularisation <= 0:
            raise SettingsError("trees must be at least 1 and regularisation positive")


GROUPS = {"data": FeatureDataSettings, "backbone": BackboneSettings, "selection": SelectionSettings,
          "classifier": ClassifierSettings, "protocol": ProtocolSettings, "execution": ExecutionSettings}


@dataclass
class FeatureTrainingSettings:
    """A features run: where features come from, how they are selected and classified, the protocol."""

    data: FeatureDataSettings = field(default_factory=FeatureDataSettings)
    backbone: BackboneSettings = field(default_factory=BackboneSettings)
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    sources: tuple[str, ...] = ("image",)  # image and/or landmarks: which features the rows hold

    def __post_init__(self) -> None:
        self.sources = tuple(self.sources)
        if not self.sources or set(self.sources) - {"image", "landmarks"}:
            raise SettingsError(f"sources must be image and/or landmarks, got {self.sources}")
        if self.protocol.tune_trials:
            raise SettingsError("--tune searches graph runs' settings; a features run selects its features itself")
        if self.protocol.loss != "ce":
            raise SettingsError("the classical learners have no loss to choose: leave loss at ce (class weights "
                                "and resampling apply)")

    def make_pipeline(self) -> FeaturePipeline:
        return FeaturePipeline(self)

    def describe(self) -> str:
        inputs = " + ".join(self.sources)
        return f"{self.classifier.classifier} on {inputs} features ({self.selection.selector} selection)"

    def as_dict(self) -> dict:
        return {**{name: asdict(getattr(self, name)) for name in GROUPS}, "sources": list(self.sources)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FeatureTrainingSettings:
        return cls(**{name: GROUPS[name](**values[name]) for name in GROUPS}, sources=tuple(values["sources"]))


PRESETS: dict[str, dict] = {
    # Deep features + SMOTE + ant colony selection + random forest of 90 trees (FER-2013, 7 emotions):
    # MobileNetV2 with ImageNet weights as a frozen extractor, still images.
    "aco-forest": {"backbone": DEFAULT_BACKBONE, "resample": "smote", "selector": "aco", "ants": 20,
                   "iterations": 20, "classifier": "random-forest", "trees": 90},
}


def feature_settings_for(preset: str | None = None, sources: tuple[str, ...] = ("image",),
                         **flat: Any) -> FeatureTrainingSettings:
    """Defaults, then the preset's values, then ``flat`` (None values are ignored), each in its group."""
    values = preset_values(PRESETS, preset, flat)
    groups, _, rest = group_flat(values, GROUPS, default_model="")
    if rest:
        raise SettingsError(f"a features run takes no setting {', '.join(sorted(rest))} (settings: "
                            f"{', '.join(f.name for group in GROUPS.values() for f in fields(group))})")
    return FeatureTrainingSettings(**groups, sources=sources)


def _balancer(method: str, y_parts: list[np.ndarray], seed: int):
    """The oversampler of a pipeline fitted on each of ``y_parts``: SMOTE with as many neighbours (at most 5)
    as the smallest class of every part allows, random oversampling, or none."""
    if method == "none":
        return "passthrough"
    if method == "random":
        return RandomOverSampler(random_state=seed)
    smallest = min(int(np.bincount(y)[np.unique(y)].min()) for y in y_parts)
    return SMOTE(k_neighbors=smote_neighbours(smallest), random_state=seed)


def _classifier(settings: ClassifierSettings, seed: int, weights: dict | None):
    name = settings.classifier
    if name == "random-forest":
        return RandomForestClassifier(settings.trees, class_weight=weights, random_state=seed, n_jobs=1)
    if name == "logistic":
        return LogisticRegression(C=settings.regularisation, class_weight=weights, max_iter=5000)
    if name == "svm":
        return SVC(C=settings.regularisation, class_weight=weights, probability=True, random_state=seed)
    return HistGradientBoostingClassifier(class_weight=weights, random_state=seed)


def inner_splits(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> list:
    """Subject-grouped, stratified inner folds of a fit part (for the ant colony's subset scores)."""
    distinct = len(np.unique(groups))
    if distinct < folds:
        raise ValueError(f"the fit part holds {distinct} subject(s), fewer than the ant colony's {folds} inner folds; "
                         f"lower --inner-folds or use another selector")
    return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(y, y, groups))


def build_estimator(settings: FeatureTrainingSettings, y: np.ndarray, groups: np.ndarray, seed: int,
                    features: int) -> Pipeline:
    """The unfitted imbalanced-learn pipeline (standardise, select, balance, classify) for a fit part with
    labels ``y``, subjects ``groups`` and ``features`` columns; fit it with ``fit(X, y)`` (the ant colony's
    subject-grouped inner folds are drawn here, from ``groups``)."""
    selection, protocol = settings.selection, settings.protocol
    counts = np.bincount(y)
    weights = class_weights(y, len(counts), protocol.class_weights)
    weights = None if weights is None else {i: float(w) for i, w in enumerate(weights)}
    classifier = _classifier(settings.classifier, seed, weights)
    if selection.selector == "aco":
        splits = inner_splits(y, groups, selection.inner_folds, seed)
        evaluator = KNeighborsClassifier(5) if selection.evaluator == "knn" else classifier
        inner = Pipeline([("balance", _balancer(protocol.resample, [y[train] for train, _ in splits], seed)),
                          ("classify", evaluator)])
        selector = AntColonySelector(inner, n_ants=selection.ants, n_iterations=selection.iterations,
                                     evaporation=selection.evaporation, alpha=selection.alpha, beta=selection.beta,
                                     heuristic=selection.heuristic, cv=splits, size_penalty=selection.size_penalty,
                                     max_features=selection.max_features or None, random_state=seed)
    elif selection.selector == "kbest":
        selector = SelectKBest(f_classif, k=min(selection.keep, features))
    elif selection.selector == "l1":
        selector = SelectFromModel(LinearSVC(C=selection.l1_strength, penalty="l1", dual=False, max_iter=20000))
    else:
        selector = "passthrough"
    return Pipeline([("standardise", StandardScaler()), ("select", selector),
                     ("balance", _balancer(protocol.resample, [y], seed)), ("classify", classifier)])


class FeaturePipeline(FoldPipeline):
    """``build_estimator``'s pipeline fitted on one fold's fit part (``FeatureRows``: features with each
    clip's subject). Its facts: features in and selected, synthetic rows, the ant colony's search."""

    kind = "features"

    def __init__(self, settings: FeatureTrainingSettings) -> None:
        self.settings = settings

    def fit(self, X, y, X_val, y_val, *, classes, seed, description="", on_epoch=None) -> FeaturePipeline:
        self.classes_ = list(classes)
        self.names_ = list(X.names)
        estimator = build_estimator(self.settings, y, X.groups, seed, X.values.shape[1])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*constant.*", category=UserWarning)  # SelectKBest: std 0
            warnings.filterwarnings("ignore", category=RuntimeWarning)  # f_classif on constant columns
            estimator.fit(X.values, y)
        selector = estimator.named_steps["select"]
        self.scaler_ = estimator.named_steps["standardise"]
        self.support_ = np.ones(len(self.names_), bool) if selector == "passthrough" else selector.get_support()
        self.model_ = estimator.named_steps["classify"]
        balance = estimator.named_steps["balance"]
        synthetic = 0 if balance == "passthrough" else int(sum(balance.sampling_strategy_.values()))
        self.facts_ = {"features": len(self.names_), "selected_features": int(self.support_.sum()),
                       "synthetic_clips": synthetic, "classes_seen": [self.classes_[i] for i in self.model_.classes_]}
        if isinstance(selector, AntColonySelector):
            self.facts_["selection"] = {"inner_score": round(selector.best_score_, 6),
                                        "subsets_scored": selector.n_evaluations_, "history": selector.history_}
        self.history_ = {"train_loss": [], "val_loss": [], "val_accuracy": [], "best_epoch": 0}
        if on_epoch is not None:
            on_epoch(1)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, classes); a class the fit part lacked gets probability 0."""
        values = X.values if hasattr(X, "values") else np.asarray(X)
        seen = self.model_.predict_proba(self.scaler_.transform(values)[:, self.support_])
        probabilities = np.zeros((len(values), len(self.classes_)))
        probabilities[:, self.model_.classes_] = seen
        return probabilities

    def state(self) -> dict:
        return {"settings": self.settings.as_dict(), "classes": self.classes_, "names": self.names_,
                "scaler": scaler_state(self.scaler_), "support": torch.from_numpy(self.support_.copy()),
                # scikit-learn models as skops bytes (a safe format: no pickle is run when they are read)
                "model": torch.frombuffer(bytearray(skops.io.dumps(self.model_)), dtype=torch.uint8)}

    @classmethod
    def from_state(cls, state: dict) -> FeaturePipeline:
        pipeline = cls(FeatureTrainingSettings.from_dict(state["settings"]))
        pipeline.classes_ = list(state["classes"])
        pipeline.names_ = list(state["names"])
        pipeline.scaler_ = restore_scaler(StandardScaler(), state["scaler"])
        pipeline.support_ = state["support"].numpy().astype(bool)
        pipeline.model_ = skops.io.loads(state["model"].numpy().tobytes(), trusted=TRUSTED_TYPES)
        return pipeline

