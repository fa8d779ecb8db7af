"""Comparing runs: intervals that resample subjects, paired tests that find no difference between a run and
itself and a clear one between a good model and a shuffled-label one, and the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.compare import main
from experiments.comparison import compare_runs, corrected_t_test, subject_bootstrap

CLASSES = ["no_pain", "pain"]


def write_run(folder, correct_share: float, seed: int, subjects: int = 10, clips: int = 10):
    """A run folder whose predictions are right for about ``correct_share`` of the clips (5 subject-grouped
    folds, two subjects each)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(subjects):
        for c in range(clips):
            truth = (s + c) % 2
            right = rng.random() < correct_share
            p_pain = rng.uniform(0.55, 0.95) if (truth == 1) == right else rng.uniform(0.05, 0.45)
            rows.append({"clip": f"S{s:02d}/c{c}", "subject": f"S{s:02d}", "fold": s // 2,
                         "y_true": CLASSES[truth], "y_pred": CLASSES[int(p_pain > 0.5)],
                         "p_no_pain": 1 - p_pain, "p_pain": p_pain})
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "predictions.csv", index=False)
    pd.DataFrame(columns=["clip", "subject", "fold", "y_true", "p_no_pain", "p_pain"]).to_csv(
        folder / "validation_predictions.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps({"classes": CLASSES}))
    return folder


def test_bootstrap_draws_whole_subjects():
    subjects = np.repeat(np.array(["a", "b", "c", "d"]), [3, 1, 2, 4])
    weights = subject_bootstrap(subjects, resamples=500, seed=1)
    for name in "abcd":
        clips = weights[:, subjects == name]
        assert (clips == clips[:, :1]).all()  # every clip of a subject is drawn as often as the subject
    drawn = weights[:, [0, 3, 4, 6]]  # one clip per subject: the subjects' draw counts
    assert (drawn.sum(axis=1) == 4).all() and drawn.max() > 1


def test_the_corrected_t_test_is_more_cautious_than_the_plain_one():
    differences = np.array([0.1, 0.2, 0.1, 0.3, 0.2])
    t, p = corrected_t_test(differences, test_share=0.2)
    plain = stats.ttest_1samp(differences, 0.0)
    assert t == pytest.approx(differences.mean() / np.sqrt((1 / 5 + 0.25) * differences.var(ddof=1)))
    assert p > plain.pvalue and t < plain.statistic
    assert corrected_t_test(np.zeros(5), 0.2) == (0.0, 1.0)


def test_a_run_equals_itself_and_a_good_model_beats_a_shuffled_one(tmp_path):
    good = write_run(tmp_path / "good", 0.9, seed=0)
    shuffled = write_run(tmp_path / "shuffled", 0.5, seed=1)
    scores, pairs = compare_runs([good, good, shuffled], tmp_path / "report", names=["good", "again", "shuffled"])
    same = pairs[(pairs["a"] == "good") & (pairs["b"] == "again")].iloc[0]
    assert same["accuracy_difference"] == 0 and same["p_corrected_t"] == 1.0 and same["p_mcnemar"] == 1.0
    assert same["verdict"] == "no significant difference" and same["difference_ci"] == (0.0, 0.0)
    clear = pairs[(pairs["a"] == "good") & (pairs["b"] == "shuffled")].iloc[0]
    assert clear["accuracy_difference"] > 0.25 and clear["p_corrected_t"] < 0.05 and clear["p_mcnemar"] < 0.001
    assert clear["verdict"] == "good is better" and clear["difference_ci"][0] > 0
    row = scores.set_index("run").loc["good"]
    assert row["accuracy_ci"][0] < row["accuracy"] < row["accuracy_ci"][1]
    report = (tmp_path / "report" / "report.md").read_text()
    assert "**no significant difference**" in report and "**good is better**" in report
    for figure in ("recall.png", "confusion.png", "roc.png", "pr.png"):
        assert (tmp_path / "report" / figure).stat().st_size > 5000 and f"]({figure})" in report


def test_command_refuses_runs_of_other_splits(tmp_path, capsys):
    good = write_run(tmp_path / "good", 0.9, seed=0)
    other = write_run(tmp_path / "other", 0.9, seed=0)
    table = pd.read_csv(other / "predictions.csv")
    table["fold"] = (table["fold"] + 1) % 5
    table.to_csv(other / "predictions.csv", index=False)
    assert main([str(good), str(other), "--out", str(tmp_path / "report")]) == 1
    assert "in other folds" in capsys.readouterr().err
    assert main([str(good), str(good), "--out", str(tmp_path / "ok"), "--names", "a", "b"]) == 0
    assert "a vs b: +0.000" in capsys.readouterr().out
