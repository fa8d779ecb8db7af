"""Ant colony feature selection as a scikit-learn selector (``fit``, ``transform``, ``get_support``; works in a
``Pipeline``, with ``clone`` and ``GridSearchCV``).

Written here because no well-kept library does it: the PyPI candidates are a continuous-ACO framework that
pins numpy 1.26, a GPL-3 package and a one-author alpha. The algorithm is the binary ant system used for
feature selection (each ant decides, feature by feature, to take it or leave it) with the MAX-MIN ant
system's bounded pheromone (Stützle & Hoos, 2000), which keeps the colony from freezing on its first good
subset:

- every feature j has two pheromone trails, ``take`` and ``leave``, and a heuristic desirability h_j in
  [0, 1] (its mutual information with the class, or its ANOVA F, scaled by the largest);
- an ant takes feature j with probability take_j^a (h_j + e)^b / (take_j^a (h_j + e)^b + leave_j^a (1 - h_j + e)^b)
  (a = ``alpha``, b = ``beta``, e = 0.05 so that no feature is ruled out by its heuristic alone);
- a subset's fitness is its mean score under an inner cross-validation of the wrapped ``estimator`` on the
  rows ``fit`` is given (subject-grouped when ``groups`` are passed), less ``size_penalty`` x the share of
  features taken: between equally good subsets the smaller wins;
- after each iteration the trails evaporate by ``evaporation`` and the iteration's best ant and the best so
  far deposit their fitness on the choices they made, within [``tau_max`` x 0.05, ``tau_max``], ``tau_max``
  = best fitness / evaporation.

``support_`` is the best subset found, ``history_`` one row per iteration (best and mean fitness, the
iteration's best subset size, the best so far), ``pheromone_`` the final take-trails. Everything is drawn
from ``random_state``: the same seed and data give the same mask, whatever ``n_jobs``.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin, f_classif, mutual_info_classif
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.validation import check_is_fitted, validate_data

HEURISTICS = ("mutual-info", "f-score")
FLOOR = 0.05  # the e in the choice rule: a feature of zero heuristic keeps a small chance
MIN_TRAIL = 0.05  # lower pheromone bound as a share of the upper (MAX-MIN ant system)


class AntColonySelector(SelectorMixin, BaseEstimator):
    """Select features by ant colony optimisation, scoring subsets by inner cross-validation of
    ``estimator`` (default: 5-nearest neighbours) on the training rows only.

    ``n_ants`` subsets are built and scored per iteration for ``n_iterations``; ``cv`` inner folds
    (subject-grouped when ``fit`` gets ``groups``), or the inner splits themselves (train, test) index
    pairs; ``scoring`` any scikit-learn scorer name;
    ``max_features`` caps a subset's size (the most desirable of an ant's choices are kept)."""

    def __init__(self, estimator=None, *, n_ants: int = 20, n_iterations: int = 20, evaporation: float = 0.2,
                 alpha: float = 1.0, beta: float = 1.0, heuristic: str = "mutual-info", cv: int = 3,
                 scoring: str = "balanced_accuracy", size_penalty: float = 0.01, max_features: int | None = None,
                 n_jobs: int | None = None, random_state: int | None = None) -> None:
        self.estimator = estimator
        self.n_ants = n_ants
        self.n_iterations = n_iterations
        self.evaporation = evaporation
        self.alpha = alpha
        self.beta = beta
        self.heuristic = heuristic
        self.cv = cv
        self.scoring = scoring
        self.size_penalty = size_penalty
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_parameters(self) -> None:
        if self.n_ants < 1 or self.n_iterations < 1:
            raise ValueError(f"n_ants and n_iterations must be at least 1, got {self.n_ants}, {self.n_iterations}")
        if not 0 < self.evaporation <= 1:
            raise ValueError(f"evaporation must be in (0, 1], got {self.evaporation}")
        if self.heuristic not in HEURISTICS:
            raise ValueError(f"heuristic must be one of {', '.join(HEURISTICS)}, got {self.heuristic!r}")
        if isinstance(self.cv, int) and self.cv < 2:
            raise ValueError(f"cv (inner folds) must be at least 2, got {self.cv}")
        if self.max_features is not None and self.max_features < 1:
            raise ValueError(f"max_features must be at least 1 or None, got {self.max_features}")

    def _desirability(self, X: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        if self.heuristic == "mutual-info":
            relevance = mutual_info_classif(X, y, random_state=seed)
        else:
            relevance = np.nan_to_num(f_classif(X, y)[0])
        top = relevance.max()
        return relevance / top if top > 0 else np.full(X.shape[1], 0.5)

    def _splits(self, y: np.ndarray, groups: np.ndarray | None, seed: int) -> list:
        if not isinstance(self.cv, int):
            return list(self.cv)
        if groups is None:
            splitter = StratifiedKFold(self.cv, shuffle=True, random_state=seed)
            return list(splitter.split(y, y))
        distinct = len(np.unique(groups))
        if distinct < self.cv:
            raise ValueError(f"ant colony selection: the training rows hold {distinct} subject(s), fewer than its "
                             f"{self.cv} inner folds; lower the inner folds (cv, --inner-folds) or use more subjects")
        return list(StratifiedGroupKFold(self.cv, shuffle=True, random_state=seed).split(y, y, groups))

    def _build(self, rng: np.random.Generator, take: np.ndarray, leave: np.ndarray,
               h: np.ndarray) -> np.ndarray:
        """One ant's subset (a boolean mask over features)."""
        weight_take = take**self.alpha * (h + FLOOR) ** self.beta
        weight_leave = leave**self.alpha * (1.0 - h + FLOOR) ** self.beta
        chance = weight_take / (weight_take + weight_leave)
        mask = rng.random(len(h)) < chance
        if not mask.any():
            mask[np.argmax(chance * rng.random(len(h)))] = True
        if self.max_features is not None and mask.sum() > self.max_features:
            chosen = np.flatnonzero(mask)
            keep = chosen[np.argsort(-chance[chosen], kind="stable")[: self.max_features]]
            mask = np.zeros_like(mask)
            mask[keep] = True
        return mask

    def fit(self, X, y, groups=None) -> AntColonySelector:
        """Search subsets of X's columns on (X, y) alone; ``groups`` (one subject per row) make the inner
        folds subject-grouped, so a subset is scored on people it was not fitted on."""
        self._check_parameters()
        X, y = validate_data(self, X, y)
        groups = None if groups is None else np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        seed = int(rng.integers(2**31 - 1))
        h = self._desirability(X, y, seed)
        splits = self._splits(y, groups, seed)
        estimator = KNeighborsClassifier(5) if self.estimator is None else self.estimator
        features = X.shape[1]
        take, leave = np.ones(features), np.ones(features)
        scored: dict[bytes, float] = {}
        best_mask, best_fitness = None, -np.inf
        history = []
        parallel = Parallel(n_jobs=self.n_jobs)
        for iteration in range(self.n_iterations):
            masks = [self._build(rng, take, leave, h) for _ in range(self.n_ants)]
            new = list({mask.tobytes(): mask for mask in masks if mask.tobytes() not in scored}.values())
            scores = parallel(delayed(_subset_score)(clone(estimator), X[:, mask], y, splits, self.scoring)
                              for mask in new)
            scored.update({mask.tobytes(): score for mask, score in zip(new, scores, strict=True)})
            fitness = np.array([scored[mask.tobytes()] - self.size_penalty * mask.mean() for mask in masks])
            leader = int(np.argmax(fitness))
            if fitness[leader] > best_fitness:
                best_fitness, best_mask = float(fitness[leader]), masks[leader]
            take *= 1.0 - self.evaporation
            leave *= 1.0 - self.evaporation
            for mask, amount in ((masks[leader], fitness[leader]), (best_mask, best_fitness)):
                take[mask] += max(amount, 0.0)
                leave[~mask] += max(amount, 0.0)
            ceiling = max(best_fitness, 1e-6) / self.evaporation
            np.clip(take, MIN_TRAIL * ceiling, ceiling, out=take)
            np.clip(leave, MIN_TRAIL * ceiling, ceiling, out=leave)
            history.append({"iteration": iteration + 1, "best_fitness": round(float(fitness[leader]), 6),
                            "mean_fitness": round(float(fitness.mean()), 6),
                            "best_features": int(masks[leader].sum()), "best_so_far": round(best_fitness, 6),
                            "best_so_far_features": int(best_mask.sum())})
        self.support_ = best_mask
        self.best_score_ = scored[best_mask.tobytes()]
        self.best_fitness_ = best_fitness
        self.history_ = history
        self.pheromone_ = take
        self.desirability_ = h
        self.n_evaluations_ = len(scored)
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_


def _subset_score(estimator, X: np.ndarray, y: np.ndarray, splits: list, scoring: str) -> float:
    """The mean inner cross-validation score of ``estimator`` on these columns."""
    return float(np.mean(cross_val_score(estimator, X, y, cv=splits, scoring=scoring, error_score="raise")))
