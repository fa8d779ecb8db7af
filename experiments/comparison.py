"""Which run is better, and how sure can we be? Scores with confidence intervals from a bootstrap over
subjects, and paired tests of every pair of runs under the same folds.

Clips of one person are not independent, so every interval resamples subjects (all of a subject's clips
together), never clips. Pairs are compared three ways: the corrected resampled t-test of Nadeau and Bengio
(2003) on the per-fold differences (the plain t-test over folds is too confident, since training parts
overlap), McNemar's exact test on the pooled out-of-fold predictions, and the bootstrap interval of the
difference in accuracy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from sklearn.metrics import precision_recall_curve, roc_curve

from .fusion import check_runs, read_run
from .metrics import classification_metrics

ALPHA = 0.05


@dataclass
class RunScores:
    """One run's predictions as arrays aligned on the compared clips."""

    name: str
    classes: list[str]
    y: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    folds: np.ndarray
    subjects: np.ndarray

    @cached_property
    def pooled(self) -> dict:
        """Scores over all the run's out-of-fold predictions, as metrics.json reports them."""
        return classification_metrics(self.y, self.predicted, self.classes)

    @cached_property
    def per_fold(self) -> pd.DataFrame:
        """Accuracy and macro F1 of every fold."""
        rows = []
        for fold in np.unique(self.folds):
            here = self.folds == fold
            scores = classification_metrics(self.y[here], self.predicted[here], self.classes)
            rows.append({"fold": int(fold), "accuracy": scores["accuracy"], "f1_macro": scores["f1_macro"]})
        return pd.DataFrame(rows)


def load_runs(paths: list[str | os.PathLike], names: list[str] | None = None) -> list[RunScores]:
    """The runs' out-of-fold predictions on their common clips, after checking they share classes and folds."""
    read = [read_run(path) for path in paths]
    clips = check_runs(read, common_clips=False) if len(read) > 1 else list(read[0].test.index)
    names = names or [Path(path).name for path in paths]
    if len(set(names)) != len(names):
        names = [str(path) for path in paths]
    runs = []
    for name, run in zip(names, read, strict=True):
        table = run.test.loc[clips]
        classes = run.classes
        runs.append(RunScores(
            name, classes, np.array([classes.index(c) for c in table["y_true"]]),
            np.array([classes.index(c) for c in table["y_pred"]]), run.probabilities(run.test, clips),
            table["fold"].to_numpy(int), table["subject"].astype(str).to_numpy(),
        ))
    return runs


def subject_bootstrap(subjects: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """(resamples, clips) weights: how often each clip is drawn when subjects are drawn with replacement
    (every clip of a drawn subject comes with it)."""
    names, index = np.unique(subjects, return_inverse=True)
    draws = np.random.default_rng(seed).integers(0, len(names), size=(resamples, len(names)))
    counts = np.zeros((resamples, len(names)))
    np.add.at(counts, (np.arange(resamples)[:, None], draws), 1.0)
    return counts[:, index]


def weighted_scores(y: np.ndarray, predicted: np.ndarray, weights: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    """Accuracy and macro F1 for every row of clip ``weights`` (resamples, clips): the bootstrap's scores,
    without a loop over resamples."""
    correct = (y == predicted).astype(float)
    total = weights.sum(axis=1)
    accuracy = (weights * correct).sum(axis=1) / np.maximum(total, 1e-12)
    f1s = []
    for k in range(classes):
        true_k, pred_k = y == k, predicted == k
        tp = (weights * (true_k & pred_k)).sum(axis=1)
        support, claimed = (weights * true_k).sum(axis=1), (weights * pred_k).sum(axis=1)
        recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
        precision = np.divide(tp, claimed, out=np.zeros_like(tp), where=claimed > 0)
        f1s.append(np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                             where=(precision + recall) > 0))
    return {"accuracy": accuracy, "f1_macro": np.mean(f1s, axis=0)}


def interval(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)])
    return float(low), float(high)


def score_table(runs: list[RunScores], weights: np.ndarray) -> pd.DataFrame:
    """Per run: mean ± std over folds, pooled accuracy and macro F1 with their subject-bootstrap 95%
    intervals, weighted F1 and per-class recall (pooled)."""
    rows = []
    for run in runs:
        folds, pooled = run.per_fold, run.pooled
        boot = weighted_scores(run.y, run.predicted, weights, len(run.classes))
        row = {"run": run.name, "accuracy_mean": folds["accuracy"].mean(),
               "accuracy_std": folds["accuracy"].std(ddof=0),
               "accuracy": pooled["accuracy"], "accuracy_ci": interval(boot["accuracy"]),
               "f1_macro": pooled["f1_macro"], "f1_macro_ci": interval(boot["f1_macro"]),
               "f1_weighted": pooled["f1_weighted"]}
        row.update({f"recall_{name}": scores["recall"] for name, scores in pooled["per_class"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def corrected_t_test(differences: np.ndarray, test_share: float) -> tuple[float, float]:
    """Nadeau and Bengio's corrected resampled t-test: (t, two-sided p) of per-fold score differences, with
    the variance inflated by test / training size (1 / (k - 1) for k-fold cross-validation)."""
    k = len(differences)
    variance = np.var(differences, ddof=1)
    if variance == 0:
        return (0.0, 1.0) if np.mean(differences) == 0 else (float(np.sign(np.mean(differences)) * np.inf), 0.0)
    t = float(np.mean(differences) / np.sqrt((1.0 / k + test_share / (1.0 - test_share)) * variance))
    return t, float(2 * stats.t.sf(abs(t), df=k - 1))


def mcnemar(a: RunScores, b: RunScores) -> tuple[int, int, float]:
    """Clips only A got right, clips only B got right, and McNemar's exact two-sided p."""
    right_a, right_b = a.y == a.predicted, b.y == b.predicted
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    if only_a + only_b == 0:
        return only_a, only_b, 1.0
    return only_a, only_b, float(stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)


def pair_table(runs: list[RunScores], weights: np.ndarray) -> pd.DataFrame:
    """Every pair: difference in accuracy (pooled), its subject-bootstrap interval, the corrected t-test on
    per-fold accuracy, McNemar's test, and a plain verdict."""
    rows = []
    for a, b in combinations(runs, 2):
        folds_a, folds_b = a.per_fold, b.per_fold
        k = len(folds_a)
        t, p_t = corrected_t_test((folds_a["accuracy"] - folds_b["accuracy"]).to_numpy(), 1.0 / k)
        only_a, only_b, p_mcnemar = mcnemar(a, b)
        boot_a = weighted_scores(a.y, a.predicted, weights, len(a.classes))["accuracy"]
        boot_b = weighted_scores(b.y, b.predicted, weights, len(b.classes))["accuracy"]
        difference = float((a.y == a.predicted).mean() - (b.y == b.predicted).mean())
        low, high = interval(boot_a - boot_b)
        significant = p_t < ALPHA and p_mcnemar < ALPHA and not low <= 0 <= high
        verdict = (f"{a.name if difference > 0 else b.name} is better" if significant else
                   "no significant difference")
        rows.append({"a": a.name, "b": b.name, "accuracy_difference": difference, "difference_ci": (low, high),
                     "t": t, "p_corrected_t": p_t, "only_a_right": only_a, "only_b_right": only_b,
                     "p_mcnemar": p_mcnemar, "verdict": verdict})
    return pd.DataFrame(rows)


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path.name


def draw_figures(runs: list[RunScores], out: Path) -> list[str]:
    """Per-class recall bars, confusion matrices side by side and, for two classes, ROC and precision-recall
    curves; returns the file names written."""
    classes, names = runs[0].classes, []
    figure = Figure(figsize=(1.5 + 1.2 * len(classes) * max(1, len(runs) / 2), 3.6))
    axis = figure.subplots()
    width = 0.8 / len(runs)
    for r, run in enumerate(runs):
        recall = [scores["recall"] for scores in run.pooled["per_class"].values()]
        axis.bar(np.arange(len(classes)) + r * width - 0.4 + width / 2, recall, width, label=run.name)
    axis.set_xticks(range(len(classes)), classes)
    axis.set_ylim(0, 1)
    axis.set_ylabel("recall (pooled out-of-fold)")
    axis.legend(fontsize=7)
    names.append(_save(figure, out / "recall.png"))
    figure = Figure(figsize=(3.2 * len(runs), 3.2))
    for axis, run in zip(np.atleast_1d(figure.subplots(1, len(runs))), runs, strict=True):
        matrix = np.array(run.pooled["confusion"])
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                axis.text(j, i, str(matrix[i, j]), ha="center", va="center",
                          color="white" if shares[i, j] > 0.6 else "black")
        axis.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
        axis.set_yticks(range(len(classes)), classes)
        axis.set_title(run.name, fontsize=9)
        axis.set_xlabel("predicted")
    names.append(_save(figure, out / "confusion.png"))
    if len(classes) == 2:
        for kind, curve in (("roc", roc_curve), ("pr", precision_recall_curve)):
            figure = Figure(figsize=(4.5, 4))
            axis = figure.subplots()
            for run in runs:
                first, second, _ = curve(run.y, run.probabilities[:, 1])
                x, y = (first, second) if kind == "roc" else (second, first)
                axis.plot(x, y, label=run.name)
            axis.set_xlabel("false positive rate" if kind == "roc" else "recall")
            axis.set_ylabel("true positive rate" if kind == "roc" else "precision")
            axis.set_title(f"{'ROC' if kind == 'roc' else 'precision-recall'}: {classes[1]} vs {classes[0]}")
            axis.legend(fontsize=7)
            names.append(_save(figure, out / f"{kind}.png"))
    return names


def _ci(bounds: tuple[float, float]) -> str:
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def compare_runs(
    paths: list[str | os.PathLike],
    out: str | os.PathLike,
    names: list[str] | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare finished runs of one split: writes ``out/report.md`` (tables, verdicts and figures),
    ``scores.csv`` and ``pairs.csv``; returns the two tables."""
    runs = load_runs(paths, names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights = subject_bootstrap(runs[0].subjects, resamples, seed)
    scores = score_table(runs, weights)
    pairs = pair_table(runs, weights) if len(runs) > 1 else pd.DataFrame()
    scores.to_csv(out / "scores.csv", index=False)
    pairs.to_csv(out / "pairs.csv", index=False)
    figures = draw_figures(runs, out)
    classes = runs[0].classes
    lines = [f"# Comparison of {len(runs)} runs", "",
             f"{len(runs[0].y)} clips of {len(np.unique(runs[0].subjects))} subjects, "
             f"{len(np.unique(runs[0].folds))} subject-grouped folds shared by every run. Intervals: 95%, from "
             f"{resamples} bootstrap resamples of subjects (seed {seed}).", "",
             "| run | accuracy, mean ± std over folds | pooled accuracy [95% CI] | macro F1 [95% CI] | weighted F1 | "
             + " | ".join(f"recall {name}" for name in classes) + " |",
             "| --- " * (5 + len(classes)) + "|"]
    for row in scores.itertuples():
        recalls = " | ".join(f"{getattr(row, f'recall_{name}'):.3f}" for name in classes)
        lines.append(f"| {row.run} | {row.accuracy_mean:.3f} ± {row.accuracy_std:.3f} | {row.accuracy:.3f} "
                     f"{_ci(row.accuracy_ci)} | {row.f1_macro:.3f} {_ci(row.f1_macro_ci)} | {row.f1_weighted:.3f} | "
                     f"{recalls} |")
    if len(pairs):
        lines += ["", "## Paired comparisons", "",
                  "| A | B | accuracy A − B [95% CI] | corrected t-test p | McNemar (only A / only B) p | verdict |",
                  "| --- " * 6 + "|"]
        for row in pairs.itertuples():
            lines.append(f"| {row.a} | {row.b} | {row.accuracy_difference:+.3f} {_ci(row.difference_ci)} | "
                         f"{row.p_corrected_t:.3g} | {row.only_a_right} / {row.only_b_right}: {row.p_mcnemar:.3g} | "
                         f"**{row.verdict}** |")
        lines += ["", f"A difference is called significant only when the corrected resampled t-test (Nadeau and "
                  f"Bengio) and McNemar's test both give p < {ALPHA} and the bootstrap interval excludes 0."]
    lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return scores, pairs
