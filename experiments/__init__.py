"""Leakage-free evaluation: one cross-validation engine for every model kind, the branches that plug into it
(``graph_branch``), run folders with reloadable fold pipelines, the demo and the benchmarks."""

from . import graph_branch  # registers the graph branch's fold pipeline, so its fold files load

__all__ = ["graph_branch"]
