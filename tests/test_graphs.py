"""The facial graphs: structure, symmetry, tensors, normalisations, partitions, plot and command."""

import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

import graphs
from graphs.show import graph_report

from .conftest import REPO

NAMES = graphs.available_graphs()


@pytest.mark.parametrize("name", NAMES)
def test_each_graph_has_68_connected_nodes_and_unique_edges(name):
    graph = graphs.facial_graph(name)
    assert sorted(graph.nodes()) == list(range(68))
    assert nx.is_connected(graph)
    pairs = [tuple(sorted(e)) for e in graph.edges()]
    assert len(pairs) == len(set(pairs)) and all(i != j for i, j in pairs)
    assert all(0 <= i < 68 and 0 <= j < 68 for i, j in pairs)
    assert graph.nodes[36]["region"] == "eye" and graph.nodes[8]["side"] == "centre"
    assert graph.nodes[36]["side"] == "right" and graph.nodes[45]["side"] == "left"


@pytest.mark.parametrize("name", NAMES)
def test_edge_index_holds_every_networkx_edge_in_both_directions(name):
    graph = graphs.facial_graph(name)
    index = graphs.edge_index(graph)
    assert index.dtype == torch.long and index.shape == (2, 2 * graph.number_of_edges())
    directed = {tuple(p) for p in index.t().tolist()}
    expected = {(i, j) for i, j in graph.edges()} | {(j, i) for i, j in graph.edges()}
    assert directed == expected
    looped = graphs.edge_index(graph, self_loops=True)
    assert looped.shape[1] == index.shape[1] + 68
    assert {(i, i) for i in range(68)} <= {tuple(p) for p in looped.t().tolist()}


def test_adjacency_normalisations_have_the_stated_sums():
    graph = graphs.facial_graph()
    binary = graphs.adjacency(graph)
    assert (binary == binary.T).all() and binary.sum() == 2 * graph.number_of_edges()
    assert np.allclose(graphs.adjacency(graph, "row").sum(axis=1), 1.0)
    assert np.allclose(graphs.adjacency(graph, "column", self_loops=True).sum(axis=0), 1.0)
    symmetric = graphs.adjacency(graph, "symmetric")
    degree = binary.sum(axis=1)
    assert np.allclose(symmetric, symmetric.T)
    assert np.allclose(symmetric.sum(axis=1), (binary / np.sqrt(np.outer(degree, degree))).sum(axis=1))
    # D^-1/2 A D^-1/2 has spectral radius 1 for a connected graph
    assert np.isclose(np.abs(np.linalg.eigvalsh(symmetric)).max(), 1.0)
    with pytest.raises(ValueError, match="unknown normalization 'l2'"):
        graphs.adjacency(graph, "l2")


def test_two_hop_reachability_is_the_second_order_matrix():
    graph = graphs.facial_graph()
    binary = graphs.adjacency(graph)
    two_hop = graphs.adjacency(graph, hops=2)
    expected = ((binary + binary @ binary) > 0).astype(float)
    np.fill_diagonal(expected, 0.0)
    assert (two_hop == expected).all()
    assert two_hop[0, 2] == 1 and binary[0, 2] == 0  # along the jaw line


def test_spatial_partitions_sum_to_self_loop_adjacency_and_respect_the_centre():
    graph = graphs.facial_graph()
    parts = graphs.spatial_partitions(graph, center=graphs.NOSE_TIP)
    assert parts.shape == (3, 68, 68)
    assert np.array_equal(parts.sum(axis=0), graphs.adjacency(graph, self_loops=True))
    assert np.array_equal(parts[0], np.eye(68))
    hops = graphs.hop_distances(graph)[graphs.NOSE_TIP]
    i, j = np.nonzero(parts[1])
    assert (hops[j] < hops[i]).all() and len(i) > 0
    i, j = np.nonzero(parts[2])
    assert (hops[j] >= hops[i]).all() and len(i) > 0
    normalised = graphs.spatial_partitions(graph, normalization="column")
    assert np.allclose(normalised.sum(axis=0).sum(axis=0), 1.0)  # A D^-1: columns of A + I sum to 1


def test_mirror_permutation_is_an_involution_that_swaps_the_eyes():
    perm = graphs.mirror_permutation()
    assert sorted(perm.tolist()) == list(range(68))
    assert (perm[perm] == np.arange(68)).all()
    assert perm[list(range(36, 42))].tolist() == [45, 44, 43, 42, 47, 46]
    # the average face is its own mirror image once indices are permuted
    flipped = graphs.MEAN_SHAPE[perm] * np.array([-1.0, 1.0])
    assert np.allclose(flipped, graphs.MEAN_SHAPE)


def test_anatomical_graph_is_mirror_symmetric_with_short_edges():
    graph = graphs.facial_graph("anatomical")
    perm = graphs.mirror_permutation()
    edges = {frozenset(e) for e in graph.edges()}
    assert {frozenset((int(perm[i]), int(perm[j]))) for i, j in graph.edges()} == edges
    shape = graphs.MEAN_SHAPE
    eye_distance = np.linalg.norm(shape[36] - shape[45])
    longest = max(np.linalg.norm(shape[i] - shape[j]) for i, j in graph.edges()) / eye_distance
    assert longest <= 0.5  # no edge longer than half the outer eye-corner distance on the average face
    # the slips of the published list are absent
    assert not graph.has_edge(59, 40) and not graph.has_edge(30, 49) and graph.has_edge(31, 49)


def test_a_mirror_asymmetric_edge_list_is_caught_by_the_report():
    graph = graphs.graph_from_edges(list(graphs.facial_graph().edges()) + [(2, 31)], name="lopsided")
    report = graph_report(graph)
    assert report["mirror_symmetric"] is False and report["asymmetric_edges"] == [(2, 31)]
    with pytest.raises(ValueError, match=r"\(67, 68\).*0\.\.67"):
        graphs.graph_from_edges([(67, 68)])


def test_delaunay_follows_the_given_shape():
    base = graphs.facial_graph("delaunay")
    assert base.number_of_edges() > graphs.facial_graph("anatomical").number_of_edges()
    stretched = graphs.MEAN_SHAPE * np.array([3.0, 1.0])
    other = graphs.facial_graph("delaunay", shape=stretched)
    assert {frozenset(e) for e in other.edges()} != {frozenset(e) for e in base.edges()}
    with pytest.raises(ValueError, match="unknown graph 'nope'"):
        graphs.facial_graph("nope")


def test_plot_writes_a_png_with_node_values(tmp_path):
    graph = graphs.facial_graph()
    path = tmp_path / "importance.png"
    graphs.plot(graph, path=path, node_values=np.linspace(0, 1, 68))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="68 numbers"):
        graphs.plot(graph, node_values=np.ones(5))


def test_show_command_prints_checks_and_writes_the_plot(tmp_path):
    out = tmp_path / "graph.png"
    result = subprocess.run(
        [sys.executable, "-m", "graphs.show", "--name", "anatomical", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "68 nodes, 93 edges" in result.stdout and "mirror-symmetric: yes" in result.stdout
    assert "connected: yes" in result.stdout and out.is_file()


def test_reference_graph_is_the_published_list_as_shipped(faces_dir):
    published = pd.read_csv(faces_dir.parent / "graphs" / "reference_edges_174.csv")
    graph = graphs.facial_graph("reference")
    edges = [(int(a), int(b)) for a, b in published[["a", "b"]].itertuples(index=False)]
    assert graphs.named.reference_edges() == edges  # the same edges in the published order
    assert len({frozenset(e) for e in edges}) == 174 == graph.number_of_edges()
    assert min(min(e) for e in edges) == 0 and max(max(e) for e in edges) == 67  # 0-based, not shifted
    assert nx.is_connected(graph) and "reference" in graphs.available_graphs()
    shipped = Path(graphs.named.REFERENCE_EDGES_FILE)
    assert REPO in shipped.parents, "the package reads its own copy, not ../shared"


def test_show_reports_the_reference_graphs_known_properties(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "graphs.show", "--name", "reference", "--out", str(tmp_path / "reference.png")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "68 nodes, 174 edges" in result.stdout and "connected: yes" in result.stdout
    assert ("mirror-symmetric: no, 7 edge(s) without a mirror twin: (3, 31), (12, 35), (21, 23), (30, 49), "
            "(35, 53), (40, 59), (55, 64)") in result.stdout
    # an eye's lower lid joined to the lower lip: the longest edge, as the published graph's notes say
    assert "longest edges on the average face (outer eye-corner distances): (40, 59) 0.88, " in result.stdout
