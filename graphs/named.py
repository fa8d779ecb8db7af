"""Named facial graphs over the 68 points: ``anatomical`` (ours, what figures draw by default),
``reference`` (the published 174-edge graph of Ridouan et al., shipped as data; the graph models' default,
``models.stgcn.DEFAULT_GRAPH``) and ``delaunay``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files

import networkx as nx
import numpy as np
from scipy.spatial import Delaunay

from landmarks.layout import MEAN_SHAPE, N_POINTS, region_of, side_of


def _chain(points: Iterable[int], closed: bool = False) -> list[tuple[int, int]]:
    points = list(points)
    edges = list(zip(points[:-1], points[1:], strict=True))
    return edges + ([(points[-1], points[0])] if closed else [])


# Contours of each region, then short connectors between neighbouring regions, every connector given
# with its mirror twin so the graph is left/right symmetric.
ANATOMICAL_CONTOURS: list[tuple[int, int]] = (
    _chain(range(0, 17))  # jaw line
    + _chain(range(17, 22)) + _chain(range(22, 27))  # brows
    + _chain(range(27, 31))  # nose bridge down to the tip
    + _chain(range(31, 36)) + [(30, 31), (30, 33), (30, 35)]  # nostrils and their link to the tip
    + _chain(range(36, 42), closed=True) + _chain(range(42, 48), closed=True)  # eyes
    + _chain(range(48, 60), closed=True) + _chain(range(60, 68), closed=True)  # outer and inner lips
    + [(48, 60), (51, 62), (54, 64), (57, 66)]  # lip thickness: outer to inner contour
)
ANATOMICAL_CONNECTORS: list[tuple[int, int]] = [
    (0, 17), (16, 26),  # jaw top to brow ends
    (1, 36), (15, 45),  # jaw to outer eye corners
    (4, 48), (12, 54),  # jaw to mouth corners
    (8, 57),  # chin to lower lip
    (17, 36), (26, 45), (19, 37), (24, 44), (21, 39), (22, 42),  # brows to eyes (AU4 vs AU6/7)
    (21, 22),  # glabella, across the midline
    (21, 27), (22, 27), (39, 27), (42, 27),  # brows and inner eye corners to the nose root
    (39, 31), (42, 35),  # inner eye corners to the nostril wings (AU9 nose wrinkle)
    (31, 49), (35, 53), (33, 51),  # nose to upper lip (AU10 upper-lip raise)
]


def anatomical_edges() -> list[tuple[int, int]]:
    return ANATOMICAL_CONTOURS + ANATOMICAL_CONNECTORS


def delaunay_edges(shape: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Edges of the Delaunay triangulation of a shape (the average face when none is given)."""
    shape = MEAN_SHAPE if shape is None else np.asarray(shape, dtype=float)
    if shape.shape != (N_POINTS, 2) or not np.isfinite(shape).all():
        raise ValueError(f"Delaunay needs a finite (68, 2) shape, got {shape.shape}")
    edges = set()
    for simplex in Delaunay(shape).simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            edges.add((i, j))
    return sorted(edges)


REFERENCE_EDGES_FILE = files("graphs") / "data" / "reference_edges_174.csv"


def reference_edges() -> list[tuple[int, int]]:
    """The published graph of Ridouan et al. (STGCN-pain): 174 edges, 0-based, in the published order, read
    from the copy shipped in ``graphs/data`` (its README gives the source and the MIT licence).

    Known properties, kept as published: the published code subtracted 1 from these already 0-based indices,
    so its runs trained on this list shifted by one node; 7 edges have no mirror twin ((3, 31), (12, 35),
    (21, 23), (30, 49), (35, 53), (40, 59), (55, 64)); the longest, (40, 59), joins an eye's lower lid to the
    lower lip (0.88 outer eye-corner distances on the average face). ``python -m graphs.show --name
    reference`` reports them.
    """
    lines = REFERENCE_EDGES_FILE.read_text().split()
    if lines[0] != "a,b":
        raise ValueError(f"{REFERENCE_EDGES_FILE} should start with the header a,b; the package's copy is damaged")
    return [(int(a), int(b)) for a, b in (line.split(",") for line in lines[1:])]


GRAPH_BUILDERS: dict[str, Callable[..., list[tuple[int, int]]]] = {
    "anatomical": lambda shape=None: anatomical_edges(),
    "delaunay": delaunay_edges,
    "reference": lambda shape=None: reference_edges(),
}


def available_graphs() -> list[str]:
    return sorted(GRAPH_BUILDERS)


def graph_from_edges(edges: Iterable[tuple[int, int]], name: str = "custom") -> nx.Graph:
    """A facial graph (nodes 0..67 with region and side attributes) from an edge list of 0-based pairs."""
    graph = nx.Graph(name=name)
    for point in range(N_POINTS):
        graph.add_node(point, region=region_of(point), side=side_of(point))
    for i, j in edges:
        i, j = int(i), int(j)
        if not (0 <= i < N_POINTS and 0 <= j < N_POINTS):
            raise ValueError(f"edge ({i}, {j}) of graph {name!r} leaves the 68-point layout (indices 0..67)")
        if i == j:
            raise ValueError(f"edge ({i}, {j}) of graph {name!r} is a self-loop; add self-loops in edge_index")
        graph.add_edge(i, j)
    return graph


def facial_graph(name: str = "anatomical", shape: np.ndarray | None = None) -> nx.Graph:
    """The named facial graph as a networkx Graph with nodes 0..67 (iBUG 300-W order).

    ``shape`` (68, 2) is used by data-driven graphs (``delaunay``); the average face otherwise.
    """
    if name not in GRAPH_BUILDERS:
        raise ValueError(f"unknown graph {name!r}; available: {', '.join(available_graphs())}")
    return graph_from_edges(GRAPH_BUILDERS[name](shape), name=name)
