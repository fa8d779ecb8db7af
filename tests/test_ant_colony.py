"""The ant colony selector as a scikit-learn selector: it finds the informative columns of a problem whose
answer is known, repeats itself for a seed, and behaves as selectors do in pipelines and under clone."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from experiments.ant_colony import AntColonySelector

INFORMATIVE = [3, 11, 17, 26, 38, 45]


def known_problem(seed: int = 0):
    """3 classes, 60 columns: the INFORMATIVE ones shift with the class, the rest are noise; 24 subjects."""
    rng = np.random.default_rng(seed)
    y = np.tile(np.arange(3), 80)
    X = rng.normal(size=(240, 60))
    for k, column in enumerate(INFORMATIVE):
        X[:, column] += 1.2 * ((y + k) % 3 == 0)
    groups = np.repeat(np.arange(24), 10)
    return X, y, groups


def test_it_finds_the_informative_columns_among_noise():
    X, y, groups = known_problem()
    selector = AntColonySelector(n_ants=12, n_iterations=10, random_state=0).fit(X, y, groups=groups)
    chosen = set(np.flatnonzero(selector.get_support()))
    assert set(INFORMATIVE) <= chosen, f"informative columns missed: {sorted(set(INFORMATIVE) - chosen)}"
    assert len(chosen - set(INFORMATIVE)) <= 2, f"noise columns taken: {sorted(chosen - set(INFORMATIVE))}"
    assert selector.transform(X).shape == (240, len(chosen))
    history = selector.history_
    assert len(history) == 10 and history[-1]["best_so_far"] >= history[0]["best_fitness"]
    assert selector.best_score_ > 0.6  # balanced accuracy of 5-NN on the subset, subject-grouped inner folds


def test_the_same_seed_gives_the_same_subset_and_history_whatever_the_jobs():
    X, y, groups = known_problem(1)
    first = AntColonySelector(n_ants=6, n_iterations=4, random_state=7).fit(X, y, groups=groups)
    again = AntColonySelector(n_ants=6, n_iterations=4, random_state=7, n_jobs=2).fit(X, y, groups=groups)
    assert (first.get_support() == again.get_support()).all()
    assert first.history_ == again.history_
    other = AntColonySelector(n_ants=6, n_iterations=4, random_state=8).fit(X, y, groups=groups)
    assert other.history_ != first.history_  # the seed decides the ants' draws


def test_it_is_a_selector_in_a_pipeline_and_under_clone():
    X, y, groups = known_problem(2)
    selector = AntColonySelector(n_ants=4, n_iterations=2, max_features=5, random_state=0)
    with pytest.raises(NotFittedError):
        selector.get_support()
    twin = clone(selector)
    assert twin.get_params() == selector.get_params() and not hasattr(twin, "support_")
    pipeline = Pipeline([("scale", StandardScaler()), ("select", selector), ("model", LogisticRegression())])
    scores = cross_val_score(pipeline, X, y, groups=groups, cv=GroupKFold(3))
    assert scores.mean() > 0.5  # chance is 1/3
    fitted = pipeline.fit(X, y).named_steps["select"]
    assert fitted.get_support().sum() <= 5
    assert fitted.get_feature_names_out([f"c{i}" for i in range(60)]).tolist() == [
        f"c{i}" for i in np.flatnonzero(fitted.get_support())]


def test_bad_parameters_and_too_few_subjects_are_refused_with_the_value():
    X, y, _ = known_problem()
    with pytest.raises(ValueError, match="evaporation"):
        AntColonySelector(evaporation=0).fit(X, y)
    with pytest.raises(ValueError, match="2 subject"):
        AntColonySelector(cv=3).fit(X, y, groups=np.repeat([0, 1], 120))
