"""Drawing a facial graph over a face shape, regions coloured, optionally with per-node values.

Importing this module leaves matplotlib's backend alone (a notebook keeps its inline figures) and does not
load pyplot: a figure saved to a file is drawn without it, and pyplot is loaded only for a figure meant to
be shown.
"""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.figure import Figure

from landmarks.layout import MEAN_SHAPE, N_POINTS, REGIONS

REGION_COLOURS = {"jaw": "#7f7f7f", "brow": "#8c564b", "nose": "#2ca02c", "eye": "#1f77b4", "mouth": "#d62728"}


def plot(
    graph: nx.Graph,
    shape: np.ndarray | None = None,
    path: str | os.PathLike | None = None,
    node_values: np.ndarray | None = None,
    title: str | None = None,
    label_points: bool = True,
):
    """Draw ``graph`` over ``shape`` (the average face when None) in image coordinates (y down).

    Nodes are coloured by region, or by ``node_values`` (68 numbers, e.g. a model's per-landmark
    importance) with a colour bar. Saves a PNG when ``path`` is given; returns the matplotlib figure.
    """
    shape = MEAN_SHAPE if shape is None else np.asarray(shape, dtype=float)
    if shape.shape != (N_POINTS, 2):
        raise ValueError(f"shape must be (68, 2), got {shape.shape}")
    values = None if node_values is None else np.asarray(node_values, dtype=float)
    if values is not None and values.shape != (N_POINTS,):
        raise ValueError(f"node_values must hold 68 numbers, got shape {values.shape}")
    if path is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(6, 7))
    else:
        figure = Figure(figsize=(6, 7))
    axes = figure.subplots()
    for i, j in graph.edges():
        axes.plot(shape[[i, j], 0], shape[[i, j], 1], color="#b0b0b0", linewidth=1.0, zorder=1)
    if values is not None:
        scatter = axes.scatter(shape[:, 0], shape[:, 1], c=values, cmap="viridis", s=45, zorder=2)
        figure.colorbar(scatter, ax=axes, shrink=0.7)
    else:
        for region, members in REGIONS.items():
            members = list(members)
            axes.scatter(shape[members, 0], shape[members, 1], s=40, zorder=2, color=REGION_COLOURS[region],
                         label=region)
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    if label_points:
        for point in range(N_POINTS):
            axes.annotate(str(point), shape[point], fontsize=6, xytext=(2, 2), textcoords="offset points")
    axes.set_aspect("equal")
    axes.invert_yaxis()
    axes.axis("off")
    name = graph.graph.get("name", "graph")
    axes.set_title(title or f"{name}: {graph.number_of_nodes()} points, {graph.number_of_edges()} edges")
    figure.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=150)
    return figure
