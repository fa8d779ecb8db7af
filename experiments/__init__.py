"""Leakage-free evaluation: one cross-validation engine for every model kind, the branches that plug into it
(``graph_branch``), run folders with reloadable fold pipelines, the demo and the benchmarks."""

from . import baselines, graph_branch  # registers their fold pipelines, so their fold files load

__all__ = ["baselines", "graph_branch"]
