"""Reading the frames of a clip in order: sequential video decoding, or image files in a folder.

Every frame yields a record, also when it cannot be read, so that the frame <-> row mapping of the
output is never lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Decoder chatter about broken files goes to the manifest instead of the terminal.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from .clips import frame_files  # noqa: E402


@dataclass
class Frame:
    """One frame: 0-based ``index``, ``timestamp`` in seconds, the 8-bit ``image`` (grayscale, or BGR when
    read in colour; None when the frame could not be read, with the reason in ``error``) and, for folders,
    its ``file`` name."""

    index: int
    timestamp: float
    image: np.ndarray | None
    file: str | None = None
    error: str | None = None


class ClipReadError(RuntimeError):
    """A clip that cannot be read at all (missing, zero-length or undecodable video)."""


def to_gray8(image: np.ndarray) -> np.ndarray:
    """Convert any decoded image (8/16-bit or float; gray, BGR or BGRA) to 8-bit grayscale.

    16-bit images are rescaled by their full range rather than clipped, and the alpha channel is
    dropped (the colour data under it is the picture).
    """
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        data = image.astype(np.float32)
        top = 1.0 if np.nanmax(data) <= 1.0 else 255.0
        image = np.clip(np.nan_to_num(data) * (255.0 / top), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def read_image(path: Path, colour: bool = False) -> np.ndarray:
    """Decode one image file to 8-bit grayscale (or 8-bit BGR with ``colour``); raises ``ValueError``
    naming the file if unreadable."""
    raw = np.fromfile(str(path), dtype=np.uint8)
    # Decoding straight to 8-bit is the fastest path, and OpenCV rescales 16-bit data and drops alpha.
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE) if raw.size else None
    if image is None:
        raise ValueError(f"cannot decode image {path.name}")
    return image


def folder_frames(folder: Path, fps: float, colour: bool = False) -> Iterator[Frame]:
    """Frames of a folder in natural file order; timestamps are index / ``fps``."""
    for index, path in enumerate(frame_files(folder)):
        timestamp = index / fps
        try:
            yield Frame(index, timestamp, read_image(path, colour), file=path.name)
        except (ValueError, OSError, cv2.error) as exc:
            yield Frame(index, timestamp, None, file=path.name, error=str(exc))


def count_frames(path: Path, kind: str) -> int:
    """Number of frames of a clip: exact for folders, the container's estimate for videos."""
    if kind == "frames":
        return len(frame_files(path))
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    capture = cv2.VideoCapture(str(path))
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if capture.isOpened() else 0
    finally:
        capture.release()


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded video frame as 8-bit BGR (gray frames repeated over three channels)."""
    if image.dtype != np.uint8:
        image = cv2.cvtColor(to_gray8(image), cv2.COLOR_GRAY2BGR)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


_decoder_threads = 0  # FFmpeg's decoding threads per video; 0: its own choice (all cores)


def decode_on_one_thread() -> None:
    """In a worker process that shares the cores with others: FFmpeg decodes each video on one thread, so
    parallel workers do not compete for the cores each decoder would otherwise take (the decoded frames are
    the same). OpenCV's own thread pool is left alone: resizing it in a forked process can hang."""
    global _decoder_threads
    _decoder_threads = 1


def video_frames(path: Path, colour: bool = False, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
    """Frames of a video, decoded sequentially (never seeking frame by frame), with the container's
    timestamps. ``start`` / ``stop`` give a segment [start, stop): the decoder is placed once at ``start``
    (one seek to the segment's first frame, checked) and reads on from there."""
    if path.stat().st_size == 0:
        raise ClipReadError(f"video {path} is empty (0 bytes)")
    threads = [cv2.CAP_PROP_N_THREADS, _decoder_threads] if _decoder_threads else []
    capture = cv2.VideoCapture(str(path), cv2.CAP_ANY, threads)
    if not capture.isOpened():
        raise ClipReadError(f"cannot open video {path}: not a video OpenCV/FFmpeg can decode")
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    try:
        if start:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            if int(capture.get(cv2.CAP_PROP_POS_FRAMES)) != start:
                raise ClipReadError(f"video {path} cannot be entered at frame {start}: its container does not "
                                    f"index frames; extract it whole (--segment-frames 0)")
        index = start
        while stop is None or index < stop:
            ok, image = capture.read()
            if not ok:
                break
            msec = capture.get(cv2.CAP_PROP_POS_MSEC)
            timestamp = msec / 1000.0 if msec > 0 or index == 0 else (index / fps if fps > 0 else float(index))
            yield Frame(index, timestamp, to_bgr8(image) if colour else to_gray8(image))
            index += 1
        if index == 0:  # a later segment may lie past the container's over-estimated end: it is just empty
            raise ClipReadError(f"video {path} has no decodable frame")
    finally:
        capture.release()


def clip_frames(path: Path, kind: str, fps: float = 30.0, colour: bool = False, start: int = 0,
                stop: int | None = None) -> Iterator[Frame]:
    """Frames of one clip of either kind, grayscale (what the tracker reads) or BGR with ``colour``; of
    the segment [start, stop) of a video when given."""
    if kind == "video":
        return video_frames(path, colour, start, stop)
    if kind == "frames":
        return folder_frames(path, fps, colour)
    raise ClipReadError(f"{path} holds no frames")
