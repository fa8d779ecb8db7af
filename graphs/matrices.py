"""The graph as tensors: edge_index for torch-geometric, dense adjacency, ST-GCN spatial partitions."""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch

from landmarks.layout import N_POINTS, NOSE_TIP

NORMALIZATIONS = ("none", "symmetric", "row", "column")


def edge_index(graph: nx.Graph, self_loops: bool = False) -> torch.Tensor:
    """(2, E) LongTensor holding every edge in both directions (torch-geometric's convention)."""
    pairs = [(i, j) for i, j in graph.edges()] + [(j, i) for i, j in graph.edges()]
    if self_loops:
        pairs += [(i, i) for i in sorted(graph.nodes())]
    pairs.sort()
    return torch.tensor(pairs, dtype=torch.long).t().contiguous().reshape(2, -1)


def _binary_adjacency(graph: nx.Graph) -> np.ndarray:
    matrix = np.zeros((N_POINTS, N_POINTS))
    for i, j in graph.edges():
        matrix[i, j] = matrix[j, i] = 1.0
    return matrix


def hop_distances(graph: nx.Graph) -> np.ndarray:
    """(68, 68) shortest-path lengths in edges; inf between disconnected points."""
    distances = np.full((N_POINTS, N_POINTS), np.inf)
    for source, lengths in nx.all_pairs_shortest_path_length(graph):
        for target, length in lengths.items():
            distances[source, target] = length
    return distances


def normalize(matrix: np.ndarray, normalization: str) -> np.ndarray:
    """none; symmetric D^-1/2 A D^-1/2; row D^-1 A (rows sum to 1); column A D^-1 (columns sum to 1)."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {normalization!r}; choose one of {', '.join(NORMALIZATIONS)}")
    if normalization == "none":
        return matrix.copy()
    if normalization == "symmetric":
        degree = matrix.sum(axis=1)
        inverse_root = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
        return inverse_root[:, None] * matrix * inverse_root[None, :]
    axis = 1 if normalization == "row" else 0
    degree = matrix.sum(axis=axis, keepdims=True)
    return np.divide(matrix, degree, out=np.zeros_like(matrix), where=degree > 0)


def adjacency(
    graph: nx.Graph, normalization: str = "none", hops: int = 1, self_loops: bool = False
) -> np.ndarray:
    """Dense (68, 68) adjacency. ``hops=k`` joins every pair within k edges (k-hop reachability, the
    second-order matrix for k=2); ``self_loops`` adds the identity before normalising."""
    if hops < 1:
        raise ValueError(f"hops must be >= 1, got {hops}")
    matrix = _binary_adjacency(graph) if hops == 1 else (hop_distances(graph) <= hops).astype(float)
    np.fill_diagonal(matrix, 1.0 if self_loops else 0.0)
    return normalize(matrix, normalization)


def spatial_partitions(
    graph: nx.Graph, center: int = NOSE_TIP, normalization: str = "none"
) -> np.ndarray:
    """ST-GCN spatial-configuration partitions as a (3, 68, 68) stack: [root, centripetal, centrifugal].

    Entry [k, i, j] links node j to node i (message from j to i). Root is the node itself; centripetal
    neighbours are fewer hops from ``center`` (the nose tip by default) than the node; centrifugal
    neighbours are as far or farther. The three sum to the self-loop adjacency A + I. With
    ``normalization="column"`` (Yan et al.'s A D^-1) the normalised A + I is split the same way.
    """
    if not 0 <= center < N_POINTS:
        raise ValueError(f"center {center} is outside the 68-point layout")
    distance = hop_distances(graph)[center]
    full = adjacency(graph, normalization=normalization, self_loops=True)
    root, centripetal, centrifugal = (np.zeros_like(full) for _ in range(3))
    rows, cols = np.nonzero(full)
    for i, j in zip(rows, cols, strict=True):
        if i == j:
            root[i, j] = full[i, j]
        elif distance[j] < distance[i]:
            centripetal[i, j] = full[i, j]
        else:
            centrifugal[i, j] = full[i, j]
    return np.stack([root, centripetal, centrifugal])
