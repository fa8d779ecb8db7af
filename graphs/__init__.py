"""The facial graph: which of the 68 landmarks are joined, as networkx and torch-geometric objects.

>>> import graphs
>>> g = graphs.facial_graph("anatomical")
>>> graphs.edge_index(g).shape[0]
2
"""

from landmarks.layout import MEAN_SHAPE, N_POINTS, NOSE_TIP, REGIONS, mean_shape, mirror_permutation, region_of, side_of

from .matrices import adjacency, edge_index, hop_distances, normalize, spatial_partitions
from .named import available_graphs, delaunay_edges, facial_graph, graph_from_edges
from .plotting import plot

__all__ = [
    "MEAN_SHAPE",
    "NOSE_TIP",
    "N_POINTS",
    "REGIONS",
    "adjacency",
    "available_graphs",
    "delaunay_edges",
    "edge_index",
    "facial_graph",
    "graph_from_edges",
    "hop_distances",
    "mean_shape",
    "mirror_permutation",
    "normalize",
    "plot",
    "region_of",
    "side_of",
    "spatial_partitions",
]
