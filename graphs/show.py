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
    """Counts, degrees and the checks a user should see before training on a graph: connectivity, the edges
    without a mirror twin, and the three longest edges on the average face (in outer eye-corner distances)."""
    degrees = np.array([d for _, d in graph.degree()])
    perm = mirror_permutation()
    edges = {frozenset(e) for e in graph.edges()}
    asymmetric = sorted(tuple(sorted(e)) for e in graph.edges()
                        if frozenset((int(perm[e[0]]), int(perm[e[1]]))) not in edges)
    eye = float(eye_distance(MEAN_SHAPE))
    lengths = {tuple(sorted(e)): float(np.linalg.norm(MEAN_SHAPE[e[0]] - MEAN_SHAPE[e[1]]) / eye)
               for e in graph.edges()}
    ranked = sorted(lengths, key=lengths.get, reverse=True)
    return {
        "name": graph.graph.get("name", "graph"),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "degree_min": int(degrees.min()),
        "degree_mean": float(degrees.mean()),
        "degree_max": int(degrees.max()),
        "connected": nx.is_connected(graph),
        "mirror_symmetric": not asymmetric,
        "asymmetric_edges": asymmetric,
        "longest_edges": [(edge, lengths[edge]) for edge in ranked[:3]],
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
    asymmetric = report["asymmetric_edges"]
    print("mirror-symmetric: yes" if not asymmetric else
          f"mirror-symmetric: no, {len(asymmetric)} edge(s) without a mirror twin: "
          + ", ".join(f"({i}, {j})" for i, j in asymmetric))
    longest = ", ".join(f"({i}, {j}) {length:.2f}" for (i, j), length in report["longest_edges"])
    print(f"longest edges on the average face (outer eye-corner distances): {longest}")
    try:
        plot(graph, path=args.out)
    except OSError as exc:
        raise OSError(f"cannot write the plot {args.out}: {exc.strerror or exc}") from exc
    print(f"plot written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
