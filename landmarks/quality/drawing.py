"""Drawing the tracker's landmarks over frames: one frame (``plot_frame``, for notebooks and figures) and a
contact sheet of several frames of a clip, with frame numbers and whether a face was found.

Drawn with OpenCV straight into the pixels (fast, and the same in a notebook, a script or a worker process).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import networkx as nx
import numpy as np

from ..layout import N_POINTS

POINT_COLOUR = (0, 255, 255)  # yellow in BGR, cyan in RGB: visible on faces either way
EDGE_COLOUR = (255, 160, 0)
FOUND_COLOUR, MISSING_COLOUR = (60, 180, 60), (40, 40, 220)


def plot_frame(
    image: np.ndarray,
    points: np.ndarray | None,
    graph: str | nx.Graph | None = "anatomical",
    label: str | None = None,
    found: bool | None = None,
    radius: int | None = None,
) -> np.ndarray:
    """A copy of ``image`` (grey or colour, any size) with the 68 ``points`` (pixels; None or NaN where no
    face was found) and the edges of ``graph`` (a graph name, a networkx graph over 0..67, or None) drawn
    over it; ``label`` is written in the top-left corner and ``found`` colours the frame's border (green: a
    face was tracked, red: none)."""
    canvas = np.ascontiguousarray(image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)).copy()
    scale = max(canvas.shape[:2]) / 640.0
    radius = radius or max(1, round(2 * scale))
    if points is not None and np.isfinite(points).all():
        points = np.asarray(points, dtype=float).reshape(N_POINTS, 2)
        if isinstance(graph, str):
            # imported here: ``graphs`` loads torch, and ``import landmarks`` stays free of it (the ONNX-only
            # scoring path, experiments.onnx_predict, runs where PyTorch is not installed)
            from graphs.named import facial_graph

            graph = facial_graph(graph)
        edges = graph.edges() if graph is not None else []
        pixels = np.round(points).astype(np.int32)
        for i, j in edges:
            cv2.line(canvas, tuple(map(int, pixels[i])), tuple(map(int, pixels[j])), EDGE_COLOUR,
                     max(1, round(scale)), cv2.LINE_AA)
        for x, y in pixels:
            cv2.circle(canvas, (int(x), int(y)), radius, POINT_COLOUR, -1, cv2.LINE_AA)
    if found is not None:
        thickness = max(2, round(4 * scale))
        cv2.rectangle(canvas, (0, 0), (canvas.shape[1] - 1, canvas.shape[0] - 1),
                      FOUND_COLOUR if found else MISSING_COLOUR, thickness)
    if label:
        size = 0.5 * max(scale, 0.6)
        cv2.putText(canvas, label, (round(8 * scale), round(22 * scale)), cv2.FONT_HERSHEY_SIMPLEX, size,
                    (255, 255, 255), max(1, round(2 * scale)) + 1, cv2.LINE_AA)
        cv2.putText(canvas, label, (round(8 * scale), round(22 * scale)), cv2.FONT_HERSHEY_SIMPLEX, size,
                    (0, 0, 0), max(1, round(scale)), cv2.LINE_AA)
    return canvas


def face_window(points: np.ndarray, success: np.ndarray, shape: tuple[int, int], margin: float = 0.6):
    """(left, top, right, bottom) pixels of a square around every tracked face of the clip, with a margin
    (share of the face size); the whole frame when no face was tracked."""
    height, width = shape
    if not np.asarray(success).any():
        return 0, 0, width, height
    tracked = points[np.asarray(success, dtype=bool)].reshape(-1, 2)
    low, high = tracked.min(axis=0), tracked.max(axis=0)
    side = int(round(min(float((high - low).max()) * (1 + 2 * margin), width, height)))
    centre = (low + high) / 2
    # a square of that side around the faces, moved (not cut) to stay inside the frame
    left = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    top = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return left, top, left + side, top + side


def contact_sheet(
    frames: Sequence[np.ndarray],
    points: Sequence[np.ndarray | None],
    labels: Sequence[str],
    found: Sequence[bool],
    window: tuple[int, int, int, int],
    graph: str | nx.Graph | None = "anatomical",
    tile: int = 240,
    columns: int = 4,
) -> np.ndarray:
    """Frames cut to ``window`` (around the face), drawn with their landmarks and labels, as tiles of
    ``tile`` pixels in rows of ``columns``."""
    left, top, right, bottom = window
    size = max(right - left, bottom - top, 1)
    tiles = []
    for image, shape, label, tracked in zip(frames, points, labels, found, strict=True):
        crop = image[top:bottom, left:right]
        crop = crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        factor = tile / size
        resized = cv2.resize(crop, (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor))),
                             interpolation=cv2.INTER_AREA)
        placed = np.zeros((tile, tile, 3), np.uint8)
        placed[: resized.shape[0], : resized.shape[1]] = resized[:tile, :tile]
        moved = None if shape is None else (np.asarray(shape) - (left, top)) * factor
        tiles.append(plot_frame(placed, moved, graph, label, tracked, radius=2))
    while len(tiles) % columns:
        tiles.append(np.full((tile, tile, 3), 255, np.uint8))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)
