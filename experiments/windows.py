"""Cutting a recording into windows of a run's clip length (shared by ``predict`` and ``onnx_predict``)."""

from __future__ import annotations


def windows_of(frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges of ``window`` frames every ``stride`` frames, the last one ending at the
    clip's end; a clip shorter than a window is one window (brought to the run's length as the run did)."""
    if frames <= window:
        return [(0, frames)]
    starts = list(range(0, frames - window + 1, stride))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return [(start, start + window) for start in starts]
