"""Text tables of results, for the terminal: a run's folds, and several runs side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence


def format_table(rows: Sequence[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    """Rows aligned under headers; ``columns`` are (key, header, format spec), a missing or NaN value shows
    as ``-``."""
    def cell(row: dict, key: str, spec: str) -> str:
        value = row.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return format(value, spec)

    cells = [[header for _, header, _ in columns]] + [[cell(row, key, spec) for key, _, spec in columns]
                                                      for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for line in cells:
        lines.append("  ".join([line[0].ljust(widths[0]), *(line[i].rjust(widths[i]) for i in range(1, len(line)))]))
    return "\n".join(lines)


def results_table(metrics: dict) -> str:
    """One run: every fold's test clips and scores, then the mean and standard deviation over folds."""
    rows = list(metrics["folds"])
    for statistic in ("mean", "std"):
        rows.append({"fold": statistic, **{key: value[statistic] for key, value in metrics["summary"].items()}})
    return format_table(rows, [("fold", "fold", ""), ("test_clips", "test clips", "d"), ("accuracy", "accuracy", ".3f"),
                               ("f1_weighted", "F1 (w)", ".3f"), ("f1_macro", "F1 (macro)", ".3f"),
                               ("best_epoch", "best epoch", "d")])


def comparison_table(runs: dict[str, dict]) -> str:
    """Several runs (name -> metrics.json content): mean ± std over folds of accuracy, weighted and macro F1."""
    rows = []
    for name, metrics in runs.items():
        summary = metrics["summary"]
        rows.append({"run": name, "accuracy": summary["accuracy"]["mean"], "std": summary["accuracy"]["std"],
                     "f1_weighted": summary["f1_weighted"]["mean"], "f1_macro": summary["f1_macro"]["mean"],
                     "f1_macro_std": summary["f1_macro"]["std"]})
    return format_table(rows, [("run", "run", ""), ("accuracy", "accuracy", ".3f"), ("std", "± std", ".3f"),
                               ("f1_weighted", "F1 (w)", ".3f"), ("f1_macro", "F1 (macro)", ".3f"),
                               ("f1_macro_std", "± std", ".3f")])
