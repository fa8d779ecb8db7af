"""Command line: ``python -m graphs.show`` prints a facial graph's counts, degrees and checks, and plots it."""

from __future__ import annotations

import argparse
import sys

import networkx as nx
import numpy as np

from landmarks.commands import run_command
from landmarks.layout import MEAN_SHAPE, eye_distance, mirror_permutation

from .named import available_graphs, facial_graph
from .plotting import plot


def graph_report(graph: nx.Graph) -> dict:
    """Counts, degrees and the checks a user should see before training on a graph."""
    degrees = np.array([d for _, d in graph.degree()])
    perm = mirror_permutation()
    edges = {frozenset(e) for e in graph.edges()}
    mirrored = {frozenset((int(perm[i]), int(perm[j]))) for i, j in graph.edges()}
    eye = float(eye_distance(MEAN_SHAPE))
    lengths = {(i, j): float(np.linalg.norm(MEAN_SHAPE[i] - MEAN_SHAPE[j]) / eye) for i, j in graph.edges()}
    longest = max(lengths, key=lengths.get)
    return {
        "name": graph.graph.get("name", "graph"),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "degree_min": int(degrees.min()),
        "degree_mean": float(degrees.mean()),
        "degree_max": int(degrees.max()),
        "connected": nx.is_connected(graph),
        "mirror_symmetric": edges == mirrored,
        "longest_edge": longest,
        "longest_edge_length": lengths[longest],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graphs.show",
        description="Print a facial graph's node/edge counts, degrees and checks, and draw it over the average face.",
    )
    parser.add_argument("--name", default="anatomical", choices=available_graphs(), help="graph (default %(default)s)")
    parser.add_argument("--out", default="graph.png", help="PNG to write (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="accepted for uniformity; nothing here is random")
    args = parser.parse_args(argv)
    return run_command(lambda: _show(args))


def _show(args: argparse.Namespace) -> int:
    graph = facial_graph(args.name)
    report = graph_report(graph)
    print(f"graph {report['name']}: {report['nodes']} nodes, {report['edges']} edges")
    print(f"degree: min {report['degree_min']}, mean {report['degree_mean']:.2f}, max {report['degree_max']}")
    print(f"connected: {'yes' if report['connected'] else 'NO'}")
    print(f"mirror-symmetric: {'yes' if report['mirror_symmetric'] else 'no'}")
    i, j = report["longest_edge"]
    print(f"longest edge on the average face: ({i}, {j}), {report['longest_edge_length']:.2f} eye-corner distances")
    try:
        plot(graph, path=args.out)
    except OSError as exc:
        raise OSError(f"cannot write the plot {args.out}: {exc.strerror or exc}") from exc
    print(f"plot written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
